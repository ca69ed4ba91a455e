"""The boom's camera on Raspberry Pi OS, through picamera2 (libcamera).

picamera2 needs libcamera's Python bindings, which exist only on Raspberry Pi OS: it is
imported when this backend starts, never at import time, and its absence is a start-up
error that says what to install. Resolution, focus, exposure, gain and white balance are
fixed from kit.toml's [camera] (whose defaults derive from the boom: protocol/boom.py): the
boom height and the lamp do not change during a count, and autofocus or auto-exposure
hunting over a white sheet costs sharpness and contrast exactly where the digits are.
"""

from __future__ import annotations

import io
from typing import Any

from firmware.camera.base import CameraError, Capture, decode_grey
from protocol.kitconfig import AWB_MODES, CameraSettings

INSTALL_HINT = (
    "picamera2 is not available: on Raspberry Pi OS install it with "
    "`sudo apt install python3-picamera2` and create the kit's venv with "
    "--system-site-packages (or `pip install tps-kit[pi]`); on another machine use "
    '[camera] backend = "files" or "synth"'
)
AF_MANUAL = 0  # libcamera's AfModeEnum.Manual: the lens stays at LensPosition


def import_picamera2() -> Any:
    try:
        import picamera2
    except ImportError as e:
        raise CameraError(INSTALL_HINT, "Kamera tidak terpasang: hubungi teknisi") from e
    return picamera2


def still_controls(settings: CameraSettings) -> dict[str, Any]:
    """libcamera controls for the boom: manual focus on the table, fixed exposure and gain,
    and white balance either fixed gains or a search limited to the lamp's range."""
    controls: dict[str, Any] = {
        "AfMode": AF_MANUAL,
        "LensPosition": settings.focus,
        "AeEnable": False,
        "ExposureTime": settings.exposure_us,
        "AnalogueGain": settings.analogue_gain,
    }
    if settings.colour_gains is not None:
        controls["AwbEnable"] = False
        controls["ColourGains"] = tuple(settings.colour_gains)
    else:
        controls["AwbEnable"] = True
        controls["AwbMode"] = AWB_MODES.index(settings.awb_mode)
    return controls


class PiCamera:
    """JPEG stills at kit.toml's resolution from the first camera, opened on construction."""

    def __init__(self, settings: CameraSettings, *, module: Any = None) -> None:
        picamera2 = module or import_picamera2()
        try:
            self._camera = picamera2.Picamera2()
            sensor = tuple(self._camera.sensor_resolution)
            if settings.width > sensor[0] or settings.height > sensor[1]:
                raise CameraError(
                    f"kit.toml's [camera] asks for {settings.width} x {settings.height} px but "
                    f"this sensor gives at most {sensor[0]} x {sensor[1]}: set [camera] width "
                    "and height (and lens_hfov_deg) for the camera fitted",
                    "Kamera tidak sesuai konfigurasi: hubungi teknisi",
                )
            config = self._camera.create_still_configuration(main={"size": settings.size})
            self._camera.configure(config)
            self._camera.options["quality"] = settings.jpeg_quality
            self._camera.set_controls(self._supported(still_controls(settings)))
            self._camera.start()
        except CameraError:
            raise
        except Exception as e:  # libcamera reports a missing or busy camera many ways
            raise CameraError(f"the camera did not start: {e}") from e

    def _supported(self, controls: dict[str, Any]) -> dict[str, Any]:
        """Only the controls this sensor has: a fixed-focus module has no AfMode/LensPosition."""
        available = getattr(self._camera, "camera_controls", None) or controls
        return {k: v for k, v in controls.items() if k in available}

    def capture(self) -> Capture:
        buffer = io.BytesIO()
        try:
            self._camera.capture_file(buffer, format="jpeg")
        except Exception as e:
            raise CameraError(f"the camera did not take the picture: {e}") from e
        data = buffer.getvalue()
        return Capture(decode_grey(data, "the camera's still"), data)

    def close(self) -> None:
        self._camera.stop()
        self._camera.close()
