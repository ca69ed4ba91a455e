"""The camera's settings derive from the boom's geometry; --validate-config says what follows."""

from __future__ import annotations

import pytest

from firmware.validate import validate
from protocol import boom
from protocol.kitconfig import CameraSettings, dump_kit_config, load_kit_config


def test_the_boom_puts_the_plano_sheet_at_the_scale_the_reader_is_built_for():
    assert boom.focus_dioptres(912) == 1.096
    width, height = boom.table_view_mm(912, 66, (4608, 2592))
    assert round(width) == 1185 and round(height) == 666
    px_mm, across, along = boom.sheet_in_frame((600, 900), 912, 66, (4608, 2592))
    assert round(px_mm, 1) == 3.9 and round(across, 2) == 0.76 and round(along, 2) == 0.90
    assert boom.flicker_period_us(50) == 10_000 and boom.flicker_period_us(60) == 8_333


def test_camera_defaults_derive_from_the_boom_and_follow_its_height():
    camera = CameraSettings()
    assert camera.size == boom.SENSOR_PX
    assert camera.focus == 1.096
    assert camera.exposure_us == 2 * boom.flicker_period_us(50)
    assert CameraSettings(boom_height_mm=1250).focus == 0.8
    assert CameraSettings(boom_height_mm=1250, lens_position=0.7).focus == 0.7


def test_an_unset_lens_position_stays_unset_in_kit_toml(kit_config):
    path = kit_config(camera={"backend": "picamera2", "boom_height_mm": 1000.0})
    text = path.read_text()
    assert "boom_height_mm = 1000.0" in text and "lens_position =" not in text
    assert load_kit_config(path).camera.focus == 1.0
    assert dump_kit_config(load_kit_config(path)) == path.read_bytes()


def lines(report):
    return "\n".join(report.ok), "\n".join(report.problems)


def test_validate_config_reports_what_the_camera_will_see(kit_config):
    ok, problems = lines(validate(kit_config(camera={"backend": "picamera2"})))
    assert "camera: 4608 x 2592 px, 912 mm above the table, focus 1.096 dioptres" in ok
    assert "exposure 20000 us = 2 flicker period(s) of lamps on 50 Hz mains" in ok
    assert "a 900 x 600 mm page at 3.9 px/mm (a 10 mm box 39 px), filling 76% x 90%" in ok
    assert "picamera2 is not available" in problems  # this is not Raspberry Pi OS


@pytest.mark.parametrize(
    ("camera", "problem"),
    [
        ({"exposure_us": 15_000}, "is not a multiple of 10000"),
        ({"mains_hz": 60}, "is not a multiple of 8333"),
        ({"boom_height_mm": 700}, "fills 99% x 117% of the frame: raise the boom"),
        ({"boom_height_mm": 1500, "lens_hfov_deg": 102}, "is 1.2 px/mm (a 10 mm box 12 px)"),
    ],
)
def test_validate_config_refuses_a_camera_set_up_that_cannot_read(kit_config, camera, problem):
    _, problems = lines(validate(kit_config(camera={"backend": "picamera2", **camera})))
    assert problem in problems
