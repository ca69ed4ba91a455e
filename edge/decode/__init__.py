"""The form's arithmetic as a safety net: rules over a whole form, constraint-aware decoding,
per-field decisions (read, corrected, doubtful) and the form's verdict.

Modules: ``evidence`` (what boxes and bubbles say about each field, as costs), ``search``
(the exact bounded search for the most probable consistent reading), ``decide`` (decisions,
paper mistakes, verdict), ``names`` (the Indonesian words on the screen), ``signing`` (the
signed document's evidence).
"""
