"""A hub filled through the real path, for the API and dashboard tests (no tests here).

A region CA enrols kits; each kit signs its result with its own key; the real Ingestor
verifies, stores (a SQLite file), logs and acknowledges them, with the recapitulation's hook;
a synthesized, photographed page 2 is stored as the kits' uplink would send it. What is in
it, and why:

- TPS A (31.71.01.1001.001): a first report, then a rescan with other numbers (seq 2):
  version history, a superseded receipt, "changed after first report";
- TPS B (31.71.01.1001.002): one version whose page 2 photo is stored, with the page's
  corners in it (found by the kit's alignment), fields the kit corrected, and the KPPS
  confirmed and entered; status heartbeat: online;
- TPS C (31.71.01.1002.001): one version; its kit's last will says offline;
- TPS D (31.71.02.2001.001): V.C above the registered voters (an anomaly);
- TPS E (31.71.02.2001.002): expected, never reported (its first kit revoked, the
  replacement silent), so completeness is 4 of 5;
- a training (latihan) result for TPS A, which must never appear in a real total;
- a witness (a real tps-hub witness, asked by the hub's real cosigner) cosigned the log at
  size 3 (a1, a2, b1); the checkpoints ingest signed after it are not cosigned, as between
  two cosigning rounds on election night.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import tomli_w
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.align.aligner import Aligner
from edge.align.geometry import template_geometries
from hub.config import SizeLimits
from hub.ingest import AckSigner
from hub.recap import recap_hook, record_status
from hub.store import ResultStore, utc_text
from hub.translog import TransparencyLog
from hub.translog.cosigning import Cosigner, WitnessEndpoint
from hub.trust import RegistryKit, load_trust
from hub.witness import Witness
from protocol import checkpoint, keys, note
from protocol.forms.loader import load_template
from protocol.idx import load_digits
from protocol.receipt import Receipt
from protocol.status import KitStatus, QueueStatus
from provisioning import authority as ca
from provisioning import enrol, services
from provisioning.registry import registry_bytes
from provisioning.synth.forms import synthesize_form
from provisioning.synth.handwriting import DigitBank
from provisioning.synth.photo import Conditions
from provisioning.synth.values import consistent_values
from tests.conftest import PASSPHRASE, Region
from tests.hub.test_store_support import HUB_ID, LOG_ID, HubSetup, document_sha, signed, utcnow

ELECTION, TRAINING, FORM = "pemilu-2024", "latihan-2024", "ppwp-plano"
TPS_A, TPS_B, TPS_C = "31.71.01.1001.001", "31.71.01.1001.002", "31.71.01.1002.001"
TPS_D, TPS_E = "31.71.02.2001.001", "31.71.02.2001.002"
DIGITS = Path(__file__).resolve().parents[1] / "fixtures" / "digits" / "heldout-300"
WITNESS = "saksi.example/w1"
WITNESS_URL = "http://saksi.example:8090"
STEADY = Conditions(0.8, 0.01, -0.01, 0.01, 0.0, 1.0, 0.15, 0.0, 0.6, 2.0, 88)


@dataclass
class FilledHub:
    root: Path
    url: str  # the SQLite file
    registry: tuple[RegistryKit, ...]
    signed: dict[str, bytes] = field(default_factory=dict)  # a name per document
    fields: dict[str, dict[str, int]] = field(default_factory=dict)
    kits: dict[str, str] = field(default_factory=dict)  # TPS (or "training") -> kit id
    image: bytes = b""
    corners: list[list[int]] = field(default_factory=list)  # page 2's, in ``image``
    # send(name, tps, body, **changes): one more result of that TPS's kit, through the
    # real ingest with a store of its own (for tests that change the hub as it is read).
    send: Callable[..., None] = field(default=lambda *_a, **_k: None, repr=False)
    witness: note.Verifier | None = None  # the one that cosigned the real log at size 3

    def sha(self, name: str) -> str:
        return document_sha(self.signed[name])

    def receipt(self, name: str, seq: int, tps: str, *, training: bool = False) -> str:
        return Receipt(tps, seq, self.sha(name), training).text()

    def open_store(self) -> ResultStore:
        return ResultStore.open(self.url, now=utcnow())


def form(seed: int, decisions: dict[str, tuple[str, int | None]] | None = None, **values: int):
    """A complete, consistent PPWP form, with how the kit decided each field."""
    fields = consistent_values(load_template(FORM), np.random.default_rng(seed))
    fields.update(values)
    evidence: dict[str, dict[str, Any]] = {
        k: {"confidence": 9990, "decision": "read"} for k in fields
    }
    for name, (decision, read_as) in (decisions or {}).items():
        evidence[name] = {"confidence": 6200, "decision": decision}
        if read_as is not None:
            evidence[name]["read_as"] = read_as
    return {"fields": fields, "evidence": evidence}


def corners_of(photo: bytes) -> list[list[int]]:
    """The page's corners in its photo, as the kit's alignment finds and signs them."""
    frame = cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_GRAYSCALE)
    return Aligner(template_geometries(load_template(FORM))).align(frame).corners


def page_two(tps: str, values: dict[str, int]) -> bytes:
    """Page 2 of the PPWP form filled with ``values``, photographed as a kit would."""
    bank = DigitBank(*load_digits(DIGITS))
    template = load_template(FORM)
    pages = synthesize_form(
        template,
        tps=tps,
        election=ELECTION,
        bank=bank,
        rng=np.random.default_rng(7),
        values=values,
        conditions=STEADY,
        only_pages=[2],
    )
    return pages[0].jpeg


def fill_hub(root: Path, now: dt.datetime | None = None) -> FilledHub:
    authority = ca.init_ca(
        root / "ca", region="31.71", name="KPU Kota Uji", passphrase=PASSPHRASE, days=30
    )
    region = Region(root, authority)
    out = root / "hub-identity"
    cert = services.enrol_service(authority, role="hub", name=HUB_ID, out=out, days=30)
    key = keys.load_private_key(out / "hub.key.pem")
    setup = HubSetup(region, AckSigner(HUB_ID, key, cert), out)
    kit = {code: region.kit(code) for code in (TPS_A, TPS_B, TPS_C, TPS_D, TPS_E)}
    trainee = region.kit(TPS_A, election=TRAINING)
    ca.revoke(authority, kit[TPS_E].kit_id)
    replacement = region.kit(TPS_E)  # enrolled, never heard from
    registry_file = root / "registry.json"
    registry_file.write_bytes(registry_bytes(authority))
    trust = load_trust(authority.directory / "ca.cert.pem", None, registry_file)
    hub = FilledHub(root, str(root / "hub.sqlite3"), trust.kits)
    hub.kits = {code: k.kit_id for code, k in kit.items()} | {
        "training": trainee.kit_id,
        "replacement": replacement.kit_id,
    }

    store = ResultStore.open(hub.url, now=utcnow())
    # A kit's photo of a plano sheet is a megabyte or two: the hub's default limit, not the
    # 1 MB of the store tests.
    limits = SizeLimits(max_image_bytes=16 << 20, rejected_raw_bytes=4096)
    ingestor = setup.ingestor(store, trust, hooks=[recap_hook], limits=limits)
    when = now or utcnow()

    def send(name: str, enrolled: enrol.EnrolledKit, body: dict[str, Any], **changes: Any) -> None:
        hub.signed[name] = signed(enrolled, **body, **changes)
        hub.fields[name] = body["fields"]
        outcome = ingestor.ingest_result(hub.signed[name], enrolled.kit_id, when)
        assert outcome.status == "accepted", outcome

    def send_later(name: str, tps: str, body: dict[str, Any], **changes: Any) -> None:
        nonlocal ingestor
        own = ResultStore.open(hub.url, now=utcnow())
        ingestor = setup.ingestor(own, trust, hooks=[recap_hook], limits=limits)
        try:
            send(name, kit[tps], body, **changes)
        finally:
            own.close()

    hub.send = send_later

    send("a1", kit[TPS_A], form(1))
    send(
        "a2",
        kit[TPS_A],
        form(2),
        seq=2,
        prev_sha256=hub.sha("a1"),
        captured_at="2024-02-14T20:10:00Z",
    )
    b_form = form(
        3,
        {
            "IV.2": ("corrected", 44),
            "IV.3": ("confirmed", None),
            "V.B": ("confirmed", None),
            "II.4": ("entered", 9),
        },
    )
    hub.image = page_two(TPS_B, b_form["fields"])
    hub.corners = corners_of(hub.image)
    image_sha = hashlib.sha256(hub.image).hexdigest()
    missing = hashlib.sha256(b"page 1, not sent yet").hexdigest()
    pages = [
        {"page": 1, "sha256": missing},
        {"page": 2, "sha256": image_sha, "corners": hub.corners},
    ]
    # The template's own version, as a real kit signs: the hub rectifies a page only to the
    # version of the form that was read.
    version = load_template(FORM).version
    send("b1", kit[TPS_B], b_form, pages=pages, form_version=version)
    stored = ingestor.ingest_image(hub.image, kit[TPS_B].kit_id, image_sha, when)
    assert stored.status == "accepted", stored
    hub.witness = cosign_round(root, store, checkpoint.verifier_for(LOG_ID, key.public_key()))
    send("c1", kit[TPS_C], form(4))
    d_form = form(5)
    d_form["fields"]["I.A.JML"] = d_form["fields"]["V.C"] // 2  # votes above the registered
    send("d1", kit[TPS_D], d_form)
    send("t1", trainee, form(6))

    stamp = utc_text(when)
    queue = QueueStatus(
        pending_documents=0, unsent_documents=0, pending_images=1, pending_bytes=0, last_seq=1
    )
    b, c = kit[TPS_B].kit_id, kit[TPS_C].kit_id
    online = KitStatus(kit=b, state="online", software="0.1.0", model="m", queue=queue)
    record_status(store.db, b, stamp, online)
    offline = KitStatus(
        kit=c, state="offline", reason="connection lost", software="0.1.0", model="m"
    )
    record_status(store.db, c, stamp, offline)
    store.close()
    return hub


def cosign_round(root: Path, store: ResultStore, log_key: note.Verifier) -> note.Verifier:
    """One round of the hub's cosigner, answered in process by a real witness; returns the
    witness's key."""
    witness = Witness(
        WITNESS, Ed25519PrivateKey.generate(), {LOG_ID: [log_key]}, root / "witness.sqlite3"
    )
    try:

        def post(_url: str, body: bytes) -> tuple[int, bytes]:
            answer = witness.add_checkpoint(body)
            return answer.status, answer.body

        endpoint = WitnessEndpoint(WITNESS_URL, witness.verifier)
        log = TransparencyLog(store.log_storage(LOG_ID))
        done = Cosigner(log, [endpoint], post).round()
        assert done is not None and done.cosigned_by == [WITNESS], done
        return witness.verifier
    finally:
        witness.close()


