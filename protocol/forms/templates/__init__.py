"""Template files (JSON data); a package only so that wheels ship the files."""
