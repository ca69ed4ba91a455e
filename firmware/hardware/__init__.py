"""The kit's buttons, LEDs and buzzer over gpiozero, and the light-and-sound patterns.

Modules: ``pins`` (which gpiozero pin factory), ``patterns`` (every signal's lights and
beeps as data, and the trainer's printable table), ``buttons`` (PINDAI: press = capture,
hold = cancel; KONFIRMASI), ``lights`` (three LEDs and a buzzer playing a pattern),
``panel`` (all of it from the kit.toml's [gpio] section).
"""
