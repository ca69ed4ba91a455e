"""A kit certificate trying to join the hub workers' shared subscription, on the real broker.

Mosquitto hands each message of a shared group to one member in turn and checks the read
ACL only then: a kit that joined ``$share/hub/...`` would take its turn of every result and
drop it, while the sending kit got PUBACK 0 and the hub saw nothing. The site's broker must
refuse the SUBSCRIBE itself (hub/broker_access.py), online or from a persistent session.
"""

from __future__ import annotations

from typing import Any

from tests.fixtures_broker import MosquittoBroker, TestClient

NOT_AUTHORIZED = 135
RESULTS = 20


def _publish_results(kit: TestClient, kit_id: str) -> list[bytes]:
    payloads = [f"result {i}".encode() for i in range(RESULTS)]
    mids = [kit.publish(f"tps/v1/{kit_id}/result", payload) for payload in payloads]
    assert [kit.wait_puback(mid).value for mid in mids] == [0] * RESULTS
    return payloads


def _hub_joins(broker: MosquittoBroker, mqtt_connect: Any) -> TestClient:
    hub = mqtt_connect(broker.hub)
    assert hub.wait_suback(hub.subscribe("$share/hub/tps/v1/+/result"))[0].value == 1
    return hub


def test_kit_joining_the_hubs_shared_group_steals_no_result(
    mosquitto_broker: MosquittoBroker, mqtt_connect
) -> None:
    sender, thief_identity = mosquitto_broker.kits
    hub = _hub_joins(mosquitto_broker, mqtt_connect)
    thief = mqtt_connect(thief_identity)
    for group in ("$share/hub/tps/v1/+/result", "$share/hub/#", "$share/other/tps/v1/+/result"):
        assert thief.wait_suback(thief.subscribe(group))[0].value == NOT_AUTHORIZED

    sent = _publish_results(mqtt_connect(sender), sender.name)

    assert [m.payload for m in hub.receive(RESULTS) + hub.drain()] == sent  # every one, once
    assert thief.nothing_received()


def test_kit_session_left_in_the_hubs_shared_group_steals_no_result(
    mosquitto_broker: MosquittoBroker, mqtt_connect
) -> None:
    sender, thief_identity = mosquitto_broker.kits
    # The thief tries from a persistent session and goes away: the broker would keep
    # queueing its turn of the results for as long as it keeps the session.
    thief = mqtt_connect(thief_identity, clean_start=False, session_expiry=3600)
    assert thief.wait_suback(thief.subscribe("$share/hub/tps/v1/+/result"))[0].value == 135
    thief.close()
    hub = _hub_joins(mosquitto_broker, mqtt_connect)

    sent = _publish_results(mqtt_connect(sender), sender.name)

    assert [m.payload for m in hub.receive(RESULTS) + hub.drain()] == sent
    back = mqtt_connect(thief_identity, clean_start=False, session_expiry=3600)
    assert back.session_present and back.nothing_received()
