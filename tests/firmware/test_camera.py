"""Camera backends: files in order, the config's choice, picamera2's absence explained."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pytest

from firmware.camera.base import CameraError
from firmware.camera.files import FileCamera
from firmware.camera.picamera import PiCamera, still_controls
from firmware.camera.select import open_camera
from protocol.kitconfig import CameraSettings, parse_kit_config

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

DIGITS = Path(__file__).parents[1] / "fixtures" / "digits" / "heldout-300"


def png(path, value: int) -> None:
    cv2.imwrite(str(path), np.full((8, 8), value, np.uint8))


def test_files_camera_serves_images_in_order_then_says_so(tmp_path):
    for name, value in (("b.png", 20), ("a.png", 10), ("notes.txt", 0)):
        png(tmp_path / name, value) if name.endswith("png") else (tmp_path / name).write_text("x")
    camera = FileCamera([tmp_path])  # a folder: its images in name order
    first, second = camera.capture(), camera.capture()
    assert (first.frame[0, 0], second.frame[0, 0]) == (10, 20)
    assert first.data == (tmp_path / "a.png").read_bytes()  # the bytes whose hash is signed
    with pytest.raises(CameraError, match="no more images"):
        camera.capture()
    looping = FileCamera([tmp_path / "b.png"], loop=True)
    assert looping.capture().data == looping.capture().data


def test_files_camera_refuses_what_is_not_an_image(tmp_path):
    (tmp_path / "x.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(CameraError, match="not an image"):
        FileCamera([tmp_path / "x.jpg"]).capture()


def test_config_chooses_the_backend(tmp_path):
    png(tmp_path / "p.png", 5)
    files = parse_kit_config({**BASE, "camera": {"backend": "files", "files": ["p.png"]}})
    assert isinstance(open_camera(files, tmp_path), FileCamera)
    synth = parse_kit_config({**BASE, "camera": {"backend": "synth", "digits": str(DIGITS)}})
    camera = open_camera(synth, tmp_path)
    assert (type(camera).__name__, camera.tps, camera.election) == (
        "SynthCamera",
        "31.71.01.1001.001",
        "pemilu-2024",
    )
    with pytest.raises(CameraError, match="needs \\[camera\\] digits"):
        open_camera(parse_kit_config({**BASE, "camera": {"backend": "synth"}}), tmp_path)


def test_the_synth_camera_serves_a_synthesized_form_page_by_page(tmp_path):
    synth = parse_kit_config(
        {**BASE, "camera": {"backend": "synth", "digits": str(DIGITS), "seed": 3}}
    )
    camera = open_camera(synth, tmp_path)
    first = camera.capture()
    assert first.frame.ndim == 2 and first.data[:2] == b"\xff\xd8"  # a JPEG, read grey
    assert camera.truth["V.C"] == camera.truth["V.A"] + camera.truth["V.B"]


def test_picamera2_is_the_default_and_its_absence_is_a_clear_error(monkeypatch, tmp_path):
    config = parse_kit_config(BASE)
    assert config.camera.backend == "picamera2"
    monkeypatch.setitem(sys.modules, "picamera2", None)  # as on Debian x86: not installable
    with pytest.raises(CameraError, match="python3-picamera2") as caught:
        open_camera(config, tmp_path)
    assert "hubungi teknisi" in caught.value.pesan


def fake_picamera2(sensor: tuple[int, int], controls: tuple[str, ...]):
    """picamera2's surface as the backend uses it, for a sensor with these controls."""

    class FakePicam:
        sensor_resolution = sensor
        camera_controls: ClassVar[dict] = dict.fromkeys(controls, 1)

        def __init__(self) -> None:
            self.options: dict = {}

        def create_still_configuration(self, main):
            return main

        def configure(self, config):
            self.config = config

        def set_controls(self, controls):
            self.controls = controls

        def start(self):
            pass

    class Module:
        Picamera2 = FakePicam

    return Module


MODULE_3 = ("AfMode", "LensPosition", "AeEnable", "ExposureTime", "AnalogueGain", "AwbEnable")
MODULE_3 += ("AwbMode", "ColourGains")


def test_picamera_defaults_focus_on_the_table_and_expose_for_a_lamp_at_night():
    camera = PiCamera(CameraSettings(), module=fake_picamera2((4608, 2592), MODULE_3))
    picam = camera._camera
    assert picam.config == {"size": (4608, 2592)}
    assert picam.controls == {
        "AfMode": 0,
        "LensPosition": 1.096,  # 1 / 0.912 m: the table below the boom
        "AeEnable": False,
        "ExposureTime": 20_000,  # two periods of a lamp flickering at 100 Hz
        "AnalogueGain": 1.0,
        "AwbEnable": True,
        "AwbMode": 4,  # libcamera's AwbIndoor
    }


def test_picamera_settings_come_from_kit_toml():
    settings = CameraSettings(
        boom_height_mm=1250,
        width=2304,
        height=1296,
        exposure_us=30_000,
        analogue_gain=2.5,
        colour_gains=(1.8, 1.6),
    )
    camera = PiCamera(settings, module=fake_picamera2((4608, 2592), MODULE_3))
    picam = camera._camera
    assert picam.config == {"size": (2304, 1296)}
    assert picam.controls["LensPosition"] == 0.8
    assert picam.controls["ExposureTime"] == 30_000 and picam.controls["AnalogueGain"] == 2.5
    assert picam.controls["AwbEnable"] is False and picam.controls["ColourGains"] == (1.8, 1.6)
    assert "AwbMode" not in picam.controls
    explicit = CameraSettings(boom_height_mm=1250, lens_position=0.75)
    assert still_controls(explicit)["LensPosition"] == 0.75


def test_a_fixed_focus_sensor_gets_only_the_controls_it_has():
    hq = fake_picamera2((4056, 3040), ("AeEnable", "ExposureTime", "AnalogueGain", "AwbEnable"))
    settings = CameraSettings(width=4056, height=3040, exposure_us=10_000)
    camera = PiCamera(settings, module=hq)
    assert camera._camera.controls == {
        "AeEnable": False,
        "ExposureTime": 10_000,
        "AnalogueGain": 1.0,
        "AwbEnable": True,
    }


def test_a_resolution_the_sensor_cannot_give_is_a_start_up_error():
    with pytest.raises(CameraError, match="at most 4056 x 3040") as caught:
        PiCamera(CameraSettings(), module=fake_picamera2((4056, 3040), MODULE_3))
    assert "hubungi teknisi" in caught.value.pesan


@pytest.mark.hardware
@pytest.mark.skipif(
    "camera" not in os.environ.get("TPS_HARDWARE", ""), reason="TPS_HARDWARE does not name camera"
)
def test_real_camera_takes_a_full_resolution_still():
    camera = PiCamera(CameraSettings())
    try:
        still = camera.capture()
    finally:
        camera.close()
    assert still.frame.shape[0] >= 2000 and still.data[:2] == b"\xff\xd8"
