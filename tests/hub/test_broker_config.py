"""The hub site's Mosquitto configuration: rendered text, and the real broker running it."""

from __future__ import annotations

import json
import ssl
import time
from pathlib import Path

import pytest

from hub.broker_config import BrokerConfigError, find_dynsec_plugin, render_broker_config
from provisioning import authority as ca
from provisioning import enrol
from tests.fixtures_broker import (
    HUB_ID,
    PASSPHRASE,
    BrokerSite,
    Identity,
    MosquittoBroker,
    configure_broker,
    connect_client,
    new_client,
)

NOT_AUTHORIZED = 135
SHARED_RESULTS = "$share/hub/tps/v1/+/result"


def result_topic(kit: Identity) -> str:
    return f"tps/v1/{kit.name}/result"


def ack_topic(kit: Identity) -> str:
    return f"hub/v1/{kit.name}/ack"


# --- rendering ------------------------------------------------------------------------------


def _render(tmp_path: Path, **changes: object) -> tuple[str, str]:
    options: dict[str, object] = {
        "port": 8883,
        "bind_address": "0.0.0.0",
        "ca_file": tmp_path / "ca.cert.pem",
        "cert_file": tmp_path / "broker.cert.pem",
        "key_file": tmp_path / "broker.key.pem",
        "access_file": tmp_path / "tps-hub-access.json",
        "persistence_dir": tmp_path / "data",
        "hub_ids": ["hub-3171-a", "hub-3171-b"],
        "kit_ids": ["kit-3171011001001-1", "kit-3171011001002-1"],
        "dynsec_plugin": tmp_path / "mosquitto_dynamic_security.so",
    }
    options.update(changes)
    return render_broker_config(**options)  # type: ignore[arg-type]


