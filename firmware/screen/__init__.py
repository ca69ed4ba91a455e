"""The kit's screen: review card, status lines and the signed receipt.

Modules: ``base`` (the Screen protocol the kit uses, the Display protocol a backend
implements), ``compose`` (drawing each screen; the LATIHAN band of a training kit is drawn
here, once, so no screen can forget it), ``files`` (PNGs and a text log, for tests and
development), ``framebuffer`` (/dev/fb0 on the kit), ``select`` (kit.toml's [screen]).
"""
