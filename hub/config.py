"""The hub's one configuration file (hub.toml), validated like the kit's (protocol/kitconfig).

Unknown keys are refused and every field is described, so a typo is an error at start-up
(``tps-hub run --validate-config``), not a silent default on election night. Relative paths
(and a relative SQLite database path) are relative to the directory holding the file.

Example::

    [hub]
    id = "hub-3171"
    log_id = "log-3171"

    [paths]
    key = "hub.key.pem"
    certificate = "hub.cert.pem"
    ca_certificate = "ca.cert.pem"
    registry = "registry.json"

    [database]
    url = "hub.sqlite3"            # or "postgresql://hub@db.example/tps"

    [broker]
    host = "mqtt.example"

    [api]
    host = "127.0.0.1"             # the dashboard and JSON API (`tps-hub serve`)
    port = 8080

    [[witnesses.witness]]          # asked by `tps-hub cosign`, published by the API
    url = "http://w1.example:8090"
    vkey = "saksi.partai-x.example/w1+1a2b3c4d+BN..."
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.errors import ConfigError
from hub.translog.cosigning import WitnessEndpoint, WitnessPolicy
from protocol import note
from protocol.configfile import parse_model, read_toml
from protocol.errors import FieldError, ProtocolError
from protocol.ids import TRAINING_LOG_SUFFIX, check_id
from protocol.tiles import MAX_ENTRY

CONFIG_FILE = "hub.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubIdentity(_Section):
    id: str = Field(description="this worker's id: its certificate's CN, named in every ack")
    log_id: str = Field(
        description="the transparency log's id, signed into every tree head; training "
        f"results go to the log '<log_id>{TRAINING_LOG_SUFFIX}'"
    )

    @field_validator("id", "log_id")
    @classmethod
    def _ids(cls, v: str, info: Any) -> str:
        check_id(v, f"hub.{info.field_name}")
        if info.field_name == "log_id":
            check_id(v + TRAINING_LOG_SUFFIX, "hub.log_id (with its training suffix)")
        return v


class HubPaths(_Section):
    key: Path = Field(Path("hub.key.pem"), description="the hub's Ed25519 key (mode 0600)")
    certificate: Path = Field(Path("hub.cert.pem"), description="the hub's certificate")
    ca_certificate: Path = Field(Path("ca.cert.pem"), description="the region CA certificate")
    crl: Path | None = Field(
        None, description="the region's CRL; if absent, the registry's CRL is used"
    )
    registry: Path | None = Field(
        None, description="the region's registry (tps-provision registry export)"
    )
    manifests: list[Path] = Field(
        default_factory=list,
        description="the region's signed election manifests (tps-provision election make): "
        "names of regions and candidates, TPS expected, each TPS's registered voters",
    )
    citizen_reports: Path | None = Field(
        None,
        description="a SQLite file for citizens' reports that a TPS's photo and numbers "
        "disagree (kept apart from the results, never counted); unset: the API takes none",
    )


class DatabaseSettings(_Section):
    url: str = Field(
        "hub.sqlite3",
        description="a SQLite file path (or sqlite:PATH), or a postgresql:// DSN; with "
        "several workers use PostgreSQL, the one source of truth",
    )
    cache_mb: int = Field(
        256,
        ge=2,
        le=65536,
        description="SQLite only: the storing connection's page cache in MB (SQLite's own is "
        "2 MB; at 150,000 results 256 MB ingested 7 % faster in one run, and 2 GB was no "
        "faster than 256 MB at a million); PostgreSQL sizes its cache in its own "
        "configuration",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("database.url is empty")
        return v

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith(("postgresql://", "postgres://"))


class BrokerSettings(_Section):
    host: str = Field(description="the hub site's MQTT broker host (as its certificate names)")
    port: int = Field(8883, ge=1, le=65535, description="the broker's TLS port")
    keepalive: int = Field(30, ge=5, le=600, description="MQTT keepalive in seconds")
    session_expiry: int = Field(
        7 * 24 * 3600,
        ge=60,
        description="seconds the broker keeps this worker's session (and queues results "
        "for it) while it is away",
    )
    share_group: str = Field("hub", description="the shared-subscription group of all workers")
    batch: int = Field(
        500,
        ge=1,
        le=1000,
        description="messages stored per transaction at most; the worker lets the broker "
        "send twice this many unacknowledged (its MQTT receive maximum), so the next batch "
        "is judged while one is stored",
    )

    @field_validator("share_group")
    @classmethod
    def _group(cls, v: str) -> str:
        return check_id(v, "broker.share_group")


class SizeLimits(_Section):
    max_result_bytes: int = Field(
        MAX_ENTRY,
        ge=1024,
        description=f"largest signed result, at most {MAX_ENTRY}: every accepted result is "
        "an entry of the log, and a tlog-tiles entry bundle holds none larger",
    )
    max_image_bytes: int = Field(16 << 20, ge=1024, description="largest page image")
    rejected_raw_bytes: int = Field(
        64 << 10, ge=0, description="bytes of a rejected message kept as evidence"
    )
    clock_skew_s: int = Field(
        600,
        ge=0,
        description="seconds a kit's signed capture time may be ahead of the hub's clock "
        "before the result is flagged (clock-ahead); the time never orders versions",
    )

    @field_validator("max_result_bytes")
    @classmethod
    def _fits_an_entry(cls, v: int) -> int:
        # A larger result would be accepted and logged, and then no entry bundle holding it
        # could be written (a uint16 length prefix): its 256 neighbours unservable too.
        if v > MAX_ENTRY:
            raise ValueError(
                f"limits.max_result_bytes {v} is above {MAX_ENTRY}, the largest entry a "
                "tlog-tiles entry bundle holds (every accepted result is a log entry)"
            )
        return v


class ApiSettings(_Section):
    host: str = Field(
        "127.0.0.1",
        description="address the HTTP API and dashboard listen on; 0.0.0.0 for every "
        "interface (put a TLS reverse proxy in front when the public reads it)",
    )
    port: int = Field(8080, ge=1, le=65535, description="the HTTP port")
    silent_after: int = Field(
        60,
        ge=1,
        le=7 * 24 * 60,
        description="minutes without a word from a kit before it is shown offline (silent)",
    )
    images_after: int = Field(
        60,
        ge=1,
        le=7 * 24 * 60,
        description="minutes after a result before a page photo it names and the hub still "
        "lacks is listed as missing (the kit sends numbers first, photos when the link allows)",
    )
    store_connections: int = Field(
        8,
        ge=1,
        le=64,
        description="read-only database connections the API keeps for concurrent requests; "
        "with PostgreSQL, count them against its max_connections beside every worker's one",
    )


class IngestSettings(_Section):
    workers: int | None = Field(
        None,
        ge=0,
        le=64,
        description="processes that judge received results (signature, certificate and "
        "document checks) beside the one that stores them; 0 judges in the storing "
        "process; default: one fewer than the CPU cores (at least one)",
    )

    @property
    def judging_processes(self) -> int:
        if self.workers is not None:
            return self.workers
        # The cores this process may run on (taskset, systemd CPUAffinity), not the machine's,
        # less the one the storing process (with the ack signer) keeps busy: measured on 2
        # cores, one judging process ingested 15 % more through the broker than two.
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        return max(1, cores - 1)


class WitnessEntry(_Section):
    url: str = Field(description="the witness's address; the hub posts to <url>/add-checkpoint")
    vkey: str = Field(
        description="its cosignature verifier key, as `tps-hub witness --print-vkey` prints it"
    )

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urllib.parse.urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{v!r} is not an http(s) address")
        return v

    @field_validator("vkey")
    @classmethod
    def _vkey(cls, v: str) -> str:
        try:
            kind = note.parse_vkey(v).kind
        except ProtocolError as e:
            raise ValueError(str(e)) from e
        if kind != note.COSIGNATURE:
            raise ValueError("a witness's key is a cosignature key (type 0x04)")
        return v

    def endpoint(self) -> WitnessEndpoint:
        return WitnessEndpoint(self.url, note.parse_vkey(self.vkey))


class WitnessSettings(_Section):
    every_s: float = Field(
        10.0, ge=1, description="seconds between the rounds in which `tps-hub cosign` asks"
    )
    witness: list[WitnessEntry] = Field(
        default_factory=list,
        description="the witnesses asked to cosign every log's checkpoints; the API publishes "
        "them, so a reader can tell a witness never asked from one that refused",
    )

    @field_validator("witness")
    @classmethod
    def _distinct(cls, v: list[WitnessEntry]) -> list[WitnessEntry]:
        names = [note.parse_vkey(w.vkey).name for w in v]
        if len(set(names)) != len(names):
            raise ValueError(f"a witness is listed twice: {sorted(names)}")
        return v

    def policy(self) -> WitnessPolicy:
        return WitnessPolicy(tuple(w.endpoint() for w in self.witness), self.every_s)


class HubConfig(_Section):
    hub: HubIdentity
    paths: HubPaths = Field(default_factory=HubPaths)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    broker: BrokerSettings | None = Field(None, description="needed by `tps-hub run` only")
    limits: SizeLimits = Field(default_factory=SizeLimits)
    ingest: IngestSettings = Field(
        default_factory=IngestSettings, description="how received results are judged"
    )
    api: ApiSettings = Field(
        default_factory=ApiSettings, description="the HTTP API and dashboard (`tps-hub serve`)"
    )
    witnesses: WitnessSettings = Field(
        default_factory=WitnessSettings,
        description="the witnesses the hub asks for cosignatures (`tps-hub cosign`)",
    )

    @property
    def training_log_id(self) -> str:
        return self.hub.log_id + TRAINING_LOG_SUFFIX

    def resolved(self, base: Path) -> HubConfig:
        """The same configuration with every relative path made relative to ``base``."""

        relative = {
            name: base / value
            for name in HubPaths.model_fields
            if isinstance(value := getattr(self.paths, name), Path) and not value.is_absolute()
        }
        relative["manifests"] = [base / p for p in self.paths.manifests]  # base / absolute = it
        paths = self.paths.model_copy(update=relative)
        database = self.database
        if not database.is_postgres:
            file = Path(database.url.removeprefix("sqlite:").removeprefix("//"))
            if not file.is_absolute():
                database = DatabaseSettings(url=str(base / file))
        return self.model_copy(update={"paths": paths, "database": database})


def load_hub_config(path: Path) -> HubConfig:
    """Read and validate a hub.toml (paths resolved); raise ConfigError naming the bad key."""
    try:
        data = read_toml(path)
    except FieldError as e:
        raise ConfigError(e.field, e.reason) from e
    return parse_hub_config(data).resolved(path.resolve().parent)


def parse_hub_config(data: dict[str, Any]) -> HubConfig:
    try:
        return parse_model(HubConfig, data)
    except FieldError as e:
        raise ConfigError(e.field, e.reason) from e
