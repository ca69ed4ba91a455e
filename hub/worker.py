"""The MQTT worker (`tps-hub run`): receive kits' results and images, ingest, acknowledge.

paho-mqtt 2.x, MQTT v5 over TLS with the hub's certificate. The session is persistent
(clean_start False with a session expiry: measured on Mosquitto 2.0, only such a session
survives a broker restart, see systemd/mosquitto/tps-hub.conf), so results published while
the worker is down wait for it. Several workers share the load through one shared
subscription; with PostgreSQL they share one database.

Messages are acknowledged to the broker by hand (paho's manual_ack): a message's PUBACK goes
out only after its batch is committed and its signed ack published, so a crash at any point
makes the broker deliver it again, and ingest's idempotency turns that into the same ack.
Receiving runs in paho's network thread; judging and storing in one processing thread, in
batches of whatever has arrived (at most ``broker.batch``), so one fsync covers many results.
The batches are pipelined: while one is stored and acknowledged, the next is judged in the
ingestor's pool of processes (``[ingest] workers``).

Kits' status heartbeats (tps/v1/{kit}/status, retained, with the last will saying offline)
are recorded too (hub/recap/seen.py record_status): the hub's view of which kits are online.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from hub.ack_window import AckWindow, receive_maximum
from hub.config import BrokerSettings
from hub.errors import HubError
from hub.ingest import Inbound, Ingestor, Outcome
from hub.ingest.ingestor import Judging
from hub.ingest.verdict import valid_kit_id
from hub.recap.seen import record_status
from hub.store.results import utc_text
from protocol.status import KitStatus, StatusError, parse_status
from protocol.topics import KitTopics, parse_kit_topic, shared_filters

log = logging.getLogger(__name__)

_RETRY_MAX_S = 5.0


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    certificate: Path
    key: Path


@dataclass
class WorkerStats:
    received: int = 0
    batches: int = 0
    acks_published: int = 0
    store_errors: int = 0
    statuses: int = 0  # kit heartbeats recorded (tps/v1/{kit}/status)
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass
class _Delivery:
    """Received messages on their way: judged (perhaps still in the pool), then stored."""

    items: list[_Received]
    messages: list[Inbound]
    statuses: list[tuple[str, bytes]]  # (kit, payload) of status heartbeats
    now: dt.datetime
    judging: Judging | None


@dataclass(frozen=True)
class _Received:
    topic: str
    payload: bytes
    mid: int
    qos: int


class Worker:
    """One hub worker connected to the site's broker."""

    def __init__(
        self,
        ingestor: Ingestor,
        broker: BrokerSettings,
        tls: TlsFiles,
        *,
        client_id: str,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.ingestor = ingestor
        self.broker = broker
        self.clock = clock
        self.stats = WorkerStats()
        self._queue: queue.Queue[_Received] = queue.Queue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None
        self._acks = AckWindow()
        self.client = self._make_client(client_id, tls)

    def _make_client(self, client_id: str, tls: TlsFiles) -> mqtt.Client:
        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.tls_set(ca_certs=str(tls.ca), certfile=str(tls.certificate), keyfile=str(tls.key))
        client.reconnect_delay_set(1, 30)
        # A batch's acks go out at once, within the broker's Receive Maximum as
        # self._acks counts it (hub/ack_window.py says why not paho's window).
        client.max_inflight_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        return client

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self.ingestor.warm_up()
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.broker.session_expiry
        # How many unacknowledged QoS 1 messages the broker may send us: two batches, so
        # the next batch arrives (and is judged) while this one is stored. Without it the
        # broker's max_inflight_messages (20 by default) would cap every batch.
        properties.ReceiveMaximum = min(2 * self.broker.batch, 65535)
        self.client.connect_async(
            self.broker.host,
            self.broker.port,
            keepalive=self.broker.keepalive,
            clean_start=False,
            properties=properties,
        )
        self.client.loop_start()
        self._thread = threading.Thread(target=self._process, name="hub-ingest", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        """True once connected and subscribed."""
        return self._subscribed.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the batch in hand, then disconnect (the session keeps the rest queued)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.client.disconnect()
        self.client.loop_stop()

    def run_forever(self) -> None:
        """Run until SIGTERM or SIGINT (as `tps-hub run` under systemd)."""
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.start()
        while not stop.wait(60):
            log.info("hub worker: %s", self.stats)
        self.stop()

    # -- paho callbacks (network thread) ---------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        self._acks.set_limit(receive_maximum(properties))
        self._connected.set()
        log.info("connected to %s (session present: %s)", self.broker.host, flags.session_present)
        options = SubscribeOptions(qos=1)
        client.subscribe([(f, options) for f in shared_filters(self.broker.share_group)])

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        failed = [r for r in reasons if r.is_failure]
        if failed:
            log.error("subscription refused: %s", failed)
            return
        self._subscribed.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._connected.clear()
        self._subscribed.clear()
        if not self._stop.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_publish(self, _c: mqtt.Client, _u: Any, _mid: int, _reason: Any, _p: Any) -> None:
        self._acks.acknowledged()

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self._queue.put(_Received(message.topic, message.payload, message.mid, message.qos))

    # -- processing thread -----------------------------------------------------------------

    def _process(self) -> None:
        # Pipelined: the next batch is judged (in the ingestor's pool) while this one is
        # stored, acknowledged and PUBACKed.
        pending: _Delivery | None = None
        while not self._stop.is_set():
            items = self._take(wait=pending is None)
            batch = self._start(items) if items else None
            if pending is not None:
                self._finish(pending)
            pending = batch
        if pending is not None:
            self._finish(pending)

    def _take(self, *, wait: bool) -> list[_Received]:
        """Up to ``broker.batch`` received messages; waits a little for the first only if
        nothing else is in hand."""
        try:
            batch = [self._queue.get(timeout=0.2) if wait else self._queue.get_nowait()]
        except queue.Empty:
            return []
        while len(batch) < self.broker.batch:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _start(self, items: list[_Received]) -> _Delivery:
        self.stats.received += len(items)
        messages: list[Inbound] = []
        statuses: list[tuple[str, bytes]] = []
        for item in items:
            topic = parse_kit_topic(item.topic)
            if topic is None:
                log.warning("ignoring a message on unexpected topic %r", item.topic[:200])
                continue
            if topic.kind == "status":
                statuses.append((topic.kit, item.payload))
            else:
                messages.append(Inbound(topic.kind, topic.kit, item.payload, topic.image_sha256))
        now = self.clock()
        judging = self.ingestor.judge(messages, now) if messages else None
        return _Delivery(items, messages, statuses, now, judging)

    def _finish(self, batch: _Delivery) -> None:
        outcomes = self._commit(batch) if batch.messages else []
        if outcomes is None:
            return  # stopping while the database is down: the broker redelivers them
        for outcome in outcomes:
            self._count(outcome)
            if outcome.ack is not None and not self._publish_ack(outcome.kit, outcome.ack):
                # Stopping with the window full: no PUBACK either, so the broker delivers
                # the batch again and ingest's idempotency answers with the stored acks.
                return
        self._record_statuses(batch.statuses, batch.now)
        for item in batch.items:
            self.client.ack(item.mid, item.qos)
        self.stats.batches += 1

    def _publish_ack(self, kit: str, ack: bytes) -> bool:
        """Publish one signed ack within the broker's window; False if stopping first."""
        if not self._acks.wait_for_room(self._stop):
            return False
        self._acks.sent()
        info = self.client.publish(KitTopics(kit).ack, ack, qos=1)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            # Refused by paho itself (no PUBACK will come): not in flight. The ack is
            # stored; the kit's resend gets it.
            self._acks.acknowledged()
            log.error("could not publish the ack for kit %s: %s", kit, mqtt.error_string(info.rc))
            return True
        self.stats.acks_published += 1
        return True

    def _commit(self, batch: _Delivery) -> list[Outcome] | None:
        assert batch.judging is not None
        try:
            return self.ingestor.commit(batch.messages, batch.judging, batch.now)
        except Exception:
            # _ingest judges again and retries, isolating a message that fails alone.
            return self._ingest(batch.messages)

    def _record_statuses(self, statuses: list[tuple[str, bytes]], now: dt.datetime) -> None:
        """Note each heartbeat (hub/recap/seen.py): which kits are online, their queues.

        One transaction for the batch's heartbeats. A heartbeat that cannot be stored is
        logged and dropped: the kit sends another within a minute, and results must not
        wait behind it.
        """
        valid = [(kit, value) for kit, payload in statuses if (value := _status(kit, payload))]
        if not valid:
            return
        at = utc_text(now)
        db = self.ingestor.store.db
        try:
            with db.transaction():
                for kit, value in valid:
                    record_status(db, kit, at, value)
        except HubError as e:
            log.error("could not record %d kit heartbeats: %s", len(valid), e)
            return
        self.stats.statuses += len(valid)

    def _ingest(self, messages: list[Inbound]) -> list[Outcome] | None:
        """Ingest with retries: the database being away must not lose or drop anything.

        None means "stopping, leave the batch unacknowledged". A message that makes ingest
        fail for another reason (a bug) is isolated and given up on alone, without a hub
        ack, so the kit sends it again later and the worker keeps serving everyone else.
        """
        delay = 0.1
        while True:
            try:
                return self.ingestor.ingest_many(messages, self.clock())
            except HubError as e:
                self.stats.store_errors += 1
                log.error("storing a batch of %d failed, retrying: %s", len(messages), e)
            except Exception:
                self.stats.store_errors += 1
                log.exception("unexpected error ingesting a batch of %d", len(messages))
                if len(messages) == 1:
                    return []
                outcomes: list[Outcome] = []
                for message in messages:
                    alone = self._ingest([message])
                    if alone is None:
                        return None
                    outcomes.extend(alone)
                return outcomes
            if self._stop.wait(delay):
                return None
            delay = min(delay * 2, _RETRY_MAX_S)

    def _count(self, outcome: Outcome) -> None:
        key = f"{outcome.kind}:{outcome.status}"
        self.stats.outcomes[key] = self.stats.outcomes.get(key, 0) + 1
        if outcome.status in ("rejected", "deferred"):
            log.warning(
                "%s from %s %s: %s %s",
                outcome.kind,
                outcome.kit,
                outcome.status,
                outcome.reason_code,
                outcome.reason[:200],
            )


def _status(kit: str, payload: bytes) -> KitStatus | None:
    """A kit's status, or None (logged) if it is not one.

    The broker's ACL lets only the kit publish on its topic, so the topic names who is
    alive; a status naming another kit is refused rather than believed.
    """
    if not valid_kit_id(kit):
        log.warning("ignoring a status on a bad topic (%r)", kit[:80])
        return None
    try:
        value = parse_status(payload)
    except StatusError as e:
        log.warning("ignoring a status of kit %s that is not one: %s", kit, e)
        return None
    if value.kit != kit:
        log.warning("ignoring a status on kit %s's topic that is not that kit's", kit)
        return None
    return value


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (for tests and the CLI)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
