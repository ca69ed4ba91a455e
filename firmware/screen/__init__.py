"""The kit's screen: what the KPPS reads, at arm's length, late at night.

Modules: ``base`` (the views the kit shows, their tones, the Screen and Display protocols),
``draw`` (text no smaller than 24 px capitals, bands, button keys, and the record of what
was drawn), ``compose`` (each view laid out on the panel, the title band in the view's tone,
what each button does now; the LATIHAN band of a training kit is drawn here, once, so no
screen can forget it), ``look`` (one doubtful field: its handwriting large beside the
value), ``crop`` (a field cut from the photo), ``words`` (numbers, pages and rules in
Indonesian), ``files`` (PNGs and a text log, for tests and development), ``framebuffer``
(/dev/fb0 on the kit), ``select`` (kit.toml's [screen]).
"""
