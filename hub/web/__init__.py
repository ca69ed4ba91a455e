"""The public pages as people read them: served HTML that needs no JavaScript, the vote
chart (SVG), numbers and times written the Indonesian way, anomalies in sentences."""
