"""The kit's one configuration file (TOML), written by provisioning and read by the kit.

Unknown keys are refused and every field is described, so a typo in the field is an error
at start-up (``tps-kit run --validate-config``) rather than a silent default on election night.
Relative paths are relative to the directory holding the file, so a bundle can be copied
anywhere as a whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, field_validator

from protocol import boom
from protocol import tps as tps_codes
from protocol.configfile import parse_model, read_toml
from protocol.ids import TRAINING_LOG_SUFFIX, check_id
from protocol.receipt import check_public_url

CONFIG_FILE = "kit.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KitSection(_Section):
    id: str = Field(description="the kit id its certificate names (CN and urn:x-tps:kit:)")
    tps: str = Field(description="the TPS code the certificate binds, PP.KK.CC.DDDD.TTT")
    election: str = Field(description="the election id the certificate binds")
    region: str = Field(description="the region code of the issuing CA, e.g. 31.71")

    @field_validator("id", "election")
    @classmethod
    def _ids(cls, v: str, info: Any) -> str:
        return check_id(v, f"kit.{info.field_name}")

    @field_validator("tps")
    @classmethod
    def _tps(cls, v: str) -> str:
        return str(tps_codes.parse(v, field="kit.tps"))


class KitPaths(_Section):
    key: Path = Field(Path("kit.key.pem"), description="the kit's private key (mode 0600)")
    certificate: Path = Field(Path("kit.cert.pem"), description="the kit's certificate")
    ca_certificate: Path = Field(Path("ca.cert.pem"), description="the region CA certificate")
    state_dir: Path = Field(
        Path("state"), description="where the outbox and sequence counter live (kept on upgrade)"
    )


class BrokerSettings(_Section):
    host: str = Field(description="the hub site's MQTT broker host name or address")
    port: int = Field(8883, ge=1, le=65535, description="the broker's TLS port")
    keepalive: int = Field(30, ge=5, le=600, description="MQTT keepalive in seconds")


class HubSettings(_Section):
    """The regional hub as the public reaches it."""

    public_url: str = Field(
        "",
        description="the hub's public web address, e.g. https://hasil.kpu-3171.example: the "
        "receipt's QR code opens its /tanda-terima page for that receipt; empty: the QR code "
        "holds the receipt's text (TPSR1|...)",
    )

    log_id: str = Field(
        "",
        description="the hub's transparency log (hub.toml's hub.log_id): an accepted ack "
        f"must prove the result in it ('<log_id>{TRAINING_LOG_SUFFIX}' for a training "
        "election's kit); empty: in any log a hub of the region signs",
    )

    @field_validator("public_url")
    @classmethod
    def _url(cls, v: str) -> str:
        return v if v == "" else check_public_url(v)

    @field_validator("log_id")
    @classmethod
    def _log(cls, v: str) -> str:
        if v:
            check_id(v, "hub.log_id")
            check_id(v + TRAINING_LOG_SUFFIX, "hub.log_id (with its training suffix)")
        return v


class FormSettings(_Section):
    ids: list[str] = Field(min_length=1, description="form template ids this kit scans")


AwbMode = Literal["auto", "incandescent", "tungsten", "fluorescent", "indoor", "daylight", "cloudy"]
AWB_MODES: tuple[str, ...] = get_args(AwbMode)  # in libcamera's AwbModeEnum order


class CameraSettings(_Section):
    """The camera on the boom. Focus, exposure and white balance are fixed: the table, the
    boom height and the lamp never change during a count, and auto-exposure hunting over a
    white sheet with dark ink costs contrast in exactly the boxes that matter. The defaults
    derive from the boom (protocol.boom): a Camera Module 3 912 mm above the table, a lamp
    at night on 50 Hz mains."""

    backend: Literal["picamera2", "files", "synth"] = Field(
        "picamera2",
        description="picamera2 on the kit; files (images in order) or synth (synthesized "
        "pages) for development, tests, training rooms and the demo",
    )
    width: int = Field(boom.SENSOR_PX[0], ge=640, le=9152, description="still width (px)")
    height: int = Field(boom.SENSOR_PX[1], ge=480, le=6944, description="still height (px)")
    boom_height_mm: float = Field(
        boom.BOOM_HEIGHT_MM, ge=200, le=3000, description="the lens's height above the table"
    )
    lens_hfov_deg: float = Field(
        boom.LENS_HFOV_DEG,
        gt=10,
        lt=180,
        description="the lens's horizontal field of view (Camera Module 3: 66; wide: 102)",
    )
    lens_position: float | None = Field(
        None,
        ge=0.0,
        le=32.0,
        description="fixed focus in dioptres (1/m); unset: 1000 / boom_height_mm, the table",
    )
    mains_hz: Literal[50, 60] = Field(
        boom.MAINS_HZ, description="the mains frequency the room's lamps flicker at twice of"
    )
    exposure_us: int = Field(
        boom.FLICKER_PERIODS * boom.flicker_period_us(boom.MAINS_HZ),
        ge=100,
        le=1_000_000,
        description="fixed exposure time (µs); a whole number of flicker periods "
        "(10,000 µs on 50 Hz mains) keeps the lamp's flicker out of the picture",
    )
    analogue_gain: float = Field(
        1.0,
        ge=1.0,
        le=16.0,
        description="fixed sensor gain: 1.0 for the kit's lamp (about 400 lux on the sheet); "
        "raise it, not the exposure, for a dimmer room",
    )
    awb_mode: AwbMode = Field(
        "indoor",
        description="white balance search range: indoor (3000-5000 K) suits the kit's "
        "neutral-white lamp and a hall's tubes at night; ignored when colour_gains is set",
    )
    colour_gains: tuple[float, float] | None = Field(
        None,
        description="fixed red and blue gains (white balance off), e.g. read once from a "
        "bench still of the lamp; unset: awb_mode",
    )
    jpeg_quality: int = Field(92, ge=50, le=100, description="JPEG quality of the stored still")
    files: list[Path] = Field(
        default_factory=list, description="files backend: image files or folders, in order"
    )
    loop: bool = Field(False, description="files backend: start again after the last image")
    digits: str = Field(
        "",
        description="synth backend: an IDX digit set (base path, as protocol.idx reads it) "
        "for the handwriting (needed by that backend)",
    )
    seed: int = Field(0, ge=0, description="synth backend: seed of the synthesized forms")

    @property
    def focus(self) -> float:
        """The lens position in dioptres: as set, or the table at the boom's height."""
        if self.lens_position is not None:
            return self.lens_position
        return boom.focus_dioptres(self.boom_height_mm)

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)


