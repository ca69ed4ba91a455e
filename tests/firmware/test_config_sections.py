"""kit.toml's firmware sections: optional, defaulted for a real kit, typos refused."""

from __future__ import annotations

import pytest

from protocol.errors import FieldError
from protocol.kitconfig import dump_kit_config, parse_kit_config

BASE = {
    "kit": {
        "id": "kit-1",
        "tps": "31.71.01.1001.001",
        "election": "pemilu-2024",
        "region": "31.71",
    },
    "broker": {"host": "hub"},
    "forms": {"ids": ["ppwp-plano"]},
}


def test_a_bundle_without_the_sections_gets_the_kit_defaults():
    config = parse_kit_config(BASE)
    assert (config.camera.backend, config.screen.backend) == ("picamera2", "framebuffer")
    assert config.gpio.hold_cancel_s == 3.0 and config.gpio.pin_factory == ""
    assert b"[camera]" in dump_kit_config(config)  # written out for the technician to see


@pytest.mark.parametrize(
    ("section", "values", "where"),
    [
        ("camera", {"backend": "webcam"}, "camera.backend"),
        ("camera", {"exposure": 100}, "camera.exposure"),
        ("gpio", {"scan": 99}, "gpio.scan"),
        ("screen", {"width": 10}, "screen.width"),
    ],
)
def test_typos_and_bad_values_are_refused(section, values, where):
    with pytest.raises(FieldError, match=where.replace(".", r"\.")):
        parse_kit_config({**BASE, section: values})
