"""The uplink: the kit's outbox to the hub over MQTT v5, and the hub's verdicts back.

One thread drives everything (:meth:`Uplink.step`, looped by :meth:`Uplink.run`): paho's
callbacks run inside ``client.loop()`` on that same thread, so the delivery bookkeeping is
never touched by two threads at once. The outbox is the only memory that matters: nothing is
held in RAM that a crash could lose, and a new paho client is made for every connection so
paho's own in-memory resend queue never duplicates what the outbox already re-sends.

Rules it keeps (DESIGN.md "Topics", issue 5, systemd/mosquitto/tps-hub.conf):
- Connected means a CONNACK with a success code, never just an open socket.
- QoS 1 for every publish: the broker silently drops a QoS 0 publish its ACL denies. A PUBACK
  code >= 0x80 (135: not authorized) is a failure, recorded in the outbox; 16 ("no matching
  subscribers") is a success.
- clean_start False and a long session expiry: the broker keeps the ack subscription and the
  acks queued for an offline kit, across its own restarts.
- Numbers before images: an image goes only when no result is waiting or in flight, and
  only for results the broker has (the outbox's pending_images()).
- Only a verified ack finalises a document; after every reconnect the results sent but not
  acknowledged are published again (the hub counts a document once), and while connected
  again after ``resend_initial_s`` (30-60 s), doubling up to ``resend_s``; after a PUBACK 16
  (nobody subscribed) after ``unheard_resend_initial_s`` (1-2 s), doubling up to
  ``unheard_resend_s``.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import paho.mqtt.client as mqtt
from cryptography import x509
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.outbox import AckOutcome, Outbox, OutboxError, State
from edge.uplink import status
from edge.uplink.acks import AckRefused, apply_ack
from edge.uplink.backoff import Backoff, ack_wait
from edge.uplink.events import EventKind, EventSink, UplinkEvent
from edge.uplink.settings import UplinkSettings
from protocol.certs import load_certificate
from protocol.topics import KitTopics

log = logging.getLogger(__name__)

ClientFactory = Callable[[str], mqtt.Client]
_GOODBYE_WAIT_S = 2.0
_NO_MATCHING_SUBSCRIBERS = 16


def paho_client(client_id: str) -> mqtt.Client:
    """A paho 2.x MQTT v5 client; acks are PUBACKed by us only once recorded (manual_ack)."""
    return mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=True,
    )


@dataclass(frozen=True)
class _InFlight:
    kind: Literal["document", "image", "status"]
    seq: int = 0
    sha256: str = ""


class Uplink:
    """Deliver one kit's outbox. Drive it with :meth:`step`, or :meth:`start`/:meth:`stop`."""

    def __init__(
        self,
        settings: UplinkSettings,
        outbox: Outbox,
        *,
        software_version: str,
        model_version: str,
        client_factory: ClientFactory = paho_client,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        on_event: EventSink | None = None,
        crl: x509.CertificateRevocationList | None = None,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.topics = KitTopics(settings.kit_id)
        self._versions = status.Versions(software_version, model_version)
        self._factory = client_factory
        self._clock = clock  # wall time: status stamps, certificate validity of acks
        self._monotonic = monotonic  # timers: the Pi's wall clock jumps when NTP syncs
        self._on_event = on_event
        self._crl = crl
        self._ca_cert = load_certificate(settings.ca_cert.read_bytes())
        self._tls = settings.tls_context()
        self._rng = rng or random.Random()
        self._backoff = Backoff(settings.backoff_initial_s, settings.backoff_max_s, rng=self._rng)
        self._client: mqtt.Client | None = None
        self._connected = False
        self._dropped: str | None = None  # why the current client is finished, if it is
        self._attempt_started = 0.0
        self._next_attempt = 0.0
        self._inflight: dict[int, _InFlight] = {}  # paho mid -> what it carries
        self._resend_at: dict[int, float] = {}  # seq -> when to publish it again, this connection
        self._resends: dict[int, int] = {}  # seq -> publishes so far on this connection
        self._unheard: dict[int, int] = {}  # seq -> PUBACK 16s in a row on this connection
        self._retry_at: dict[int | str, float] = {}  # seq or image sha -> after a refusal
        self._window = settings.document_window
        self._dirty = True
        self._next_poll = 0.0
        self._next_heartbeat = 0.0
        self._status_key: tuple[Any, ...] | None = None
        self._online: bool | None = None  # what the firmware was last told
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    # -- the firmware's side ----------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    def wake(self) -> None:
        """A new result is in the outbox: look at it on the next step, not the next poll."""
        self._dirty = True

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the uplink is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="uplink", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Say goodbye (retained offline status), disconnect, and end the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run(self) -> None:
        """Step until :meth:`stop`; no error ends the loop, only stop() does."""
        while not self._stop.is_set():
            try:
                self.step()
            except Exception as e:  # a bug or a broken outbox must not end delivery for good
                log.exception("uplink step failed; dropping the connection")
                self._drop(f"internal error: {e}")
        self.close()

    def step(self, timeout: float = 0.2) -> None:
        """One turn: connect when due, move network traffic, publish what is due."""
        now = self._monotonic()
        if self._client is None:
            if now < self._next_attempt:
                self._stop.wait(min(timeout, self._next_attempt - now))
                return
            self._connect(now)
            return
        rc = self._client.loop(timeout)
        if self._dropped is None and rc != mqtt.MQTT_ERR_SUCCESS:
            self._dropped = f"network: {mqtt.error_string(rc)}"
        waited = now - self._attempt_started
        if (
            self._dropped is None
            and not self._connected
            and waited > self.settings.connect_timeout_s
        ):
            self._dropped = "no CONNACK from the broker in time"
        if self._dropped is not None:
            self._drop(self._dropped)
            return
        if self._connected:
            self._pump(self._monotonic())

    def close(self) -> None:
        """Publish the offline goodbye (a clean DISCONNECT suppresses the will) and leave."""
        client = self._client
        if client is None:
            return
        if self._connected:
            goodbye = status.offline(self.settings.kit_id, self._versions, "stopped", self._clock())
            info = client.publish(self.topics.status, goodbye.encode(), qos=1, retain=True)
            self._inflight[info.mid] = _InFlight("status")
            deadline = self._monotonic() + _GOODBYE_WAIT_S
            while info.mid in self._inflight and self._monotonic() < deadline:
                if client.loop(0.1) != mqtt.MQTT_ERR_SUCCESS:
                    break
            client.disconnect()
            client.loop(0.1)  # flush the DISCONNECT
        self._drop("stopped", failed=False)

    # -- connecting -------------------------------------------------------------------------

    def _connect(self, now: float) -> None:
        client = self._factory(self.settings.kit_id)
        client.manual_ack_set(True)
        client.tls_set_context(self._tls)
        client.connect_timeout = self.settings.connect_timeout_s
        will = status.offline(self.settings.kit_id, self._versions, "connection lost")
        # Retained, so the hub's "kits online" view shows offline until the kit is back.
        client.will_set(self.topics.status, will.encode(), qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.settings.session_expiry_s
        self._dropped = None
        self._connected = False
        self._attempt_started = now
        try:
            # clean_start=False: only then does mosquitto write the session to disk.
            client.connect(
                self.settings.host,
                self.settings.port,
                keepalive=self.settings.keepalive_s,
                clean_start=False,
                properties=properties,
            )
        except (OSError, ValueError) as e:  # ssl.SSLError and socket errors are OSErrors
            self._failed_attempt(f"cannot reach {self.settings.host}:{self.settings.port}: {e}")
            return
        self._client = client

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if client is not self._client:
            return
        if reason.is_failure:
            # Not connected: an open socket with a refused CONNACK is not a connection.
            self._dropped = f"broker refused the connection: {reason.getName()} ({reason.value})"
            return
        self._connected = True
        self._backoff.reset()
        self._inflight.clear()
        self._resend_at.clear()  # so everything unanswered is published again
        self._resends.clear()
        self._unheard.clear()
        receive_max = getattr(properties, "ReceiveMaximum", 65_535)
        # Leave room in the broker's receive window for images and the status heartbeat.
        spare = self.settings.image_window + 1
        self._window = max(1, min(self.settings.document_window, receive_max - spare))
        client.subscribe(self.topics.ack, qos=1)
        self._dirty = True
        self._next_heartbeat = 0.0
        self._status_key = None
        log.info(
            "connected to %s:%d as %s (session present: %s)",
            self.settings.host,
            self.settings.port,
            self.settings.kit_id,
            flags.session_present,
        )
        self.last_error = None
        self._tell_online(True)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        _flags: Any,
        reason: ReasonCode,
        _properties: Any,
    ) -> None:
        if client is self._client and self._dropped is None:
            self._dropped = f"disconnected: {reason.getName()}"

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, reasons: list[ReasonCode], _p: Any
    ) -> None:
        for reason in reasons:
            if reason.is_failure:
                # Acks cannot arrive; results will be re-sent but never leave the outbox.
                log.error("the broker refused the ack subscription: %s", reason.getName())
                self.last_error = f"ack subscription refused: {reason.getName()}"

    def _drop(self, reason: str, *, failed: bool = True) -> None:
        """Forget the connection; results in flight count as failed attempts."""
        client, self._client = self._client, None
        was_connected, self._connected = self._connected, False
        for item in self._inflight.values():
            if item.kind == "document":
                self._record_failure(item.seq, f"connection lost before the PUBACK ({reason})")
        self._inflight.clear()
        self._resend_at.clear()
        self._resends.clear()
        self._unheard.clear()
        if client is not None:
            sock = client.socket()
            if sock is not None:
                sock.close()  # no DISCONNECT: the broker must publish the will
        if failed:
            log.warning("uplink offline: %s", reason)
            self._failed_attempt(reason, connected=was_connected)
        else:
            self._tell_online(False, reason)

    def _failed_attempt(self, reason: str, *, connected: bool = False) -> None:
        self.last_error = reason
        delay = self._backoff.next_delay()
        self._next_attempt = self._monotonic() + delay
        log.info("next connection attempt in %.1f s (%s)", delay, reason)
        self._tell_online(False, reason)

    def _tell_online(self, online: bool, detail: str | None = None) -> None:
        if self._online == online:
            return
        self._online = online
        self._emit(UplinkEvent(EventKind.ONLINE if online else EventKind.OFFLINE, detail=detail))

    # -- publishing -------------------------------------------------------------------------

    def _pump(self, now: float) -> None:
        if self._dirty or now >= self._next_poll:
            self._dirty = False
            self._next_poll = now + self.settings.poll_s
            busy = self._publish_documents(now)
            if not busy:
                self._publish_images(now)
            self._heartbeat(now)

    def _publish_documents(self, now: float) -> bool:
        """Publish due results in seq order; True while results are due or in flight."""
        in_flight = {i.seq for i in self._inflight.values() if i.kind == "document"}
        busy = bool(in_flight)
        for entry in self.outbox.pending(limit=1000):
            if entry.seq in in_flight or self._retry_at.get(entry.seq, 0.0) > now:
                continue
            # Not yet on this connection, or its last publish failed, or the ack is overdue.
            again = self._resend_at.get(entry.seq)
            if again is not None and entry.state == State.SENT and now < again:
                continue
            busy = True
            if len(in_flight) >= self._window:
                break
            if not self._publish(
                self.topics.result, entry.signed, _InFlight("document", entry.seq)
            ):
                break
            in_flight.add(entry.seq)
            resends = self._resends.get(entry.seq, 0)
            self._resends[entry.seq] = resends + 1
            wait = ack_wait(
                resends, self.settings.resend_initial_s, self.settings.resend_s, self._rng
            )
            self._resend_at[entry.seq] = now + wait
        return busy

    def _publish_images(self, now: float) -> None:
        in_flight = {i.sha256 for i in self._inflight.values() if i.kind == "image"}
        room = self.settings.image_window - len(in_flight)
        if room <= 0:
            return
        waiting = {k for k, t in self._retry_at.items() if isinstance(k, str) and t > now}
        for image in self.outbox.pending_images(limit=room + len(in_flight) + len(waiting)):
            if image.sha256 in in_flight or image.sha256 in waiting:
                continue
            topic = self.topics.image(image.sha256)
            if not self._publish(topic, image.data, _InFlight("image", image.seq, image.sha256)):
                return
            room -= 1
            if room == 0:
                return

    def _heartbeat(self, now: float) -> None:
        stats = self.outbox.stats()
        free = status.free_disk_bytes(self.settings.state_dir)
        value = status.online(self.settings.kit_id, self._versions, stats, free, self._clock())
        key = status.change_key(value)
        if now < self._next_heartbeat and key == self._status_key:
            return
        if self._publish(self.topics.status, value.encode(), _InFlight("status"), retain=True):
            self._status_key = key
            self._next_heartbeat = now + self.settings.heartbeat_s

    def _publish(
        self, topic: str, payload: bytes, item: _InFlight, *, retain: bool = False
    ) -> bool:
        assert self._client is not None
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            # Not on the wire; the next step sees the lost connection and drops it.
            log.warning("publish to %s failed locally: %s", topic, mqtt.error_string(info.rc))
            return False
        self._inflight[info.mid] = item
        return True

    def _on_publish(
        self, _client: mqtt.Client, _userdata: Any, mid: int, reason: ReasonCode, _p: Any
    ) -> None:
        item = self._inflight.pop(mid, None)
        if item is None:
            return
        self._dirty = True  # room in the window: look for more work now
        if reason.is_failure:
            self._refused(item, reason)
            return
        if item.kind == "document":
            self._resend_unheard(item.seq, heard=reason.value != _NO_MATCHING_SUBSCRIBERS)
        try:
            if item.kind == "document":
                self.outbox.mark_sent(item.seq)  # 0 or 16 (no matching subscribers): success
            elif item.kind == "image":
                self.outbox.mark_image_sent(item.sha256)
        except OutboxError:
            # Left as it was: the result is published again, which the hub counts once.
            log.exception("could not record the PUBACK for %s", item)

    def _resend_unheard(self, seq: int, *, heard: bool) -> None:
        if heard:
            self._unheard.pop(seq, None)
            return
        times = self._unheard.get(seq, 0)
        self._unheard[seq] = times + 1
        # Nobody heard it, so it does not count towards the hub's ack wait doubling.
        self._resends[seq] = max(0, self._resends.get(seq, 1) - 1)
        s = self.settings
        wait = ack_wait(times, s.unheard_resend_initial_s, s.unheard_resend_s, self._rng)
        self._resend_at[seq] = self._monotonic() + wait

    def _refused(self, item: _InFlight, reason: ReasonCode) -> None:
        why = f"broker refused the publish: {reason.getName()} ({reason.value})"
        self.last_error = why
        log.error("%s: %s", item, why)
        if item.kind == "status":
            return
        self._retry_at[item.seq if item.kind == "document" else item.sha256] = (
            self._monotonic() + self.settings.refused_retry_s
        )
        if item.kind == "document":
            self._record_failure(item.seq, why)
            self._emit(UplinkEvent(EventKind.REFUSED, item.seq, why))

    def _record_failure(self, seq: int, why: str) -> None:
        try:
            self.outbox.mark_failed(seq, why)
        except OutboxError:
            log.exception("could not record a failed publish of seq %d", seq)

    # -- the hub's verdicts -----------------------------------------------------------------

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic != self.topics.ack:
            log.warning("ignoring a message on %s", message.topic)
            client.ack(message.mid, message.qos)
            return
        at = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        try:
            verdict = apply_ack(
                self.outbox,
                message.payload,
                kit_id=self.settings.kit_id,
                ca_cert=self._ca_cert,
                at=at,
                crl=self._crl,
                log_id=self.settings.log_id or None,
            )
        except AckRefused as e:
            log.warning("ignoring a message on %s: %s", message.topic, e)
            client.ack(message.mid, message.qos)  # nothing to gain from having it again
            return
        except OutboxError:
            # Not PUBACKed: the broker sends it again after the next reconnect.
            return
        client.ack(message.mid, message.qos)
        self._dirty = True
        if verdict.outcome != AckOutcome.APPLIED:
            return
        kind = EventKind.DELIVERED if verdict.accepted else EventKind.REJECTED
        self._emit(UplinkEvent(kind, verdict.seq, verdict.reason))

    def _emit(self, event: UplinkEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # the lights are not worth losing the uplink over
            log.exception("the uplink's event handler failed on %s", event)
