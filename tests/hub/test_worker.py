"""The MQTT worker end to end through a real Mosquitto with the hub site's TLS/ACL config,
and `tps-hub run --validate-config`."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner

from edge.outbox import OutboxStats
from edge.uplink import status
from hub.cli import main
from hub.config import BrokerSettings
from hub.ingest import AckSigner, Ingestor
from hub.recap import RegistryIndex, election_filter, silent_kits
from hub.recap.seen import latest_status
from hub.store import ResultStore
from hub.trust import Trust
from hub.worker import TlsFiles, Worker, wait_until
from protocol import ack as acks
from protocol import certs, keys
from protocol.result import sign_result
from protocol.topics import KitTopic, KitTopics, parse_kit_topic
from provisioning import authority as ca
from provisioning import enrol
from tests.conftest import make_document
from tests.fixtures_broker import ELECTION, KIT_TPS, Identity
from tests.hub.test_store_support import LIMITS, LOG_ID, document_sha, utcnow

P2 = b"p2"


def _kit(identity: Identity, tps: str) -> tuple[enrol.EnrolledKit, object]:
    cert = certs.load_certificate(identity.cert.read_bytes())
    kit = enrol.EnrolledKit(identity.name, tps, ELECTION, identity.cert.parent, cert)
    return kit, keys.load_private_key(identity.key)


def _sign(identity: Identity, tps: str, **changes: object) -> bytes:
    kit, key = _kit(identity, tps)
    return sign_result(make_document(kit, **changes), key, kit.certificate)


def _start_worker(site, broker, store) -> Worker:
    authority_dir = site.root / "ca"
    trust = Trust(site_ca(site), certs.load_crl((authority_dir / ca.CRL_FILE).read_bytes()))
    signer = AckSigner(
        site.hub.name,
        keys.load_private_key(site.hub.key),
        certs.load_certificate(site.hub.cert.read_bytes()),
    )
    ingestor = Ingestor(
        store, trust, signer, log_id=LOG_ID, training_log_id=LOG_ID + "-latihan", limits=LIMITS
    )
    worker = Worker(
        ingestor,
        BrokerSettings(host=broker.host, port=broker.port, batch=20),
        TlsFiles(site.hub.ca, site.hub.cert, site.hub.key),
        client_id=site.hub.name,
    )
    worker.start()
    assert worker.wait_ready(10), "the worker did not connect and subscribe"
    return worker


def site_ca(site):
    return certs.load_certificate(site.ca_cert.read_bytes())


def test_parse_topic():
    assert parse_kit_topic("tps/v1/kit-a1/result") == KitTopic("result", "kit-a1")
    assert parse_kit_topic("tps/v1/kit-a1/image/ab") == KitTopic("image", "kit-a1", "ab")
    assert parse_kit_topic("tps/v1/kit-a1/status") == KitTopic("status", "kit-a1")
    assert parse_kit_topic("tps/v1/kit-a1/other") is None
    assert parse_kit_topic("hub/v1/kit-a1/ack") is None
    # What the kit publishes on is what the hub reads.
    topics = KitTopics("kit-a1")
    assert parse_kit_topic(topics.result) == KitTopic("result", "kit-a1")
    assert parse_kit_topic(topics.image("ab")) == KitTopic("image", "kit-a1", "ab")


def test_kit_publishes_worker_stores_and_acks(mosquitto_broker, mqtt_connect, tmp_path):
    site = mosquitto_broker.site
    store = ResultStore.open(str(tmp_path / "hub.sqlite3"), now=utcnow())
    worker = _start_worker(site, mosquitto_broker, store)
    try:
        kit_id = site.kits[0]
        kit = mqtt_connect(kit_id, clean_start=False, session_expiry=300)
        kit.wait_suback(kit.subscribe(f"hub/v1/{kit_id.name}/ack"))
        first = _sign(kit_id, KIT_TPS[0])
        started = time.perf_counter()
        kit.wait_puback(kit.publish(f"tps/v1/{kit_id.name}/result", first))
        (message,) = kit.receive(1, timeout=10)
        latency = time.perf_counter() - started
        checked = acks.verify_ack(message.payload, site_ca(site), at=utcnow(), published=first)
        assert checked.ack.verdict == "accepted" and checked.ack.hub == site.hub.name
        assert store.find_document(checked.ack.document_sha256) is not None

        # Garbage, a replay and another kit's document on this kit's topic do not stop it.
        kit.publish(f"tps/v1/{kit_id.name}/result", b"\xff not json")
        kit.publish(f"tps/v1/{kit_id.name}/result", first)
        other = _sign(site.kits[1], KIT_TPS[1])
        kit.publish(f"tps/v1/{kit_id.name}/result", other)
        second = _sign(kit_id, KIT_TPS[0], seq=2, prev_sha256=document_sha(first))
        kit.publish(f"tps/v1/{kit_id.name}/result", second)
        kit.publish(f"tps/v1/{kit_id.name}/image/{hashlib.sha256(P2).hexdigest()}", P2)
        verdicts = [
            acks.verify_ack(m.payload, site_ca(site), at=utcnow()).ack for m in kit.receive(4, 10)
        ]
        assert [(a.verdict, a.reason_code) for a in verdicts] == [
            ("rejected", "malformed"),
            ("accepted", ""),
            ("rejected", "topic-mismatch"),
            ("accepted", ""),
        ]
        assert verdicts[1].document_sha256 == checked.ack.document_sha256  # the same ack again
        assert wait_until(lambda: store.image(hashlib.sha256(P2).hexdigest()) == P2, 5)
        current = store.current(ELECTION, KIT_TPS[0], "ppwp-plano")
        assert current is not None and current.seq == 2
        assert worker.stats.store_errors == 0
    finally:
        worker.stop()
        store.close()
    print(f"publish -> verified ack round trip: {latency * 1000:.1f} ms")


def test_kit_status_heartbeats_say_which_kits_are_online(mosquitto_broker, mqtt_connect, tmp_path):
    site = mosquitto_broker.site
    store = ResultStore.open(str(tmp_path / "hub.sqlite3"), now=utcnow())
    worker = _start_worker(site, mosquitto_broker, store)
    try:
        kit_id, other_id = site.kits
        kit = mqtt_connect(kit_id, clean_start=False, session_expiry=300)
        versions = status.Versions("1.0", "ab" * 32)
        stats = OutboxStats(3, 1, 0, 0, None, 0, 4096)
        online = status.online(kit_id.name, versions, stats, 10**9, time.time())
        topic = f"tps/v1/{kit_id.name}/status"
        assert kit.wait_puback(kit.publish(topic, online.encode())).value == 0
        seen = lambda: latest_status(store.db, kit_id.name)  # noqa: E731
        assert wait_until(lambda: getattr(seen(), "state", None) == "online", 10)
        assert seen().queue.pending_documents == 1
        five = dt.timedelta(minutes=5)
        nothing = RegistryIndex.of(())
        assert silent_kits(store.db, nothing, utcnow(), five, election_filter()).kits == []

        # Not JSON, or naming another kit: ignored, and the worker keeps going.
        kit.publish(topic, b"\xff not json")
        kit.publish(topic, status.offline(other_id.name, versions, "forged").encode())
        # The goodbye of a clean stop (the same status as the broker's last will).
        goodbye = status.offline(kit_id.name, versions, "stopped", time.time())
        kit.publish(topic, goodbye.encode())
        assert wait_until(lambda: getattr(seen(), "state", None) == "offline", 10)
        assert latest_status(store.db, other_id.name) is None
        assert seen().reason == "stopped"
        assert worker.stats.statuses == 2
    finally:
        worker.stop()
        store.close()


def test_results_published_while_the_worker_is_away_wait_for_it(
    mosquitto_broker, mqtt_connect, tmp_path
):
    site = mosquitto_broker.site
    store = ResultStore.open(str(tmp_path / "hub.sqlite3"), now=utcnow())
    worker = _start_worker(site, mosquitto_broker, store)
    worker.stop()  # the persistent session (clean_start False) stays with the broker
    try:
        kit_id = site.kits[1]
        kit = mqtt_connect(kit_id, clean_start=False, session_expiry=300)
        kit.wait_suback(kit.subscribe(f"hub/v1/{kit_id.name}/ack"))
        data = _sign(kit_id, KIT_TPS[1])
        assert kit.wait_puback(kit.publish(f"tps/v1/{kit_id.name}/result", data)).value == 0
        assert kit.nothing_received(0.3)
        worker = _start_worker(site, mosquitto_broker, store)
        (message,) = kit.receive(1, timeout=10)
        acks.verify_ack(message.payload, site_ca(site), at=utcnow(), published=data)
    finally:
        worker.stop()
        store.close()


def test_worker_stopped_with_its_ack_window_full_loses_no_result(
    mosquitto_broker, mqtt_connect, tmp_path
):
    # The broker has not PUBACKed the worker's earlier acks when it is told to stop: the
    # result is stored but its ack cannot go out, so the worker must not PUBACK the result
    # either. The broker delivers it again to the next worker, which answers from the store.
    site = mosquitto_broker.site
    store = ResultStore.open(str(tmp_path / "hub.sqlite3"), now=utcnow())
    worker = _start_worker(site, mosquitto_broker, store)
    try:
        worker._acks.set_limit(1)
        worker._acks.sent()  # one ack in flight that the broker never acknowledges
        kit_id = site.kits[0]
        kit = mqtt_connect(kit_id, clean_start=False, session_expiry=300)
        kit.wait_suback(kit.subscribe(f"hub/v1/{kit_id.name}/ack"))
        data = _sign(kit_id, KIT_TPS[0])
        kit.wait_puback(kit.publish(f"tps/v1/{kit_id.name}/result", data))
        assert wait_until(lambda: store.find_document(document_sha(data)) is not None, 10)
        worker.stop()
        assert worker.stats.acks_published == 0 and kit.nothing_received(0.3)

        worker = _start_worker(site, mosquitto_broker, store)
        (message,) = kit.receive(1, timeout=10)
        checked = acks.verify_ack(message.payload, site_ca(site), at=utcnow(), published=data)
        assert checked.ack.verdict == "accepted"
        assert worker.stats.outcomes == {"result:duplicate": 1}
    finally:
        worker.stop()
        store.close()


def _write_config(site, tmp_path: Path, **broker: object) -> Path:
    config = {
        "hub": {"id": site.hub.name, "log_id": LOG_ID},
        "paths": {
            "key": str(site.hub.key),
            "certificate": str(site.hub.cert),
            "ca_certificate": str(site.ca_cert),
            "crl": str(site.root / "ca" / ca.CRL_FILE),
        },
        "database": {"url": "hub.sqlite3"},
        "broker": {"host": "127.0.0.1", **broker},
    }
    path = tmp_path / "hub.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def test_validate_config(broker_site, tmp_path):
    path = _write_config(broker_site, tmp_path)
    result = CliRunner().invoke(main, ["run", "--config", str(path), "--validate-config"])
    assert result.exit_code == 0, result.output
    assert "valid; hub hub-3171" in result.output
    path.write_text(path.read_text() + "\n[extra]\nx = 1\n")
    result = CliRunner().invoke(main, ["run", "--config", str(path), "--validate-config"])
    assert result.exit_code != 0 and "extra: unknown key" in result.output
    wrong = _write_config(broker_site, tmp_path, port=70000)
    result = CliRunner().invoke(main, ["run", "--config", str(wrong), "--validate-config"])
    assert result.exit_code != 0 and "broker.port" in result.output


def test_validate_config_refuses_a_key_that_is_not_the_certificates(broker_site, tmp_path):
    path = _write_config(broker_site, tmp_path)
    text = path.read_text().replace(str(broker_site.hub.key), str(broker_site.kits[0].key))
    path.write_text(text)
    result = CliRunner().invoke(main, ["run", "--config", str(path), "--validate-config"])
    assert result.exit_code != 0 and "paths.key" in result.output


@pytest.mark.parametrize("name", ["hub.toml"])
def test_config_paths_are_relative_to_the_file(name, tmp_path):
    from hub.config import load_hub_config

    path = tmp_path / name
    path.write_text('[hub]\nid = "hub-a1"\nlog_id = "log-a1"\n[database]\nurl = "db/h.sqlite3"\n')
    config = load_hub_config(path)
    assert config.paths.key == tmp_path / "hub.key.pem"
    assert config.database.url == str(tmp_path / "db" / "h.sqlite3")
    assert config.broker is None and config.training_log_id == "log-a1-latihan"


def test_tps_hub_run_serves_until_sigterm(mosquitto_broker, mqtt_connect, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    site = mosquitto_broker.site
    config = _write_config(site, tmp_path, port=mosquitto_broker.port)
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "tps-hub"), "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        kit_id = site.kits[0]
        kit = mqtt_connect(kit_id, clean_start=False, session_expiry=300)
        kit.wait_suback(kit.subscribe(f"hub/v1/{kit_id.name}/ack"))
        data = _sign(kit_id, KIT_TPS[0])
        # Until the hub has subscribed once, nobody holds its queue: resend, as a kit does.
        deadline = time.monotonic() + 20
        while kit.nothing_received(0.5) and time.monotonic() < deadline:
            kit.publish(f"tps/v1/{kit_id.name}/result", data)
        message = kit.receive(1, timeout=5)[0]
        acks.verify_ack(message.payload, site_ca(site), at=utcnow(), published=data)
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode(errors="replace")
    assert process.returncode == 0, output
    assert (tmp_path / "hub.sqlite3").exists()
