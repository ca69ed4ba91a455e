"""The kit's one configuration file (TOML), written by provisioning and read by the kit.

Unknown keys are refused and every field is described, so a typo in the field is an error
at start-up (``tps-kit run --validate-config``) rather than a silent default on election night.
Relative paths are relative to the directory holding the file, so a bundle can be copied
anywhere as a whole.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from protocol import tps as tps_codes
from protocol.errors import FieldError
from protocol.ids import check_id

CONFIG_FILE = "kit.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KitIdentity(_Section):
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


class FormSettings(_Section):
    ids: list[str] = Field(min_length=1, description="form template ids this kit scans")


class KitConfig(_Section):
    kit: KitIdentity
    paths: KitPaths = Field(default_factory=KitPaths)
    broker: BrokerSettings
    forms: FormSettings

    def resolve(self, path: Path, base: Path) -> Path:
        return path if path.is_absolute() else base / path


def load_kit_config(path: Path) -> KitConfig:
    """Read and validate a kit.toml; raise FieldError naming the bad key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise FieldError(str(path), "no such configuration file") from e
    except tomllib.TOMLDecodeError as e:
        raise FieldError(str(path), f"not valid TOML: {e}") from e
    return parse_kit_config(data)


def parse_kit_config(data: dict[str, Any]) -> KitConfig:
    try:
        return KitConfig.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, FieldError):
            raise FieldError(cause.field, cause.reason) from e
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise FieldError(where, message) from e


def dump_kit_config(config: KitConfig) -> bytes:
    return tomli_w.dumps(config.model_dump(mode="json")).encode("utf-8")