def write_hub_toml(
    hub: FilledHub, port: int, *, paths: dict[str, object] | None = None, **api: object
) -> Path:
    """A hub.toml for `tps-hub serve` over the filled hub (it needs no key or broker);
    ``paths`` adds to ``[paths]`` (manifests, crl, citizen_reports), ``api`` adds or
    overrides ``[api]`` settings."""
    config = {
        "hub": {"id": HUB_ID, "log_id": LOG_ID},
        "paths": {
            "ca_certificate": str(hub.root / "ca" / "ca.cert.pem"),
            "certificate": str(hub.root / "hub-identity" / "hub.cert.pem"),
            "registry": str(hub.root / "registry.json"),
            **(paths or {}),
        },
        "database": {"url": hub.url},
        "api": {"host": "127.0.0.1", "port": port, "silent_after": 60, **api},
        "witnesses": {"witness": [{"url": WITNESS_URL, "vkey": witness_vkey(hub)}]},
    }
    path = hub.root / "hub.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def witness_vkey(hub: FilledHub) -> str:
    assert hub.witness is not None
    return hub.witness.vkey()


def write_manifest(hub: FilledHub, dpt: dict[str, tuple[int, int]]) -> Path:
    """The filled hub's election manifest (PPWP, these TPS and their DPT L/P), signed by
    its region CA, as election.json in its directory."""
    from provisioning import authority as ca
    from tests.conftest import PASSPHRASE
    from tests.manifests import ppwp_manifest, signed_manifest

    path = hub.root / "election.json"
    path.write_bytes(signed_manifest(ca.load_ca(hub.root / "ca", PASSPHRASE), ppwp_manifest(dpt)))
    return path
