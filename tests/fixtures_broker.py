"""A real Mosquitto for tests: the hub site's configuration, real identities, TLS clients.

Load from tests/conftest.py with ``pytest_plugins = ["tests.fixtures_broker"]``. Fixtures:

- ``broker_site``: a region CA, a broker, a hub and two kits enrolled with the real
  provisioning code, plus a kit from another region's CA (must be refused); no broker yet.
- ``mosquitto_path``: the mosquitto executable, or the test is skipped saying why.
- ``mosquitto_broker``: the same, with mosquitto running the configuration rendered by
  hub/broker_config.py on a free loopback port; ``stop()``/``start()`` keep persistence.
- ``mqtt_connect``: connect a paho-mqtt 2.x MQTT v5 client over TLS as an identity; every
  client it made is disconnected at teardown.

Tests are skipped (with the reason) when mosquitto is not installed.
"""

from __future__ import annotations

import os
import pwd
import queue
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from hub.broker_config import ACCESS_FILE, render_broker_config
from hub.broker_process import (
    BrokerProcess,
    TlsIdentity,
    free_port,
    mosquitto_binary,
)
from provisioning import authority as ca
from provisioning import enrol, services

PASSPHRASE = b"broker fixture passphrase"
ELECTION = "pemilu-2024"
KIT_TPS = ("31.71.01.1001.001", "31.71.01.1001.002")
HUB_ID = "hub-3171"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Identity:
    """A TLS client (or server) identity: its CN and the files a client needs."""

    name: str
    cert: Path
    key: Path
    ca: Path


@dataclass
class BrokerSite:
    """Everything on disk for one hub site's broker."""

    root: Path
    ca_cert: Path
    broker: Identity
    hub: Identity
    kits: list[Identity]
    stranger: Identity  # a kit certificate from another region's CA


@dataclass
class MosquittoBroker:
    """A mosquitto process running the hub-site configuration; restartable."""

    site: BrokerSite
    binary: str
    port: int
    conf: Path
    access: Path
    persistence_dir: Path
    log: Path
    host: str = HOST
    _process: BrokerProcess | None = None

    @property
    def hub(self) -> Identity:
        return self.site.hub

    @property
    def kits(self) -> list[Identity]:
        return self.site.kits

    @property
    def process(self) -> BrokerProcess:
        if self._process is None:
            probe = TlsIdentity(self.site.hub.cert, self.site.hub.key, self.site.hub.ca)
            self._process = BrokerProcess(
                self.binary, self.conf, self.log, self.host, self.port, probe
            )
        return self._process

    def start(self) -> None:
        self.process.start()

    def stop(self) -> None:
        self.process.stop()

    def log_text(self) -> str:
        return self.process.log_text()


def make_site(root: Path) -> BrokerSite:
    """Enrol a CA, broker, hub and two kits with the real provisioning code under ``root``."""
    authority = ca.init_ca(
        root / "ca", region="31.71", name="KPU Kota Uji", passphrase=PASSPHRASE, days=30
    )
    services.enrol_service(
        authority,
        role="broker",
        name="localhost",
        out=root / "broker",
        days=30,
        dns=("localhost",),
        ips=(HOST,),
    )
    services.enrol_service(authority, role="hub", name=HUB_ID, out=root / "hub", days=30)
    ca_cert = root / "ca" / ca.CERT_FILE
    kits = [_enrol_kit(authority, tps, root / "kits", ca_cert) for tps in KIT_TPS]
    other = ca.init_ca(
        root / "other-ca", region="31.71", name="Bukan KPU", passphrase=PASSPHRASE, days=30
    )
    stranger = _enrol_kit(other, KIT_TPS[0], root / "other-kits", ca_cert)
    return BrokerSite(
        root=root,
        ca_cert=ca_cert,
        broker=_service_identity(root / "broker", "broker", "localhost"),
        hub=_service_identity(root / "hub", "hub", HUB_ID),
        kits=kits,
        stranger=stranger,
    )


def _enrol_kit(authority: ca.Authority, tps: str, out: Path, ca_cert: Path) -> Identity:
    out.mkdir(exist_ok=True)
    kit = enrol.enrol_kit(authority, tps=tps, election=ELECTION, out=out)
    assert kit.directory is not None
    return Identity(
        kit.kit_id, kit.directory / enrol.CERT_FILE, kit.directory / enrol.KEY_FILE, ca_cert
    )


