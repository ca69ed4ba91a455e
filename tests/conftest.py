"""Fixtures shared across the suite: a real region CA with enrolled kits, in a temp dir."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.outbox import Entry, Outbox
from protocol import keys
from protocol.document import GENESIS, DecidedResult, ResultDocument, evidence, parse_document
from provisioning import authority as ca
from provisioning import enrol

pytest_plugins = ["tests.fixtures_broker", "tests.fixtures_postgres"]

PASSPHRASE = b"correct horse battery"
ELECTION = "pemilu-2024"


@dataclass
class Region:
    """A region CA on disk with some enrolled kit directories."""

    root: Path
    authority: ca.Authority

    @property
    def ca_dir(self) -> Path:
        return self.authority.directory

    def kit(self, tps: str, election: str = ELECTION) -> enrol.EnrolledKit:
        out = self.root / "kits"
        out.mkdir(exist_ok=True)
        return enrol.enrol_kit(self.authority, tps=tps, election=election, out=out)


@pytest.fixture
def region(tmp_path: Path) -> Region:
    authority = ca.init_ca(
        tmp_path / "ca", region="31.71", name="KPU Kota Uji", passphrase=PASSPHRASE, days=30
    )
    return Region(tmp_path, authority)


def make_document(kit: enrol.EnrolledKit, **changes: Any) -> ResultDocument:
    """A consistent PPWP result document for ``kit``; keyword arguments override fields."""
    fields = {"IV.1": 112, "IV.2": 97, "IV.3": 41, "V.A": 250, "V.B": 6, "V.C": 256}
    value: dict[str, Any] = {
        "format": "tps-result/1",
        "election": kit.election,
        "form": "ppwp-plano",
        "form_version": 1,
        "tps": kit.tps,
        "kit": kit.kit_id,
        "seq": 1,
        "captured_at": "2024-02-14T19:03:00Z",
        "fields": fields,
        "evidence": {k: {"confidence": 9990, "decision": "read"} for k in fields},
        "pages": [{"page": 2, "sha256": hashlib.sha256(b"p2").hexdigest()}],
        "model_sha256": hashlib.sha256(b"model").hexdigest(),
        "template_sha256": hashlib.sha256(b"template").hexdigest(),
        "prev_sha256": GENESIS,
    }
    value.update(changes)
    return parse_document(value)


def kit_key(kit: enrol.EnrolledKit) -> Any:
    assert kit.directory is not None
    return keys.load_private_key(kit.directory / enrol.KEY_FILE)


def make_decided(kit: enrol.EnrolledKit, **changes: Any) -> DecidedResult:
    """:func:`make_document`'s result before the outbox seals it (no seq, previous hash or
    page hashes); keyword arguments override fields."""
    fields = {"IV.1": 112, "IV.2": 97, "IV.3": 41, "V.A": 250, "V.B": 6, "V.C": 256}
    value: dict[str, Any] = {
        "election": kit.election,
        "form": "ppwp-plano",
        "form_version": 1,
        "tps": kit.tps,
        "kit": kit.kit_id,
        "captured_at": dt.datetime(2024, 2, 14, 19, 3, tzinfo=dt.UTC),
        "fields": fields,
        "evidence": {k: evidence(9990, "read") for k in fields},
        "model_sha256": hashlib.sha256(b"model").hexdigest(),
        "template_sha256": hashlib.sha256(b"template").hexdigest(),
    }
    value.update(changes)
    return DecidedResult(**value)


def seal_next(
    outbox: Outbox, kit: enrol.EnrolledKit, images: Mapping[int, bytes], **changes: Any
) -> Entry:
    """Seal the next result of ``kit``'s chain in ``outbox``, as the firmware does."""
    return outbox.seal(make_decided(kit, **changes), images, kit_key(kit), kit.certificate)