def _settings(conf: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in conf.splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            found.setdefault(key, []).append(value)
    return found


def test_rendered_conf_has_the_hub_site_settings(tmp_path: Path) -> None:
    conf, _ = _render(tmp_path)
    settings = _settings(conf)
    expected = {
        "listener": "8883 0.0.0.0",
        "cafile": str(tmp_path / "ca.cert.pem"),
        "certfile": str(tmp_path / "broker.cert.pem"),
        "keyfile": str(tmp_path / "broker.key.pem"),
        "require_certificate": "true",
        "use_identity_as_username": "true",
        "use_username_as_clientid": "true",
        "tls_version": "tlsv1.2",
        "allow_anonymous": "false",
        "plugin": str(tmp_path / "mosquitto_dynamic_security.so"),
        "plugin_opt_config_file": str(tmp_path / "tps-hub-access.json"),
        "persistence": "true",
        "persistence_location": str(tmp_path / "data"),
        "max_queued_messages": "1000000",
        "max_queued_bytes": "0",
        "max_inflight_messages": "1000",
        "max_qos": "1",
        "user": "mosquitto",
    }
    assert {key: settings.get(key) for key in expected} == {k: [v] for k, v in expected.items()}
    assert "crlfile" not in settings  # off unless asked for: an expired CRL locks out every kit
    assert "${" not in conf


def test_rendered_conf_optional_crl_and_listener_on_all_interfaces(tmp_path: Path) -> None:
    conf, _ = _render(tmp_path, crl_file=tmp_path / "crl.pem", bind_address=None)
    settings = _settings(conf)
    assert settings["crlfile"] == [str(tmp_path / "crl.pem")]
    assert settings["listener"] == ["8883"]


def test_rendered_access_confines_kits_and_lists_each_hub(tmp_path: Path) -> None:
    _, text = _render(tmp_path)
    access = json.loads(text)
    assert access["defaultACLAccess"] == {
        "publishClientSend": False,
        "publishClientReceive": False,
        "subscribe": False,
        "unsubscribe": True,
    }
    clients = {c["username"]: [r["rolename"] for r in c["roles"]] for c in access["clients"]}
    assert clients == {
        "hub-3171-a": ["hub"],
        "hub-3171-b": ["hub"],
        "kit-3171011001001-1": ["kit:kit-3171011001001-1"],
        "kit-3171011001002-1": ["kit:kit-3171011001002-1"],
    }
    roles = {
        r["rolename"]: {(a["acltype"], a["topic"], a["allow"]) for a in r["acls"]}
        for r in access["roles"]
    }
    assert roles["kit:kit-3171011001001-1"] == {
        ("publishClientSend", "tps/v1/kit-3171011001001-1/#", True),
        ("subscribePattern", "hub/v1/kit-3171011001001-1/#", True),
        ("publishClientReceive", "hub/v1/kit-3171011001001-1/#", True),
    }
    assert roles["hub"] == {
        ("subscribePattern", "$share/+/tps/v1/#", True),
        ("subscribePattern", "tps/v1/#", True),
        ("publishClientReceive", "tps/v1/#", True),
        ("publishClientSend", "hub/v1/+/ack", True),
    }


def test_render_finds_debians_dynamic_security_plugin(tmp_path: Path) -> None:
    plugin = find_dynsec_plugin()  # the broker tests need it anyway
    conf, _ = _render(tmp_path, dynsec_plugin=None)
    assert _settings(conf)["plugin"] == [str(plugin)]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hub_ids": []}, "at least one hub id"),
        ({"hub_ids": ["kit-3171011001001-1"]}, "is a kit id"),
        ({"hub_ids": ["hub a"]}, "not a valid id"),
        ({"hub_ids": ["hub-a", "hub-a"]}, "twice"),
        ({"kit_ids": ["kit/1"]}, "not a valid id"),
        ({"kit_ids": ["hub-3171-a"]}, "as a hub and as a kit"),
        ({"port": 0}, "not a TCP port"),
        ({"ca_file": Path("/etc/tps ca/ca.cert.pem")}, "spaces"),
    ],
)
def test_render_refuses_values_mosquitto_would_misread(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(BrokerConfigError, match=message):
        _render(tmp_path, **changes)


# --- the real broker ------------------------------------------------------------------------


def test_kit_publishes_its_result_over_tls_and_the_hub_receives_it(
    mosquitto_broker: MosquittoBroker, mqtt_connect
) -> None:
    own = mosquitto_broker.kits[0]
    hub = mqtt_connect(mosquitto_broker.hub)
    kit = mqtt_connect(own)
    assert kit.connack_properties is not None
    # QoS 1 is all the site uses; the broker says it takes no more (max_qos 1).
    assert kit.connack_properties.MaximumQoS == 1
    assert kit.connack_properties.ReceiveMaximum == 1000
    assert hub.wait_suback(hub.subscribe(SHARED_RESULTS))[0].value == 1  # granted QoS 1

    assert kit.wait_puback(kit.publish(result_topic(own), b"envelope")).value == 0

    [message] = hub.receive(1)
    assert (message.topic, message.payload, message.qos) == (result_topic(own), b"envelope", 1)


def test_kit_cannot_publish_as_another_kit(mosquitto_broker: MosquittoBroker, mqtt_connect) -> None:
    own, other = mosquitto_broker.kits
    hub = mqtt_connect(mosquitto_broker.hub)
    hub.wait_suback(hub.subscribe("tps/v1/#"))
    kit = mqtt_connect(own)

    assert kit.wait_puback(kit.publish(result_topic(other), b"forged")).value == NOT_AUTHORIZED
    # Nor may it forge the hub's acknowledgement of its own documents.
    assert kit.wait_puback(kit.publish(ack_topic(own), b"accepted")).value == NOT_AUTHORIZED
    assert hub.nothing_received()


def test_kit_reads_only_its_own_acknowledgements(
    mosquitto_broker: MosquittoBroker, mqtt_connect
) -> None:
    own, other = mosquitto_broker.kits
    kit = mqtt_connect(own)
    hub = mqtt_connect(mosquitto_broker.hub)
    # The dynamic security plugin refuses a subscription beyond the kit's own acks (its
    # subscribePattern), and the read ACL is applied to each message besides.
    for topic in (ack_topic(other), "hub/v1/+/ack", "#"):
        assert kit.wait_suback(kit.subscribe(topic))[0].value == NOT_AUTHORIZED
    assert kit.wait_suback(kit.subscribe(ack_topic(own)))[0].value == 1

    # 16, "no matching subscribers": the kit's subscriptions to it were never made.
    assert hub.wait_puback(hub.publish(ack_topic(other), b"for the other kit")).value == 16
    assert hub.wait_puback(hub.publish(ack_topic(own), b"yours")).value == 0

    received = [(m.topic, m.payload) for m in kit.receive(1) + kit.drain()]
    assert received == [(ack_topic(own), b"yours")]


def test_kit_missing_from_the_access_file_may_neither_publish_nor_subscribe(
    mosquitto_broker: MosquittoBroker, mqtt_connect
) -> None:
    # Enrolled after the broker's files were rendered: its certificate is good, but the
    # dynamic security plugin knows no role for it, and what is not granted is refused.
    site = mosquitto_broker.site
    authority = ca.load_ca(site.root / "ca", PASSPHRASE)
    enrolled = enrol.enrol_kit(
        authority, tps="31.71.01.1001.003", election="pemilu-2024", out=site.root / "kits"
    )
    assert enrolled.directory is not None
    late = Identity(
        enrolled.kit_id,
        enrolled.directory / enrol.CERT_FILE,
        enrolled.directory / enrol.KEY_FILE,
        site.ca_cert,
    )
    hub = mqtt_connect(mosquitto_broker.hub)
    hub.wait_suback(hub.subscribe("tps/v1/#"))
    kit = mqtt_connect(late)

    assert kit.wait_suback(kit.subscribe(ack_topic(late)))[0].value == NOT_AUTHORIZED
    assert kit.wait_puback(kit.publish(result_topic(late), b"x")).value == NOT_AUTHORIZED
    assert hub.nothing_received()


def test_hub_cannot_write_results(mosquitto_broker: MosquittoBroker, mqtt_connect) -> None:
    hub = mqtt_connect(mosquitto_broker.hub)
    topic = result_topic(mosquitto_broker.kits[0])
    assert hub.wait_puback(hub.publish(topic, b"x")).value == NOT_AUTHORIZED


def test_ed25519_certificates_work_over_tls_1_2_too(
    mosquitto_broker: MosquittoBroker, mqtt_connect
) -> None:
    own = mosquitto_broker.kits[1]
    kit = mqtt_connect(own, tls_maximum_version=ssl.TLSVersion.TLSv1_2)
    assert kit.client.socket().version() == "TLSv1.2"
    # Nobody subscribed: mosquitto answers 16 "No matching subscribers", still a success.
    rc = kit.wait_puback(kit.publish(result_topic(own), b"envelope"))
    assert (rc.value, rc.is_failure) == (16, False)


def _refused_at_tls(broker: MosquittoBroker, identity: Identity | None) -> None:
    """Assert that the broker ends the connection before any CONNACK.

    Measured with paho 2.2 (TLS 1.3, the default): the client's side of the handshake
    completes, so connect() does not raise; it returns 7 (MQTT_ERR_CONN_LOST) once the
    broker's alert arrives, and on_disconnect reports "Unspecified error". Pinned to TLS 1.2,
    connect() raises ssl.SSLError naming the alert instead.
    """
    t = new_client(identity, ca_cert=broker.site.ca_cert, client_id="refused")
    try:
        t.client.connect(broker.host, broker.port)
    except ssl.SSLError:
        return
    t.client.loop_start()
    try:
        t.wait_for(lambda: bool(t.disconnects), 5.0, "disconnect")
    finally:
        t.client.loop_stop()
    assert t.connack is None


@pytest.mark.parametrize(
    ("who", "broker_logs"),
    [
        ("none", "peer did not return a certificate"),
        ("stranger", "certificate verify failed"),  # a kit certificate from another CA
        ("broker", "certificate verify failed"),  # serverAuth only: not a client certificate
    ],
)
def test_client_without_a_region_client_certificate_is_refused_at_tls(
    mosquitto_broker: MosquittoBroker, who: str, broker_logs: str
) -> None:
    site = mosquitto_broker.site
    identity = {"none": None, "stranger": site.stranger, "broker": site.broker}[who]
    _refused_at_tls(mosquitto_broker, identity)
    assert broker_logs in mosquitto_broker.log_text()


def test_with_the_crl_a_revoked_kit_is_refused_at_tls(
    broker_site: BrokerSite, mosquitto_path: str
) -> None:
    kept, revoked = broker_site.kits
    ca.revoke(ca.load_ca(broker_site.root / "ca", PASSPHRASE), revoked.name)
    broker = configure_broker(
        broker_site, mosquitto_path, crl_file=broker_site.root / "ca" / ca.CRL_FILE
    )
    broker.start()
    try:
        connect_client(broker, kept).close()
        _refused_at_tls(broker, revoked)
    finally:
        broker.stop()
    assert "certificate verify failed" in broker.log_text()  # mosquitto names no reason


def test_client_id_cannot_take_over_another_session(
    mosquitto_broker: MosquittoBroker, mqtt_connect
) -> None:
    hub = mqtt_connect(mosquitto_broker.hub)
    # use_username_as_clientid: the kit's claimed client id is replaced by its CN...
    mqtt_connect(mosquitto_broker.kits[0], client_id=HUB_ID)
    time.sleep(0.3)
    assert hub.disconnects == []
    # ...so two connections with the same certificate do replace each other: each hub
    # worker needs its own certificate.
    mqtt_connect(mosquitto_broker.hub, client_id="hub-worker-2")
    hub.wait_for(lambda: bool(hub.disconnects), 5.0, "the first hub connection dropped")


BURST = 3000  # more than mosquitto's default max_queued_messages (1000)


def _burst_while_hub_offline(broker: MosquittoBroker) -> list[bytes]:
    """BURST results from one kit while the hub's persistent session is away; what the hub
    then receives (all PUBACKs must be successes either way: the loss is silent)."""
    hub = connect_client(broker, broker.hub, clean_start=False, session_expiry=600)
    hub.wait_suback(hub.subscribe(SHARED_RESULTS))
    hub.close()
    own = broker.kits[0]
    kit = connect_client(broker, own)
    try:
        for n in range(BURST):
            kit.publish(result_topic(own), str(n).encode())
        assert {rc.value for rc in kit.wait_pubacks(BURST, timeout=20).values()} == {0}
    finally:
        kit.close()
    hub = connect_client(broker, broker.hub, clean_start=False, session_expiry=600)
    try:
        return [m.payload for m in hub.receive(min(BURST, 1000), timeout=20) + hub.drain(0.5)]
    finally:
        hub.close()


def test_burst_for_an_offline_hub_is_queued_not_dropped(
    mosquitto_broker: MosquittoBroker,
) -> None:
    payloads = _burst_while_hub_offline(mosquitto_broker)
    assert set(payloads) == {str(n).encode() for n in range(BURST)}


def test_control_mosquitto_default_queue_limit_drops_silently(
    broker_site: BrokerSite, mosquitto_path: str
) -> None:
    """Why max_queued_messages is set: with mosquitto's default the same burst is cut."""
    broker = configure_broker(broker_site, mosquitto_path)
    conf = broker.conf.read_text()
    assert "\nmax_queued_messages 1000000\n" in conf
    broker.conf.write_text(conf.replace("max_queued_messages 1000000", "max_queued_messages 1000"))
    broker.start()
    try:
        payloads = _burst_while_hub_offline(broker)
    finally:
        broker.stop()
    assert len(set(payloads)) < BURST


def test_queued_message_survives_a_broker_restart(
    mosquitto_broker: MosquittoBroker, mqtt_connect
) -> None:
    # clean_start=False from the very first CONNECT: mosquitto 2.0.11 keeps a session made
    # with clean_start=True (and an expiry) across disconnects, but not across a restart.
    hub = connect_client(
        mosquitto_broker, mosquitto_broker.hub, clean_start=False, session_expiry=600
    )
    hub.wait_suback(hub.subscribe(SHARED_RESULTS))
    hub.close()
    own = mosquitto_broker.kits[0]
    kit = connect_client(mosquitto_broker, own)
    assert kit.wait_puback(kit.publish(result_topic(own), b"queued")).value == 0
    kit.close()

    mosquitto_broker.stop()
    mosquitto_broker.start()

    hub = mqtt_connect(mosquitto_broker.hub, clean_start=False, session_expiry=600)
    assert hub.session_present
    [message] = hub.receive(1)
    assert (message.topic, message.payload) == (result_topic(own), b"queued")


# --- tps-hub broker-config -----------------------------------------------------------------


def test_broker_config_command_lets_the_registrys_kits_publish(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hub.cli import main
    from provisioning.registry import registry_bytes
    from tests.fixtures_broker import make_site

    site = make_site(tmp_path / "site")
    authority = ca.load_ca(site.root / "ca", PASSPHRASE)
    registry = tmp_path / "registry.json"
    registry.write_bytes(registry_bytes(authority))
    out = tmp_path / "out"
    args = ["broker-config", "--identity", str(site.root / "broker"), "--hub-id", HUB_ID]
    args += ["--registry", str(registry), "--out", str(out)]

    result = CliRunner().invoke(main, args)

    assert result.exit_code == 0, result.output
    access = json.loads((out / "tps-hub-access.json").read_text())
    kits = sorted(c["username"] for c in access["clients"] if c["username"] != HUB_ID)
    assert kits == sorted(kit.name for kit in site.kits)
    assert (
        f"plugin_opt_config_file {out / 'tps-hub-access.json'}"
        in (out / "tps-hub.conf").read_text()
    )

    # A registry of another region's CA is refused, as the hub refuses it.
    other = ca.load_ca(site.root / "other-ca", PASSPHRASE)
    registry.write_bytes(registry_bytes(other))
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0 and "another CA" in result.output