def _service_identity(directory: Path, role: str, name: str) -> Identity:
    return Identity(
        name,
        directory / f"{role}.cert.pem",
        directory / f"{role}.key.pem",
        directory / "ca.cert.pem",
    )


def configure_broker(
    site: BrokerSite, binary: str, port: int | None = None, crl_file: Path | None = None
) -> MosquittoBroker:
    """Write the rendered conf and ACL under ``site.root/mosquitto`` (not started)."""
    directory = site.root / "mosquitto"
    persistence = directory / "data"
    persistence.mkdir(parents=True)
    broker = MosquittoBroker(
        site=site,
        binary=binary,
        port=port or free_port(),
        conf=directory / "tps-hub.conf",
        access=directory / ACCESS_FILE,
        persistence_dir=persistence,
        log=directory / "mosquitto.log",
    )
    conf, access = render_broker_config(
        port=broker.port,
        bind_address=HOST,
        ca_file=site.ca_cert,
        cert_file=site.broker.cert,
        key_file=site.broker.key,
        access_file=broker.access,
        persistence_dir=persistence,
        hub_ids=[site.hub.name],
        kit_ids=[kit.name for kit in site.kits],
        crl_file=crl_file,
        # As root, mosquitto would switch to the `mosquitto` user, who cannot read pytest's
        # private tmp_path; stay the user running the tests.
        run_as_user=pwd.getpwuid(os.geteuid()).pw_name,
    )
    broker.conf.write_text(conf)
    broker.access.write_text(access)
    return broker


@pytest.fixture
def broker_site(tmp_path: Path) -> BrokerSite:
    return make_site(tmp_path)


@pytest.fixture
def mosquitto_path() -> str:
    """The mosquitto executable; skips the test (saying why) when there is none."""
    binary = mosquitto_binary()
    if binary is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto, or set TPS_MOSQUITTO)")
    return binary


