"""The review card: the rectified page with each decided value beside its boxes, corrected
and doubtful fields highlighted, and the form's summary line on top (``render``)."""