class GpioSettings(_Section):
    """Buttons, LEDs and buzzer (BCM pin numbers)."""

    pin_factory: str = Field(
        "",
        description="gpiozero pin factory (lgpio, rpigpio, pigpio, native, mock); empty = "
        "GPIOZERO_PIN_FACTORY or gpiozero's own choice",
    )
    scan: int = Field(17, ge=0, le=53, description="PINDAI (scan) button, to ground")
    confirm: int = Field(27, ge=0, le=53, description="KONFIRMASI (confirm) button, to ground")
    green: int = Field(22, ge=0, le=53, description="green LED")
    amber: int = Field(23, ge=0, le=53, description="amber LED")
    red: int = Field(24, ge=0, le=53, description="red LED")
    buzzer: int = Field(25, ge=0, le=53, description="active buzzer")
    hold_cancel_s: float = Field(
        3.0, ge=0.05, le=30.0, description="holding PINDAI this long cancels the form"
    )


class ScreenSettings(_Section):
    """The kit's small screen."""

    backend: Literal["framebuffer", "files"] = Field(
        "framebuffer", description="framebuffer (HDMI or DSI panel) or files (PNG + text log)"
    )
    device: Path = Field(Path("/dev/fb0"), description="framebuffer device")
    directory: Path = Field(Path("screen"), description="files backend: where screens go")
    width: int = Field(800, ge=240, le=3840, description="screen width in pixels")
    height: int = Field(480, ge=160, le=2160, description="screen height in pixels")


class KitConfig(_Section):
    kit: KitSection
    paths: KitPaths = Field(default_factory=KitPaths)
    broker: BrokerSettings
    hub: HubSettings = Field(default_factory=HubSettings)
    forms: FormSettings
    camera: CameraSettings = Field(default_factory=CameraSettings)
    gpio: GpioSettings = Field(default_factory=GpioSettings)
    screen: ScreenSettings = Field(default_factory=ScreenSettings)

    def resolve(self, path: Path, base: Path) -> Path:
        return path if path.is_absolute() else base / path


def load_kit_config(path: Path) -> KitConfig:
    """Read and validate a kit.toml; raise FieldError naming the bad key."""
    return parse_kit_config(read_toml(path))


def parse_kit_config(data: dict[str, Any]) -> KitConfig:
    return parse_model(KitConfig, data)


def dump_kit_config(config: KitConfig) -> bytes:
    return tomli_w.dumps(config.model_dump(mode="json", exclude_none=True)).encode("utf-8")