@pytest.fixture
def mosquitto_broker(broker_site: BrokerSite, mosquitto_path: str) -> Iterator[MosquittoBroker]:
    broker = configure_broker(broker_site, mosquitto_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


# --- MQTT v5 clients ------------------------------------------------------------------------


@dataclass
class TestClient:
    """A connected paho client plus what the broker sent it, for assertions.

    ``pubacks`` and ``subacks`` map a message id to the reason code(s) the broker returned;
    ``messages`` receives every PUBLISH delivered to this client.
    """

    __test__ = False  # not a pytest test class despite the name

    client: mqtt.Client
    connack: ReasonCode | None = None
    connack_properties: Properties | None = None
    session_present: bool = False
    messages: queue.Queue[mqtt.MQTTMessage] = field(default_factory=queue.Queue)
    pubacks: dict[int, ReasonCode] = field(default_factory=dict)
    subacks: dict[int, list[ReasonCode]] = field(default_factory=dict)
    disconnects: list[ReasonCode] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, topic: str, payload: bytes, *, qos: int = 1) -> int:
        info = self.client.publish(topic, payload, qos=qos)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish to {topic} failed locally: {mqtt.error_string(info.rc)}")
        return info.mid

    def subscribe(self, topic: str, *, qos: int = 1) -> int:
        rc, mid = self.client.subscribe(topic, qos=qos)
        if rc != mqtt.MQTT_ERR_SUCCESS or mid is None:
            raise RuntimeError(f"subscribe to {topic} failed locally: {mqtt.error_string(rc)}")
        return mid

    def wait_puback(self, mid: int, timeout: float = 5.0) -> ReasonCode:
        return self.wait_for(lambda: self.pubacks.get(mid), timeout, f"PUBACK for mid {mid}")

    def wait_suback(self, mid: int, timeout: float = 5.0) -> list[ReasonCode]:
        return self.wait_for(lambda: self.subacks.get(mid), timeout, f"SUBACK for mid {mid}")

    def wait_pubacks(self, count: int, timeout: float = 10.0) -> dict[int, ReasonCode]:
        self.wait_for(lambda: len(self.pubacks) >= count or None, timeout, f"{count} PUBACKs")
        return self.pubacks

    def receive(self, count: int, timeout: float = 5.0) -> list[mqtt.MQTTMessage]:
        """Exactly the next ``count`` messages, or AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        got = []
        while len(got) < count:
            try:
                got.append(self.messages.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"received {len(got)} of {count} messages") from None
        return got

    def drain(self, wait: float = 0.3) -> list[mqtt.MQTTMessage]:
        """Every message that arrives within ``wait`` seconds of the last one."""
        got = []
        while True:
            try:
                got.append(self.messages.get(timeout=wait))
            except queue.Empty:
                return got

    def nothing_received(self, wait: float = 0.5) -> bool:
        try:
            message = self.messages.get(timeout=wait)
        except queue.Empty:
            return True
        self.messages.put(message)
        return False

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def wait_for(self, ready: Callable[[], Any], timeout: float, what: str) -> Any:
        with self.changed:
            if not self.changed.wait_for(ready, timeout):
                raise AssertionError(f"no {what} within {timeout} s")
            return ready()

    def _note(self, update: Callable[[], None]) -> None:
        with self.changed:
            update()
            self.changed.notify_all()


def new_client(
    identity: Identity | None,
    *,
    ca_cert: Path,
    client_id: str = "",
    tls_maximum_version: ssl.TLSVersion | None = None,
) -> TestClient:
    """A paho 2.x MQTT v5 client with TLS set up for ``identity`` (None: no client cert)."""
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        protocol=mqtt.MQTTv5,
        client_id=client_id or (identity.name if identity else "anonymous"),
    )
    context = ssl.create_default_context(cafile=str(ca_cert))
    if identity is not None:
        context.load_cert_chain(str(identity.cert), str(identity.key))
    if tls_maximum_version is not None:
        context.maximum_version = tls_maximum_version
    # The same as tls_set(ca_certs=, certfile=, keyfile=), plus a way to pin TLS 1.2.
    client.tls_set_context(context)
    wrapper = TestClient(client)
    _attach_callbacks(wrapper)
    return wrapper


def _attach_callbacks(t: TestClient) -> None:
    def on_connect(
        _c: mqtt.Client, _u: Any, flags: mqtt.ConnectFlags, rc: ReasonCode, p: Properties
    ) -> None:
        def update() -> None:
            t.connack, t.connack_properties = rc, p
            t.session_present = flags.session_present

        t._note(update)

    def on_publish(_c: mqtt.Client, _u: Any, mid: int, rc: ReasonCode, _p: Any) -> None:
        t._note(lambda: t.pubacks.__setitem__(mid, rc))

    def on_subscribe(_c: mqtt.Client, _u: Any, mid: int, rcs: list[ReasonCode], _p: Any) -> None:
        t._note(lambda: t.subacks.__setitem__(mid, rcs))

    def on_disconnect(_c: mqtt.Client, _u: Any, _f: Any, rc: ReasonCode, _p: Any) -> None:
        t._note(lambda: t.disconnects.append(rc))

    t.client.on_connect = on_connect
    t.client.on_publish = on_publish
    t.client.on_subscribe = on_subscribe
    t.client.on_disconnect = on_disconnect
    t.client.on_message = lambda _c, _u, message: t.messages.put(message)


def connect_client(
    broker: MosquittoBroker,
    identity: Identity | None,
    *,
    clean_start: bool = True,
    session_expiry: int = 0,
    client_id: str = "",
    tls_maximum_version: ssl.TLSVersion | None = None,
    timeout: float = 5.0,
) -> TestClient:
    """Connect as ``identity`` and wait for a successful CONNACK (else AssertionError).

    ``session_expiry`` > 0 with ``clean_start=False`` makes a persistent session: the broker
    queues QoS 1 messages for it while it is away.
    """
    t = new_client(
        identity,
        ca_cert=broker.site.ca_cert,
        client_id=client_id,
        tls_maximum_version=tls_maximum_version,
    )
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = session_expiry
    t.client.connect(broker.host, broker.port, clean_start=clean_start, properties=properties)
    t.client.loop_start()
    try:
        t.wait_for(lambda: t.connack is not None or bool(t.disconnects), timeout, "CONNACK")
    except AssertionError:
        t.client.loop_stop()
        raise
    if t.connack is None or t.connack.is_failure:
        t.client.loop_stop()
        raise AssertionError(f"connection refused: {t.connack or t.disconnects}")
    return t


@pytest.fixture
def mqtt_connect(mosquitto_broker: MosquittoBroker) -> Iterator[Callable[..., TestClient]]:
    """``mqtt_connect(identity, **options)``: a connected TestClient, closed at teardown."""
    made: list[TestClient] = []

    def connect(identity: Identity | None, **options: Any) -> TestClient:
        t = connect_client(mosquitto_broker, identity, **options)
        made.append(t)
        return t

    yield connect
    for t in made:
        t.close()
