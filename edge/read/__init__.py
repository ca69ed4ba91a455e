"""From aligned pages to numbers: boxes through the model, bubbles by fill, the X grammar."""
