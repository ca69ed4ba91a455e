"""The uplink without a broker: connection state, backoff, settings (a scripted fake client)."""

from __future__ import annotations

import dataclasses
import itertools
import random
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.outbox import Outbox
from edge.uplink import Backoff, EventKind, Uplink, UplinkSettings, settings_from_config
from protocol.kitconfig import parse_kit_config
from provisioning import authority as ca
from provisioning.enrol import EnrolledKit
from tests.conftest import seal_next

TPS = "31.71.01.1001.001"


class FakeClient:
    """Answers CONNECT with a scripted CONNACK on the first loop(); records everything."""

    def __init__(self, connack: int) -> None:
        self.connack = connack
        self.connect_timeout = 0.0
        self.connected_with: dict[str, Any] = {}
        self.will: tuple[Any, ...] = ()
        self.published: list[str] = []
        self.subscribed: list[tuple[str, int]] = []
        self.answered = False
        self.answered_mids = 0  # publishes the test has PUBACKed
        self.on_connect: Any = None

    def manual_ack_set(self, on: bool) -> None:
        assert on

    def tls_set_context(self, context: Any) -> None:
        self.tls = context

    def will_set(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        self.will = (topic, payload, qos, retain)

    def connect(self, host: str, port: int, **options: Any) -> int:
        self.connected_with = {"host": host, "port": port, **options}
        return mqtt.MQTT_ERR_SUCCESS

    def loop(self, timeout: float) -> int:
        if not self.answered:
            self.answered = True
            reason = ReasonCode(PacketTypes.CONNACK, identifier=self.connack)
            flags = mqtt.ConnectFlags(session_present=False)
            self.on_connect(self, None, flags, reason, Properties(PacketTypes.CONNACK))
        return mqtt.MQTT_ERR_SUCCESS

    def subscribe(self, topic: str, qos: int) -> tuple[int, int]:
        self.subscribed.append((topic, qos))
        return mqtt.MQTT_ERR_SUCCESS, 1

    def publish(self, topic: str, *_args: Any, **_kwargs: Any) -> mqtt.MQTTMessageInfo:
        self.published.append(topic)
        info = mqtt.MQTTMessageInfo(len(self.published))
        info.rc = mqtt.MQTT_ERR_SUCCESS
        return info

    def socket(self) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def kit(region) -> EnrolledKit:
    return region.kit(TPS)


@pytest.fixture
def settings(kit: EnrolledKit, region, tmp_path: Path) -> UplinkSettings:
    return UplinkSettings(
        kit_id=kit.kit_id,
        host="hub.invalid",
        port=8883,
        ca_cert=region.ca_dir / ca.CERT_FILE,
        cert=kit.directory / "kit.cert.pem",
        key=kit.directory / "kit.key.pem",
        state_dir=tmp_path,
        backoff_initial_s=1.0,
        backoff_max_s=8.0,
    )


def make_uplink(settings, tmp_path, connack: int, clock: Clock, events: list):
    clients: list[FakeClient] = []

    def factory(client_id: str) -> FakeClient:
        assert client_id == settings.kit_id  # the client id is the certificate's CN
        clients.append(FakeClient(connack))
        return clients[-1]

    outbox = Outbox.open(tmp_path / "outbox.sqlite3")
    uplink = Uplink(
        settings,
        outbox,
        software_version="s",
        model_version="m",
        client_factory=factory,  # type: ignore[arg-type]
        monotonic=clock,
        rng=random.Random(7),
        on_event=events.append,
    )
    return uplink, clients


def test_refused_connack_is_never_connected_and_backs_off(settings, tmp_path):
    clock, events = Clock(), []
    uplink, clients = make_uplink(settings, tmp_path, 135, clock, events)
    waits = []
    for _ in range(6):
        uplink.step(0)  # connect: a socket, not yet a connection
        assert not uplink.connected
        uplink.step(0)  # the CONNACK: refused
        assert not uplink.connected
        waits.append(uplink._next_attempt - clock.now)
        clock.now = uplink._next_attempt
    assert len(clients) == 6 and not any(c.published or c.subscribed for c in clients)
    assert [e.kind for e in events] == [EventKind.OFFLINE]  # told once, not per attempt
    assert "Not authorized" in (uplink.last_error or "")
    assert all(0.5 <= w <= 8.0 for w in waits) and waits[-1] >= 4.0  # grows, then bounded
    assert waits == sorted(waits[:4]) + waits[4:]


def test_connected_only_after_a_successful_connack(settings, tmp_path):
    clock, events = Clock(), []
    uplink, clients = make_uplink(settings, tmp_path, 0, clock, events)
    uplink.step(0)
    assert not uplink.connected and events == []
    options = clients[0].connected_with
    assert options["clean_start"] is False  # only then does mosquitto persist the session
    assert options["properties"].SessionExpiryInterval == settings.session_expiry_s
    topic, payload, qos, retain = clients[0].will
    assert topic == f"tps/v1/{settings.kit_id}/status" and qos == 1 and retain
    assert b'"offline"' in payload
    uplink.step(0)
    assert uplink.connected and [e.kind for e in events] == [EventKind.ONLINE]
    assert clients[0].subscribed == [(f"hub/v1/{settings.kit_id}/ack", 1)]
    assert clients[0].published == [f"tps/v1/{settings.kit_id}/status"]  # the heartbeat


def test_backoff_is_bounded_jittered_and_resets():
    backoff = Backoff(1.0, 30.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(12)]
    assert 0.5 <= delays[0] <= 1.0
    assert all(15.0 <= d <= 30.0 for d in delays[6:])  # capped at the maximum
    assert len(set(delays)) == len(delays)  # jittered: kits do not return in step
    backoff.reset()
    assert backoff.next_delay() <= 1.0
    with pytest.raises(ValueError):
        Backoff(0, 1)


def test_settings_from_kit_config_resolve_paths_against_the_bundle(tmp_path):
    config = parse_kit_config(
        {
            "kit": {"id": "kit-1", "tps": TPS, "election": "pemilu-2024", "region": "31.71"},
            "broker": {"host": "hub.kpu-3171.local", "port": 8883, "keepalive": 45},
            "forms": {"ids": ["ppwp-plano"]},
        }
    )
    settings = settings_from_config(config, tmp_path, heartbeat_s=15)
    assert (settings.kit_id, settings.host, settings.port) == ("kit-1", "hub.kpu-3171.local", 8883)
    assert settings.keepalive_s == 45 and settings.heartbeat_s == 15
    assert settings.key == tmp_path / "kit.key.pem"
    assert settings.state_dir == tmp_path / "state"


def _result_publishes(
    uplink, clients, clock, kit, *, until: float, tick: float, puback
) -> list[float]:  # type: ignore[no-untyped-def]
    """Step the uplink until ``until``, the broker answering each publish with the PUBACK
    code ``puback(now)``; when the kit's result was published."""
    result_topic = f"tps/v1/{kit.kit_id}/result"
    sent_at: list[float] = []
    while clock.now < until:
        uplink.step(0)
        client = clients[-1]
        while len(client.published) > client.answered_mids:
            client.answered_mids += 1
            if client.published[client.answered_mids - 1] == result_topic:
                sent_at.append(clock.now)
            code = ReasonCode(PacketTypes.PUBACK, identifier=puback(clock.now))
            uplink._on_publish(client, None, client.answered_mids, code, None)
        clock.now += tick
    return sent_at


def test_result_nobody_heard_is_published_again_within_seconds_then_less_often(
    settings, kit, tmp_path
):
    # After a broker restart the kits are back a second before the hub's workers subscribe:
    # a PUBACK 16 (no matching subscribers) means nobody heard, so ask again within 1-2 s,
    # doubling while nobody hears, up to unheard_resend_s; once heard, the ack wait resumes.
    clock, events = Clock(), []
    uplink, clients = make_uplink(settings, tmp_path, 0, clock, events)
    assert (settings.unheard_resend_initial_s, settings.unheard_resend_s) == (2.0, 30.0)
    seal_next(uplink.outbox, kit, {2: b"p2"})
    heard_from = 1000 + 120.0
    sent_at = _result_publishes(
        uplink, clients, clock, kit, until=1000 + 300, tick=0.25,
        puback=lambda now: 0 if now >= heard_from else 16,
    )  # fmt: skip
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    unheard = [g for a, g in zip(sent_at, gaps, strict=False) if a < heard_from]
    ceilings = [2, 4, 8, 16] + [30] * (len(unheard) - 4)
    assert all(c / 2 - 0.25 <= g <= c + 0.5 for g, c in zip(unheard, ceilings, strict=True)), gaps
    heard = [g for a, g in zip(sent_at, gaps, strict=False) if a >= heard_from]
    # Heard: the hub's ack is awaited as for a first publish (30-60 s), not the unheard ones.
    assert heard and 30 <= heard[0] <= 61, gaps


def test_result_pubacked_but_never_acknowledged_is_asked_again_soon_then_less_often(
    settings, kit, tmp_path
):
    # A broker's PUBACK is not the hub's ack: a result lost between them (a crashed worker)
    # is published again after 30-60 s, then twice as long each time, up to resend_s.
    clock, events = Clock(), []
    settings = dataclasses.replace(settings, poll_s=1.0)
    uplink, clients = make_uplink(settings, tmp_path, 0, clock, events)
    assert (settings.resend_initial_s, settings.resend_s) == (60.0, 600.0)  # the defaults
    seal_next(uplink.outbox, kit, {2: b"p2"})
    sent_at = _result_publishes(
        uplink, clients, clock, kit, until=1000 + 3600, tick=1.0, puback=lambda now: 0
    )
    assert len(clients) == 1  # one connection throughout: these are re-asks, not reconnects
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    ceilings = [60, 120, 240, 480] + [600] * (len(gaps) - 4)
    assert all(c / 2 <= g <= c + 1 for g, c in zip(gaps, ceilings, strict=True)), gaps
    assert gaps[0] <= 61 and max(gaps) <= 601  # asked again within a minute, never > resend_s
    assert 9 <= len(sent_at) <= 15  # in an hour: more than every 600 s, never hundreds
