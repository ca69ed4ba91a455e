"""Batched acks at the kit: what edge.uplink.acks.apply_ack does with them on a real SQLite
outbox. A genuine batched ack (the hub's own AckSigner over a real log) finalises the
result; each forgery below is refused and leaves every byte of the outbox as it was."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.outbox import Entry, Outbox, State
from edge.uplink import settings_from_config
from edge.uplink.acks import AckRefused, AppliedVerdict, apply_ack
from hub.ingest.acks import AckSigner, accepted_value
from hub.translog import MemoryStorage, TransparencyLog
from protocol import keys
from protocol.certs import load_certificate
from protocol.ids import TRAINING_LOG_SUFFIX
from protocol.kitconfig import parse_kit_config
from protocol.result import sign_result, verify_result
from protocol.utctime import format_utc
from provisioning.enrol import EnrolledKit
from provisioning.services import enrol_service
from tests.conftest import Region, kit_key, make_document, seal_next

LOG_ID = "log-3171"
HUB_ID = "hub-3171"
TPS_A, TPS_B = "31.71.01.1001.001", "31.71.01.1001.002"
NOW = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)


@dataclass
class Hub:
    """The hub's ack signer (its key signs the checkpoints) and a log per origin it signs."""

    signer: AckSigner
    logs: dict[str, TransparencyLog] = field(default_factory=dict)

    def accept(
        self,
        entry: Entry,
        *,
        origin: str = LOG_ID,
        key: Ed25519PrivateKey | None = None,
        before: tuple[bytes, ...] = (),
        **changes: Any,
    ) -> bytes:
        """The batched ack ingest sends for ``entry`` logged in ``origin`` after ``before``,
        its checkpoint signed with ``key`` (the hub's unless given); ``changes`` replace
        fields of the ack once its proof is made."""
        log = self.logs.setdefault(origin, TransparencyLog(MemoryStorage()))
        log.append_many(before)
        (leaf,) = log.append_many([entry.signed])
        log.sign_tree_head(key or self.signer.key, origin, NOW)
        value = accepted_value(
            HUB_ID,
            kit=entry.kit,
            seq=entry.seq,
            document_sha256=entry.sha256,
            at=format_utc(NOW),
            log_index=leaf,
            proof=log.inclusion_proof(leaf),
            checkpoint=log.checkpoint(),
        )
        value.update(changes)
        (ack,) = self.signer.batched([value])
        return ack

    def proof_hex(self, leaf: int, origin: str = LOG_ID) -> list[str]:
        return [h.hex() for h in self.logs[origin].inclusion_proof(leaf)]


@pytest.fixture
def hub(region: Region) -> Hub:
    out = region.root / "hub"
    enrol_service(region.authority, role="hub", name=HUB_ID, out=out, days=30)
    key = keys.load_private_key(out / "hub.key.pem")
    return Hub(AckSigner(HUB_ID, key, load_certificate((out / "hub.cert.pem").read_bytes())))


def kit_toml(kit_id: str, tps: str, election: str) -> dict[str, Any]:
    return {
        "kit": {"id": kit_id, "tps": tps, "election": election, "region": "31.71"},
        "broker": {"host": "hub.example"},
        "hub": {"log_id": LOG_ID},  # as `tps-provision kit bundle --log-id` writes it
        "forms": {"ids": ["ppwp-plano"]},
    }


@dataclass
class Kit:
    """One kit's real outbox, and the ack handling its uplink runs."""

    region: Region
    enrolled: EnrolledKit
    outbox: Outbox
    path: Path
    log_id: str  # what its uplink expects, from its kit.toml

    def sent(self) -> Entry:
        """Seal the kit's next result and have the broker take it: it awaits a verdict."""
        sealed = seal_next(self.outbox, self.enrolled, {2: b"page 2"})
        self.outbox.mark_sent(sealed.seq)
        return self.outbox.get(sealed.seq)

    def apply(self, ack: bytes) -> AppliedVerdict:
        return apply_ack(
            self.outbox,
            ack,
            kit_id=self.enrolled.kit_id,
            ca_cert=self.region.authority.cert,
            at=NOW,
            log_id=self.log_id,
        )

    def dump(self) -> str:
        """Every row of the outbox file as SQL: what "changes nothing" is checked on."""
        db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return "\n".join(db.iterdump())
        finally:
            db.close()

    def refuses(self, ack: bytes, why: str) -> None:
        before = self.dump()
        with pytest.raises(AckRefused, match=why):
            self.apply(ack)
        assert self.dump() == before


