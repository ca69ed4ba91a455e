"""The uplink against a real Mosquitto running the hub site's configuration (TLS, ACL).

A fake hub (the hub identity, a shared subscription, protocol.result to verify, a real
transparency log and protocol.ack to answer) stands in for hub/; the kit's side is the real
edge.uplink over the real outbox.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from edge.outbox import Outbox, State
from edge.uplink import EventKind, Uplink, UplinkEvent, UplinkSettings, paho_client
from hub.ingest.acks import accepted_value
from hub.translog import MemoryStorage, TransparencyLog
from protocol import ack as acks
from protocol import keys
from protocol.certs import load_certificate
from protocol.result import verify_result
from protocol.utctime import format_utc
from provisioning import authority as ca
from provisioning.enrol import EnrolledKit
from provisioning.services import enrol_service
from tests.conftest import seal_next
from tests.fixtures_broker import (
    ELECTION,
    HUB_ID,
    KIT_TPS,
    PASSPHRASE,
    Identity,
    MosquittoBroker,
    TestClient,
    connect_client,
)

LOG_ID = "log-3171-test"
RESULTS = "$share/hub/tps/v1/+/result"
IMAGES = "$share/hub/tps/v1/+/image/+"
SOFTWARE = "tps-kit 0.1.0-test"
MODEL = "sha256:" + "ab" * 32


def wait_until(
    condition: Callable[[], Any], timeout: float = 10.0, what: str | Callable[[], str] = "it"
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what() if callable(what) else what} did not happen within {timeout} s")


# --- the kit ---------------------------------------------------------------------------------


def enrolled(identity: Identity, tps: str) -> EnrolledKit:
    certificate = load_certificate(identity.cert.read_bytes())
    return EnrolledKit(identity.name, tps, ELECTION, identity.cert.parent, certificate)


def page_images(seq: int, pages: int) -> dict[int, bytes]:
    return {p: f"jpeg of page {p} of seq {seq} ".encode() * 400 for p in range(1, pages + 1)}


def queue_result(outbox: Outbox, kit: EnrolledKit, pages: int = 1) -> int:
    """Seal the next result of the chain in the outbox, as the firmware does."""
    head = outbox.next_chain()
    seal_next(outbox, kit, page_images(head.seq, pages))
    return head.seq


@dataclass
class Recorder:
    """A client factory that keeps every paho client made and every topic published to."""

    clients: list[mqtt.Client] = field(default_factory=list)
    published: list[str] = field(default_factory=list)

    def __call__(self, client_id: str) -> mqtt.Client:
        client = paho_client(client_id)
        original = client.publish

        def publish(topic: str, *args: Any, **kwargs: Any) -> mqtt.MQTTMessageInfo:
            self.published.append(topic)
            return original(topic, *args, **kwargs)

        client.publish = publish  # type: ignore[method-assign]
        self.clients.append(client)
        return client


class Kit:
    """One kit's outbox and uplink, with the events it raised."""

    def __init__(self, broker: MosquittoBroker, identity: Identity, state: Path, **options: Any):
        state.mkdir(parents=True, exist_ok=True)
        kit_id = options.pop("kit_id", identity.name)
        self.settings = UplinkSettings(
            kit_id=kit_id,
            host=broker.host,
            port=broker.port,
            ca_cert=broker.site.ca_cert,
            cert=identity.cert,
            key=identity.key,
            state_dir=state,
            backoff_initial_s=0.05,
            backoff_max_s=0.5,
            poll_s=0.1,
            log_id=LOG_ID,  # as settings_from_config gives it from kit.toml's hub.log_id
            **options,
        )
        self.clock_offset = 0.0  # to age what is queued
        self.outbox = Outbox.open(
            state / "outbox.sqlite3", clock=lambda: time.time() + self.clock_offset
        )
        self.events: list[UplinkEvent] = []
        self.recorder = Recorder()
        self.uplink = self.new_uplink()

    def new_uplink(self) -> Uplink:
        return Uplink(
            self.settings,
            self.outbox,
            software_version=SOFTWARE,
            model_version=MODEL,
            client_factory=self.recorder,
            on_event=self.events.append,
        )

    def kinds(self, kind: EventKind) -> list[UplinkEvent]:
        return [e for e in self.events if e.kind == kind]

    def state(self, seq: int) -> State:
        return self.outbox.get(seq).state

    def step_until(self, condition: Callable[[], Any], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s")
            self.uplink.step(0.05)

    def step_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.uplink.step(0.05)

    def next_status(self, watcher: TestClient, wanted: Callable[[dict], bool]) -> dict:
        """Step until the watcher sees a status message that ``wanted`` accepts."""
        found: list[dict] = []

        def seen() -> bool:
            while not watcher.messages.empty():
                status = json.loads(watcher.messages.get().payload)
                if wanted(status):
                    found.append(status)
            return bool(found)

        self.step_until(seen)
        return found[0]


@pytest.fixture
def make_kit(mosquitto_broker: MosquittoBroker, tmp_path: Path) -> Iterator[Callable[..., Kit]]:
    made: list[Kit] = []

    def make(index: int = 0, **options: Any) -> Kit:
        identity = mosquitto_broker.kits[index]
        kit = Kit(mosquitto_broker, identity, tmp_path / f"state-{len(made)}", **options)
        made.append(kit)
        return kit

    yield make
    for kit in made:
        kit.uplink.stop()
        kit.uplink.close()
        kit.outbox.close()


def kit_identity(broker: MosquittoBroker, index: int = 0) -> EnrolledKit:
    return enrolled(broker.kits[index], KIT_TPS[index])


# --- the fake hub ----------------------------------------------------------------------------


Refuse = Callable[[Any], tuple[str, str] | None]  # document -> (reason_code, reason) to refuse


class Signer:
    """The hub's verdicts: a transparency log and a hub identity to answer with, accepted
    ones batched as ingest sends them (proved to the signed checkpoint, tps-batched-ack/1),
    rejected ones signed one by one."""

    def __init__(self, key_file: Path, cert_file: Path, origin: str = LOG_ID) -> None:
        self.key = keys.load_private_key(key_file)
        self.cert = load_certificate(cert_file.read_bytes())
        self.origin = origin
        self.log = TransparencyLog(MemoryStorage())
        self.index: dict[str, int] = {}  # document hash -> leaf: the same document counts once

    def accept(self, published: bytes, kit_id: str, seq: int, sha: str, **changes: Any) -> bytes:
        now = dt.datetime.now(dt.UTC)
        if sha not in self.index:
            self.index[sha] = self.log.append(published)
        index = self.index[sha]
        self.log.sign_tree_head(self.key, self.origin, now)
        value = accepted_value(
            HUB_ID,
            kit=kit_id,
            seq=seq,
            document_sha256=sha,
            at=format_utc(now),
            log_index=index,
            proof=self.log.inclusion_proof(index),
            checkpoint=self.log.checkpoint(),
        )
        value.update(changes)
        return acks.batched_ack(value, self.cert.public_bytes(Encoding.PEM).decode())

    def reject(self, kit_id: str, seq: int, sha: str, code: str, reason: str) -> bytes:
        ack = acks.Ack(
            format="tps-ack/1",
            hub=HUB_ID,
            kit=kit_id,
            seq=seq,
            document_sha256=sha,
            verdict="rejected",
            reason_code=code,
            reason=reason,
            at=format_utc(dt.datetime.now(dt.UTC)),
        )
        return acks.sign_ack(ack, self.key, self.cert)


class FakeHub:
    """What hub/ does with a result, reduced to the protocol: verify, log, sign the verdict.

    Idempotent like the real hub: the same document again gets the same log index.
    ``hold`` keeps results unanswered (a hub worker that died before acking).
    """

    def __init__(self, broker: MosquittoBroker, verdict: Refuse | None = None) -> None:
        hub_dir = broker.site.root / "hub"
        self.signer = Signer(hub_dir / "hub.key.pem", hub_dir / "hub.cert.pem")
        self.ca_cert = load_certificate(broker.site.ca_cert.read_bytes())
        self.verdict = verdict
        self.hold = False
        self.results: list[bytes] = []
        self.images: list[str] = []
        self.arrivals: list[str] = []  # "result:<seq>" / "image:<sha>", in arrival order
        self.client = connect_client(broker, broker.hub, clean_start=False, session_expiry=600)
        self.client.client.on_message = self._on_message
        self.client.wait_suback(self.client.subscribe(RESULTS))
        self.client.wait_suback(self.client.subscribe(IMAGES))
        # Subscribe again on every reconnect, as hub/ must: mosquitto 2.0.11 keeps the session
        # over its restart but not its $share subscriptions (measured; see the report).
        noted = self.client.client.on_connect

        def on_connect(client: mqtt.Client, *args: Any) -> None:
            noted(client, *args)
            client.subscribe([(RESULTS, 1), (IMAGES, 1)])

        self.client.client.on_connect = on_connect

    @property
    def log(self) -> TransparencyLog:
        return self.signer.log

    def close(self) -> None:
        self.client.close()

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        parts = message.topic.split("/")
        if parts[3] == "image":
            self.images.append(parts[4])
            self.arrivals.append(f"image:{parts[4]}")
            return
        self.results.append(message.payload)
        verified = verify_result(message.payload, self.ca_cert, at=dt.datetime.now(dt.UTC))
        document, sha = verified.document, verified.document_sha256
        self.arrivals.append(f"result:{document.seq}")
        if self.hold:
            return
        refusal = self.verdict(document) if self.verdict else None
        if refusal is None:
            data = self.signer.accept(message.payload, document.kit, document.seq, sha)
        else:
            data = self.signer.reject(document.kit, document.seq, sha, *refusal)
        self.publish_ack(document.kit, data)

    def publish_ack(self, kit_id: str, data: bytes) -> None:
        # Also from inside paho's callback: publish() only queues, paho's thread sends.
        info = self.client.client.publish(f"hub/v1/{kit_id}/ack", data, qos=1)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS


@pytest.fixture
def fake_hub(mosquitto_broker: MosquittoBroker) -> Iterator[FakeHub]:
    hub = FakeHub(mosquitto_broker)
    yield hub
    hub.close()


def watch_status(broker: MosquittoBroker, kit_id: str) -> TestClient:
    """The hub identity reading one kit's retained status (a fresh subscription)."""
    watcher = connect_client(broker, broker.hub)
    watcher.wait_suback(watcher.subscribe(f"tps/v1/{kit_id}/status"))
    return watcher


# --- the tests ---------------------------------------------------------------------------------


def test_result_reaches_the_hub_and_its_ack_marks_it_acknowledged(
    mosquitto_broker, fake_hub, make_kit
):
    kit = make_kit()
    seq = queue_result(kit.outbox, kit_identity(mosquitto_broker))
    kit.uplink.start()
    wait_until(
        lambda: kit.state(seq) == State.ACKNOWLEDGED and kit.kinds(EventKind.DELIVERED),
        what="the hub's ack",  # the outbox is written just before the event is emitted
    )
    entry = kit.outbox.get(seq)
    assert fake_hub.results == [entry.signed]  # exactly the stored bytes, verified by the hub
    assert [e.seq for e in kit.kinds(EventKind.DELIVERED)] == [seq]
    assert kit.kinds(EventKind.ONLINE) and kit.uplink.connected
    stored = kit.outbox._conn.execute("SELECT ack FROM documents WHERE seq = ?", (seq,))
    assert stored.fetchone()[0] is not None  # the hub's signed verdict, kept as evidence


def test_broker_restart_mid_run_loses_nothing_and_counts_each_result_once(
    mosquitto_broker, fake_hub, make_kit
):
    kit = make_kit(unheard_resend_s=0.5)
    identity = kit_identity(mosquitto_broker)
    first = [queue_result(kit.outbox, identity) for _ in range(2)]
    kit.uplink.start()
    wait_until(lambda: all(kit.state(s) == State.ACKNOWLEDGED for s in first), what="first acks")

    # A hub worker takes seq 3 and dies before answering; then the broker goes down.
    fake_hub.hold = True
    held = queue_result(kit.outbox, identity)
    kit.uplink.wake()
    wait_until(lambda: kit.state(held) == State.SENT, what="seq 3 PUBACKed")
    mosquitto_broker.stop()
    wait_until(lambda: not kit.uplink.connected, what="the kit noticing")
    offline = [queue_result(kit.outbox, identity) for _ in range(2)]  # queued while down
    time.sleep(0.5)  # a few failed reconnect attempts
    assert [kit.state(s) for s in offline] == [State.QUEUED, State.QUEUED]
    fake_hub.hold = False
    mosquitto_broker.start()

    everything = [*first, held, *offline]
    wait_until(
        # The outbox is written before the uplink thread emits DELIVERED: wait for both.
        lambda: (
            all(kit.state(s) == State.ACKNOWLEDGED for s in everything)
            and len(kit.kinds(EventKind.DELIVERED)) >= len(everything)
        ),
        timeout=20,
        what=lambda: f"every result acknowledged after the restart (hub saw {fake_hub.arrivals})",
    )
    time.sleep(0.3)  # room for a duplicate DELIVERED, which must not come
    assert sorted(e.seq for e in kit.kinds(EventKind.DELIVERED)) == everything  # once each
    assert fake_hub.log.size == len(everything)  # the hub logged each document once
    assert len(kit.kinds(EventKind.OFFLINE)) >= 1 and len(kit.kinds(EventKind.ONLINE)) >= 2
    assert kit.outbox.stats().pending_documents == 0


def test_kit_configured_with_another_kits_id_is_refused_by_the_broker(
    mosquitto_broker, fake_hub, make_kit
):
    other = mosquitto_broker.kits[1].name
    kit = make_kit(0, kit_id=other)  # kit 0's certificate, kit 1's topics
    seq = queue_result(kit.outbox, kit_identity(mosquitto_broker), pages=2)
    kit.step_until(lambda: kit.kinds(EventKind.REFUSED))
    entry = kit.outbox.get(seq)
    assert entry.state == State.QUEUED  # a PUBACK 135 is not a delivery
    assert entry.attempts == 1
    assert "Not authorized" in (entry.last_error or "") and "135" in (entry.last_error or "")
    assert kit.kinds(EventKind.REFUSED)[0].seq == seq
    for _ in range(10):  # the refused result is not retried at once, and no image follows it
        kit.uplink.step(0.05)
    assert kit.outbox.get(seq).attempts == 1
    assert not any("/image/" in t for t in kit.recorder.published)
    assert kit.recorder.published[0] == f"tps/v1/{other}/result"
    assert fake_hub.results == []


def test_forged_acks_change_nothing(mosquitto_broker, fake_hub, make_kit, tmp_path):
    fake_hub.hold = True  # the test answers by hand
    kit = make_kit()
    identity = kit_identity(mosquitto_broker)
    one, two = queue_result(kit.outbox, identity), queue_result(kit.outbox, identity)
    kit.step_until(lambda: kit.state(one) == kit.state(two) == State.SENT)
    a, b = kit.outbox.get(one), kit.outbox.get(two)
    kit_id, hub = identity.kit_id, fake_hub.signer

    # A hub identity from another CA, with a log and a proof that are genuine in themselves.
    evil = ca.init_ca(
        tmp_path / "evil-ca", region="31.71", name="KPU Palsu", passphrase=PASSPHRASE, days=30
    )
    enrol_service(evil, role="hub", name=HUB_ID, out=tmp_path / "evil-hub", days=30)
    impostor = Signer(tmp_path / "evil-hub" / "hub.key.pem", tmp_path / "evil-hub" / "hub.cert.pem")
    hub_dir = mosquitto_broker.site.root / "hub"
    # The real hub's certificate in the ack, the impostor's key under its checkpoint.
    other_key = Signer(tmp_path / "evil-hub" / "hub.key.pem", hub_dir / "hub.cert.pem")
    # The real hub's key and certificate, and seq 1 truly logged: in its training log.
    other_log = Signer(hub_dir / "hub.key.pem", hub_dir / "hub.cert.pem", LOG_ID + "-latihan")
    forged = [
        impostor.accept(a.signed, kit_id, one, a.sha256),
        impostor.reject(kit_id, two, b.sha256, "revoked", "palsu"),
        other_key.accept(a.signed, kit_id, one, a.sha256),
        other_log.accept(a.signed, kit_id, one, a.sha256),
        # The real hub's key, but the verdict names seq 1 with seq 2's hash and proof.
        hub.accept(b.signed, kit_id, one, b.sha256),
        # The real hub's key and seq 1's hash, but the proof is of another leaf (seq 2's).
        hub.accept(a.signed, kit_id, one, a.sha256, log_index=hub.index[b.sha256]),
        b'{"format": "tps-signed-ack/1"}',
        b'{"format": "tps-batched-ack/1"}',
    ]
    for data in forged:
        fake_hub.publish_ack(kit_id, data)
    kit.step_for(0.7)  # they arrive and are refused meanwhile
    assert (kit.state(one), kit.state(two)) == (State.SENT, State.SENT)
    assert not kit.kinds(EventKind.DELIVERED) and not kit.kinds(EventKind.REJECTED)

    # The genuine verdict still works afterwards.
    fake_hub.publish_ack(kit_id, hub.accept(a.signed, kit_id, one, a.sha256))
    kit.step_until(lambda: kit.state(one) == State.ACKNOWLEDGED)
    assert kit.state(two) == State.SENT
    assert [e.seq for e in kit.kinds(EventKind.DELIVERED)] == [one]


def test_rejected_ack_marks_the_result_rejected_with_the_reason(mosquitto_broker, make_kit):
    def verdict(document: Any) -> tuple[str, str] | None:
        return ("binding", "TPS tidak sesuai sertifikat") if document.seq == 2 else None

    hub = FakeHub(mosquitto_broker, verdict)
    try:
        kit = make_kit()
        identity = kit_identity(mosquitto_broker)
        one, two = queue_result(kit.outbox, identity), queue_result(kit.outbox, identity)
        kit.step_until(lambda: kit.state(two) == State.REJECTED and kit.state(one) != State.SENT)
    finally:
        hub.close()
    assert kit.state(one) == State.ACKNOWLEDGED
    entry = kit.outbox.get(two)
    assert entry.reason == "binding: TPS tidak sesuai sertifikat"
    rejected = kit.kinds(EventKind.REJECTED)
    assert [(e.seq, e.detail) for e in rejected] == [(two, entry.reason)]


def test_numbers_go_before_images(mosquitto_broker, fake_hub, make_kit):
    kit = make_kit()
    identity = kit_identity(mosquitto_broker)
    seqs = [queue_result(kit.outbox, identity, pages=2) for _ in range(3)]
    kit.step_until(lambda: kit.outbox.stats().pending_images == 0 and len(fake_hub.images) == 6)
    published = [t for t in kit.recorder.published if not t.endswith("/status")]
    kinds = ["image" if "/image/" in t else "result" for t in published]
    assert kinds == ["result"] * 3 + ["image"] * 6
    first_image = next(i for i, a in enumerate(fake_hub.arrivals) if a.startswith("image"))
    assert fake_hub.arrivals[:first_image] == [f"result:{s}" for s in seqs]
    expected = {sha for s in seqs for _, sha in kit.outbox.get(s).pages}
    assert set(fake_hub.images) == expected


def test_last_will_is_a_retained_offline_status_when_the_kit_dies(mosquitto_broker, make_kit):
    kit = make_kit()
    watcher = watch_status(mosquitto_broker, kit.settings.kit_id)
    kit.next_status(watcher, lambda status: status["state"] == "online")

    # The kit dies: its socket closes with no DISCONNECT (power cut, kernel panic, cable).
    kit.recorder.clients[-1].socket().close()
    (will,) = watcher.receive(1)
    status = json.loads(will.payload)
    assert status["state"] == "offline" and status["kit"] == kit.settings.kit_id
    assert (status["software"], status["reason"]) == (SOFTWARE, "connection lost")
    watcher.close()

    late = watch_status(mosquitto_broker, kit.settings.kit_id)  # someone looking later
    (kept,) = late.receive(1)
    assert kept.retain and json.loads(kept.payload)["state"] == "offline"
    late.close()


def test_heartbeat_says_online_queue_disk_and_versions(mosquitto_broker, make_kit):
    kit = make_kit(heartbeat_s=0.5)
    identity = kit_identity(mosquitto_broker)
    kit.clock_offset = -90  # the result was queued 90 s ago
    queue_result(kit.outbox, identity)
    kit.clock_offset = 0
    watcher = watch_status(mosquitto_broker, identity.kit_id)  # nobody takes results: PUBACK 16
    status = kit.next_status(watcher, lambda s: s["queue"]["unsent_documents"] == 0)
    assert status["state"] == "online" and status["kit"] == identity.kit_id
    assert (status["software"], status["model"]) == (SOFTWARE, MODEL)
    assert status["queue"]["pending_documents"] == 1  # sent, but no ack yet
    assert status["queue"]["oldest_pending_age_s"] >= 89
    assert status["disk_free_bytes"] > 0 and status["at"].endswith("Z")
    assert kit.state(1) == State.SENT  # 16 "no matching subscribers" counts as sent

    # On change: a new result is announced at once, not at the next heartbeat.
    queue_result(kit.outbox, identity)
    kit.uplink.wake()
    started = time.monotonic()
    kit.next_status(watcher, lambda s: s["queue"]["last_seq"] == 2)
    assert time.monotonic() - started < 0.45
    # And with nothing new, again after heartbeat_s.
    again = kit.next_status(watcher, lambda s: True)
    assert again["state"] == "online" and again["queue"]["last_seq"] == 2
    watcher.close()
