"""The kit's camera: one full-resolution still per page.

Modules: ``base`` (the Camera protocol and the Capture it returns), ``picamera`` (the boom's
camera on Raspberry Pi OS; picamera2 is imported only when that backend starts), ``files``
(images from files, in order), ``synth`` (synthesized, photographed forms for the demo and
training rooms), ``select`` (kit.toml's [camera] backend chooses).
"""