@pytest.fixture
def kit(region: Region, tmp_path: Path) -> Iterator[Kit]:
    enrolled = region.kit(TPS_A)
    config = parse_kit_config(kit_toml(enrolled.kit_id, TPS_A, enrolled.election))
    settings = settings_from_config(config, tmp_path)
    path = tmp_path / "outbox.sqlite3"
    with Outbox.open(path) as outbox:
        yield Kit(region, enrolled, outbox, path, settings.log_id)


def neighbour(region: Region) -> bytes:
    """Another TPS's signed result: a genuine leaf of the same log, not this kit's."""
    other = region.kit(TPS_B)
    return sign_result(make_document(other), kit_key(other), other.certificate)


def test_a_genuine_batched_ack_finalises_the_result(hub, kit):
    assert kit.log_id == LOG_ID
    entry = kit.sent()
    ack = hub.accept(entry, before=(neighbour(kit.region),))
    assert json.loads(ack)["format"] == "tps-batched-ack/1"
    verdict = kit.apply(ack)
    assert (verdict.seq, verdict.accepted, verdict.outcome) == (entry.seq, True, "applied")
    assert kit.outbox.get(entry.seq).state == State.ACKNOWLEDGED


def test_a_checkpoint_signed_by_another_key_changes_nothing(hub, kit):
    entry = kit.sent()
    # The hub's certificate in the ack, a key that is not its key under the checkpoint.
    kit.refuses(hub.accept(entry, key=Ed25519PrivateKey.generate()), "no signature by a trusted")
    assert kit.apply(hub.accept(entry, origin=LOG_ID)).accepted  # the genuine one still holds


def test_an_ack_proving_another_document_changes_nothing(hub, kit):
    entry = kit.sent()
    other = neighbour(kit.region)
    genuine = hub.accept(entry, before=(other,))  # the neighbour at leaf 0, this kit at 1
    forged = json.loads(genuine)
    # This kit's seq, the neighbour's document: its hash, its leaf and its proof.
    other_sha = verify_result(other, kit.region.authority.cert, at=NOW).document_sha256
    forged["ack"].update(document_sha256=other_sha, log_index=0, inclusion_proof=hub.proof_hex(0))
    kit.refuses(json.dumps(forged).encode(), "another document")
    assert kit.apply(genuine).accepted


def test_an_inclusion_proof_of_another_leaf_changes_nothing(hub, kit):
    entry = kit.sent()
    genuine = hub.accept(entry, before=(neighbour(kit.region),))
    forged = json.loads(genuine)
    forged["ack"]["inclusion_proof"] = hub.proof_hex(0)  # the neighbour's leaf's proof
    kit.refuses(json.dumps(forged).encode(), "does not hold")
    assert kit.apply(genuine).accepted


def test_a_leaf_index_other_than_the_proofs_changes_nothing(hub, kit):
    entry = kit.sent()
    genuine = hub.accept(entry, before=(neighbour(kit.region),))
    kit.refuses(hub.accept(entry, log_index=0), "does not hold")  # the proof is of leaf 1
    assert kit.apply(genuine).accepted


@pytest.mark.parametrize("origin", ["log-lain", LOG_ID + TRAINING_LOG_SUFFIX])
def test_a_checkpoint_of_another_log_changes_nothing(hub, kit, origin):
    entry = kit.sent()
    # Signed by this region's hub with its own key, and the result is truly in that log:
    # another log of the hub (its training log), or of another hub of the region.
    kit.refuses(hub.accept(entry, origin=origin), f"checkpoint is of log '{origin}'")
    assert kit.apply(hub.accept(entry)).accepted


def test_a_training_kit_expects_the_training_log(region, tmp_path):
    trainee = region.kit(TPS_A, "latihan-2024")
    config = parse_kit_config(kit_toml(trainee.kit_id, TPS_A, trainee.election))
    assert settings_from_config(config, tmp_path).log_id == LOG_ID + TRAINING_LOG_SUFFIX
    unpinned = kit_toml(trainee.kit_id, TPS_A, trainee.election) | {"hub": {}}
    assert settings_from_config(parse_kit_config(unpinned), tmp_path).log_id == ""
