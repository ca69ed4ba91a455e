"""Hub benchmark: how fast the regional hub verifies, stores, logs, acknowledges and
recapitulates signed results, through the real broker and at national scale.

    python benchmarks/hub.py --broker-results 20000 --tps 2000      # a quick check
    taskset -c 0,1 python benchmarks/hub.py --skip-broker           # 823,220 TPS x 5 ballots

Two parts, both with real identities (a region CA, one Ed25519 key and X.509 certificate
per kit, every document signed by its kit and chained to its previous one), prepared in a
process pool before anything is timed:

1. Through Mosquitto, started with the hub site's own TLS and ACL configuration
   (hub/broker_config.py): every kit publishes its five results at QoS 1 while the hub is
   away, then the hub's real worker (hub/worker.py, SQLite, the recapitulation on) takes
   them from its persistent session; timed until every ack is published. In the same run,
   a plain paho client with the worker's settings (TLS, MQTT v5, manual PUBACK, the same
   receive window) takes the same messages from its own session without processing them:
   the raw rate, the ceiling the broker and paho set. Reported: both rates and their ratio.
2. National scale, broker left out: a general election's TPS (823,220 by default) x five
   ballots through Ingestor.judge/commit with the recapitulation hook, pipelined as the
   worker runs them. Signing is done segment by segment beforehand (its time is reported
   apart and not counted as ingest). Reported: ingest time and rate, database size on
   disk, peak memory (RSS) of the storing process and of each judging process, and the
   latency of a whole-election recap read (RecapReader.region, median of many), with the
   totals checked against the numbers the kits signed.

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import pickle
import pwd
import queue
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import tomli_w
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub import service
from hub.broker_config import ACCESS_FILE, render_broker_config
from hub.broker_process import BrokerProcess, TlsIdentity, free_port, mosquitto_binary
from hub.config import load_hub_config
from hub.ingest import Inbound
from hub.recap import RecapReader
from hub.store.db import is_postgres_url, sqlite_path
from hub.worker import TlsFiles, Worker
from protocol import bundle, certs
from protocol.canonical import sha256_hex
from protocol.document import GENESIS
from protocol.forms.loader import load_template, template_sha256
from protocol.forms.rules import evaluate
from protocol.forms.schema import Template
from protocol.result import BUNDLE_FORMAT, PAYLOAD_TYPE
from provisioning import authority as ca
from provisioning import services
from provisioning.synth.values import consistent_values

HUB_ID = "hub-31"
RAW_ID = "hub-31-raw"  # the raw receiver's identity: its own session beside the hub's
LOG_ID = "log-31"
NATIONAL_TPS = 823_220

# --- the signed results --------------------------------------------------------------------
#
# Kit certificates are issued in provisioning's kit profile but not filed: provisioning
# writes (and fsyncs) a file per certificate, which for 823,220 kits would measure the disk.
# The hub is regional (one CA per region, protocol/certs.py) and a CA's region is at least a
# province, so a national run puts every TPS under one province code: 99 kabupaten/kota x 70
# kecamatan x 12 desa x 10 TPS (room for 831,600 TPS), about the real number of recap rows
# (Indonesia: 514 kabupaten/kota, 7,277 kecamatan, 83,731 desa/kelurahan).

PASSPHRASE = b"hub benchmark passphrase"
REGION = "31"
ELECTION = "pemilu-2024"
TPS_PER_DESA, DESA_PER_KEC, KEC_PER_KABKOTA = 10, 12, 70
CAPTURED = "2024-02-14T19:03:00Z"
VALUE_SETS = 64  # plausible value sets per template, cycled (drawing each costs a rule check)


@dataclass(frozen=True)
class Ballot:
    """One of the five ballots: the form id documents carry, and the template whose fields
    and arithmetic its numbers follow."""

    form: str
    template: str


# The 2024 general election's five ballots. Only PPWP has a real template
# (protocol/forms/templates); DPRD kabupaten/kota has the example layout. DPR and DPRD
# provinsi are party-list forms like DPRD kab/kota, and DPD a candidate form like PPWP, so
# their numbers follow those templates, under form ids the hub has no template for (the
# hub stores each with a "no-template" anomaly, as it would on election night).
BALLOTS = (
    Ballot("ppwp-plano", "ppwp-plano"),
    Ballot("dpr-example", "dprd-kabko-example"),
    Ballot("dpd-example", "ppwp-plano"),
    Ballot("dprd-prov-example", "dprd-kabko-example"),
    Ballot("dprd-kabko-example", "dprd-kabko-example"),
)


def tps_code(i: int) -> str:
    """The ``i``-th TPS (from 0) of the benchmark's province."""
    kabkota = i // (TPS_PER_DESA * DESA_PER_KEC * KEC_PER_KABKOTA) + 1
    if kabkota > 99:
        raise ValueError(f"TPS {i} does not fit in one province's 99 kabupaten/kota")
    kec = (i // (TPS_PER_DESA * DESA_PER_KEC)) % KEC_PER_KABKOTA + 1
    desa = (i // TPS_PER_DESA) % DESA_PER_KEC + 1001
    return f"{REGION}.{kabkota:02d}.{kec:02d}.{desa:04d}.{i % TPS_PER_DESA + 1:03d}"


def kit_id(tps: str) -> str:
    return f"kit-{tps.replace('.', '')}-1"


def make_authority(directory: Path) -> ca.Authority:
    return ca.init_ca(
        directory, region=REGION, name="KPU Benchmark", passphrase=PASSPHRASE, days=30
    )


def issue_kit(
    authority: ca.Authority, key: Ed25519PrivateKey, kit: str, tps: str
) -> x509.Certificate:
    """provisioning.authority.issue's kit profile, without filing the certificate."""
    now = dt.datetime.now(dt.UTC)
    uris = [f"{certs.URN}kit:{kit}", f"{certs.URN}tps:{tps}", f"{certs.URN}election:{ELECTION}"]
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, kit)]))
        .issuer_name(authority.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=10), authority.cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(ca._usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(ca._san(uris), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
            critical=False,
        )
        .sign(authority.key, None)
    )


def plausible_values(template: Template, rng: np.random.Generator) -> dict[str, int]:
    """consistent_values, or for a party-list form (no options: parties x candidates, which
    the synthesizer does not know) votes split over parties and their candidates."""
    if template.options:
        return consistent_values(template, rng)
    ids = [f.id for _, f in template.fields()]
    parties = sorted({i.split(".")[1] for i in ids if i.startswith("IV.")}, key=int)
    total = int(rng.integers(template.max_voters // 2, template.max_voters + 1))
    invalid = int(rng.integers(0, total // 25 + 1))
    shares = rng.multinomial(total - invalid, rng.dirichlet(np.ones(len(parties))))
    values = {"V.A": total - invalid, "V.B": invalid, "V.C": total}
    for party, votes in zip(parties, shares, strict=True):
        rows = [i for i in ids if i.startswith(f"IV.{party}.") and not i.endswith(".J")]
        split = rng.multinomial(int(votes), rng.dirichlet(np.ones(len(rows))))
        values.update({r: int(v) for r, v in zip(rows, split, strict=True)})
        values[f"IV.{party}.J"] = int(votes)
    report = evaluate(template, values)
    if not report.ok or set(values) != set(ids):
        raise AssertionError(f"{template.id}: benchmark values break {report.failed_rules()}")
    return values


class Generator:
    """Makes the signed results of a range of TPS (one per process of the pool)."""

    def __init__(self, ca_dir: Path, seed: int) -> None:
        self.authority = ca.load_ca(ca_dir, PASSPHRASE)
        rng = np.random.default_rng(seed)
        # Sorted: every process must draw the same value sets from the same seed (a set
        # iterates in an order that differs between processes).
        templates = sorted({b.template for b in BALLOTS})
        self.values = {
            t: [plausible_values(load_template(t), rng) for _ in range(VALUE_SETS)]
            for t in templates
        }
        self.pages = {t: [p.number for p in load_template(t).pages] for t in templates}
        self.template_sha = {t: template_sha256(t) for t in templates}
        self.model_sha = hashlib.sha256(b"benchmark model").hexdigest()

    def tps_results(self, i: int) -> list[tuple[str, bytes]]:
        """(kit id, signed bytes) of TPS ``i``'s five ballots, seq 1..5 in one chain."""
        return self.tps_kit(i)[2]

    def tps_kit(
        self, i: int
    ) -> tuple[Ed25519PrivateKey, x509.Certificate, list[tuple[str, bytes]]]:
        """TPS ``i``'s kit (its own key and certificate) and its five signed ballots."""
        tps = tps_code(i)
        kit = kit_id(tps)
        key = Ed25519PrivateKey.generate()
        cert = issue_kit(self.authority, key, kit, tps)
        out, prev = [], GENESIS
        for seq, ballot in enumerate(BALLOTS, start=1):
            fields = self.values[ballot.template][(i * 7 + seq) % VALUE_SETS]
            value = {
                "format": "tps-result/1",
                "election": ELECTION,
                "form": ballot.form,
                "form_version": 1,
                "tps": tps,
                "kit": kit,
                "seq": seq,
                "captured_at": CAPTURED,
                "fields": fields,
                "evidence": {f: {"confidence": 9990, "decision": "read"} for f in fields},
                "pages": [
                    {
                        "page": n,
                        "sha256": hashlib.sha256(f"{tps}/{ballot.form}/{n}".encode()).hexdigest(),
                    }
                    for n in self.pages[ballot.template]
                ],
                "model_sha256": self.model_sha,
                "template_sha256": self.template_sha[ballot.template],
                "prev_sha256": prev,
            }
            # protocol.canonical's bytes: for ASCII keys and integers, sorted compact JSON
            # is exactly that (its checks cost more than the signature; the hub re-checks).
            payload = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
            out.append((kit, bundle.make_bundle(BUNDLE_FORMAT, PAYLOAD_TYPE, payload, key, cert)))
            prev = sha256_hex(payload)
        return key, cert, out


_GENERATOR: Generator | None = None


def init_worker(ca_dir: Path, seed: int) -> None:
    global _GENERATOR
    _GENERATOR = Generator(ca_dir, seed)


def write_chunk(job: tuple[int, int, Path]) -> tuple[Path, int]:
    """Sign TPS ``[start, end)`` in a pool process and write them to ``path`` (pickled)."""
    start, end, path = job
    assert _GENERATOR is not None, "init_worker was not run"
    results = [r for i in range(start, end) for r in _GENERATOR.tps_results(i)]
    with path.open("wb") as f:
        pickle.dump(results, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path, len(results)


def read_chunk(path: Path) -> list[tuple[str, bytes]]:
    with path.open("rb") as f:
        results: list[tuple[str, bytes]] = pickle.load(f)
    return results


def chunks(
    count: int, size: int, directory: Path, *, offset: int = 0
) -> Iterator[tuple[int, int, Path]]:
    """Signing tasks for TPS ``[offset, offset + count)``, ``size`` TPS each."""
    for start in range(offset, offset + count, size):
        yield start, min(start + size, offset + count), directory / f"chunk-{start:07d}.pickle"


# --- helpers ------------------------------------------------------------------------------


def write_hub_toml(
    path: Path,
    ident: Path,
    ca_dir: Path,
    db: str,
    broker: dict[str, Any] | None,
    workers: int | None,
    cache_mb: int | None = None,
) -> Path:
    config: dict[str, Any] = {
        "hub": {"id": HUB_ID, "log_id": LOG_ID},
        "paths": {
            "key": str(ident / "hub.key.pem"),
            "certificate": str(ident / "hub.cert.pem"),
            "ca_certificate": str(ca_dir / ca.CERT_FILE),
            "crl": str(ca_dir / ca.CRL_FILE),
        },
        "database": {"url": db} if cache_mb is None else {"url": db, "cache_mb": cache_mb},
    }
    if broker is not None:
        config["broker"] = broker
    if workers is not None:
        config["ingest"] = {"workers": workers}
    path.write_text(tomli_w.dumps(config))
    return path


def pg_schema(url: str, drop: str | None = None) -> str:
    """A fresh schema for a PostgreSQL run (or drop ``drop``): never the database's own."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        if drop is not None:
            admin.execute(f'DROP SCHEMA "{drop}" CASCADE')
            return drop
        schema = f"tps_hub_bench_{os.getpid()}"
        admin.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def disk_bytes(url: str, schema: str | None) -> int | None:
    if is_postgres_url(url):
        import psycopg

        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
                (schema,),
            ).fetchone()
        return None if row is None else int(row[0])
    base = sqlite_path(url)
    return sum(
        p.stat().st_size for p in (base, Path(f"{base}-wal"), Path(f"{base}-shm")) if p.exists()
    )


def peak_rss_mb(pid: int | None = None) -> float | None:
    """Peak resident memory (VmHWM) of a process, in MB; this process's by default."""
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_figures(main_s: float, judging_s: float, results: int, cores: int) -> dict[str, Any]:
    """CPU per result, and the rate it allows on ``cores`` cores left to the hub alone: on a
    shared machine the wall-clock rate says as much about the neighbours as about the hub."""
    per_result = (main_s + judging_s) / results
    return {
        "cpu_ms_per_result_storing": round(main_s / results * 1000, 3),
        "cpu_ms_per_result_judging": round(judging_s / results * 1000, 3),
        "cpu_bound_per_s_on_free_cores": round(cores / per_result) if per_result else None,
    }


def pipelined(ingestor: Any, batches: Iterator[list[Inbound]]) -> Iterator[list[Any]]:
    """Ingest batches as the worker does: the next one is judged while this one is stored."""
    pending = None
    for messages in batches:
        now = dt.datetime.now(dt.UTC)
        judging = ingestor.judge(messages, now)
        if pending is not None:
            yield ingestor.commit(*pending)
        pending = (messages, judging, now)
    if pending is not None:
        yield ingestor.commit(*pending)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


# --- part 1: through the broker -----------------------------------------------------------


@dataclass
class Site:
    root: Path
    ca_dir: Path
    hub: Path
    raw: Path
    broker: Path


def make_site(root: Path) -> Site:
    authority = make_authority(root / "ca")
    services.enrol_service(
        authority,
        role="broker",
        name="localhost",
        out=root / "broker",
        days=30,
        dns=("localhost",),
        ips=("127.0.0.1",),
    )
    services.enrol_service(authority, role="hub", name=HUB_ID, out=root / "hub", days=30)
    services.enrol_service(authority, role="hub", name=RAW_ID, out=root / "raw", days=30)
    return Site(root, root / "ca", root / "hub", root / "raw", root / "broker")


def start_broker(site: Site, binary: str, kit_ids: list[str]) -> BrokerProcess:
    directory = site.root / "mosquitto"
    (directory / "data").mkdir(parents=True)
    port = free_port()
    access = directory / ACCESS_FILE
    conf, access_json = render_broker_config(
        port=port,
        bind_address="127.0.0.1",
        ca_file=site.ca_dir / ca.CERT_FILE,
        cert_file=site.broker / "broker.cert.pem",
        key_file=site.broker / "broker.key.pem",
        access_file=access,
        persistence_dir=directory / "data",
        hub_ids=[HUB_ID, RAW_ID],
        kit_ids=kit_ids,
        run_as_user=pwd.getpwuid(os.geteuid()).pw_name,
    )
    (directory / "tps-hub.conf").write_text(conf)
    access.write_text(access_json)
    probe = TlsIdentity(
        site.hub / "hub.cert.pem", site.hub / "hub.key.pem", site.ca_dir / ca.CERT_FILE
    )
    process = BrokerProcess(
        binary, directory / "tps-hub.conf", directory / "mosquitto.log", "127.0.0.1", port, probe
    )
    process.start()
    return process


def publish_all(
    site: Site, port: int, kits: list[tuple[str, Path, Path, list[bytes]]], threads: int
) -> float:
    """Every kit connects with its own certificate and publishes its results at QoS 1,
    waiting for each PUBACK; returns the seconds it took (not part of any rate)."""
    ca_file = str(site.ca_dir / ca.CERT_FILE)
    bar = tqdm(total=sum(len(k[3]) for k in kits), desc="kits publish", unit="result")
    lock = threading.Lock()

    def one(kit: tuple[str, Path, Path, list[bytes]]) -> None:
        name, cert, key, results = kit
        done = threading.Semaphore(0)
        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=name,
            protocol=mqtt.MQTTv5,
        )
        client.tls_set(ca_certs=ca_file, certfile=str(cert), keyfile=str(key))
        client.on_publish = lambda *_: done.release()
        connected = threading.Event()
        client.on_connect = lambda *_: connected.set()
        client.connect("127.0.0.1", port)
        client.loop_start()
        if not connected.wait(30):
            raise RuntimeError(f"kit {name} could not connect")
        for data in results:
            client.publish(f"tps/v1/{name}/result", data, qos=1)
        for _ in results:
            if not done.acquire(timeout=60):
                raise RuntimeError(f"kit {name}: no PUBACK")
        client.disconnect()
        client.loop_stop()
        with lock:
            bar.update(len(results))

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, kits))
    bar.close()
    return time.perf_counter() - started


class RawReceiver:
    """The worker's paho setup (TLS, MQTT v5, persistent session, manual PUBACK, the same
    receive window and batches), doing nothing with what it receives."""

    def __init__(self, site: Site, port: int, batch: int) -> None:
        self.port, self.batch = port, batch
        self.received = 0
        self._queue: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._subscribed = threading.Event()
        self._stop = threading.Event()
        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=RAW_ID,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.tls_set(
            ca_certs=str(site.raw / "ca.cert.pem"),
            certfile=str(site.raw / "hub.cert.pem"),
            keyfile=str(site.raw / "hub.key.pem"),
        )
        client.on_connect = lambda c, *_: c.subscribe(
            [("$share/raw/tps/v1/+/result", SubscribeOptions(qos=1))]
        )
        client.on_subscribe = lambda *_: self._subscribed.set()
        client.on_message = lambda _c, _u, m: self._queue.put(m)
        self.client = client
        self._thread = threading.Thread(target=self._acks, daemon=True)

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 3600
        properties.ReceiveMaximum = min(2 * self.batch, 65535)
        self.client.connect("127.0.0.1", self.port, clean_start=False, properties=properties)
        self.client.loop_start()
        self._thread.start()
        if not self._subscribed.wait(30):
            raise RuntimeError("the raw receiver could not subscribe")

    def _acks(self) -> None:
        while not self._stop.is_set():
            try:
                batch = [self._queue.get(timeout=0.1)]
            except queue.Empty:
                continue
            while len(batch) < self.batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for m in batch:
                self.client.ack(m.mid, m.qos)
            self.received += len(batch)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.client.disconnect()
        self.client.loop_stop()


def wait_for(count: Any, total: int, desc: str, timeout: float) -> float:
    """Seconds until ``count()`` reaches ``total`` (with a progress bar)."""
    started = time.perf_counter()
    with tqdm(total=total, desc=desc, unit="result") as bar:
        while (n := count()) < total:
            bar.update(n - bar.n)
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"{desc}: {n} of {total} after {timeout:.0f} s")
            time.sleep(0.02)
        bar.update(total - bar.n)
    return time.perf_counter() - started


def broker_run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    binary = mosquitto_binary()
    if binary is None:
        return {"skipped": "mosquitto is not installed"}
    site = make_site(work / "broker-site")
    n_tps = -(-args.broker_results // len(BALLOTS))
    generator = Generator(site.ca_dir, args.seed)
    kits_dir = site.root / "kits"
    kits_dir.mkdir()
    kits = []
    for i in tqdm(range(n_tps), desc="sign (broker part)", unit="TPS"):
        key, cert, results = generator.tps_kit(i)
        name = results[0][0]
        key_path, cert_path = kits_dir / f"{name}.key.pem", kits_dir / f"{name}.cert.pem"
        key_path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        cert_path.write_bytes(cert.public_bytes(Encoding.PEM))
        kits.append((name, cert_path, key_path, [data for _, data in results]))
    total = sum(len(k[3]) for k in kits)
    process = start_broker(site, binary, [k[0] for k in kits])
    hub = None
    try:
        broker = {"host": "127.0.0.1", "port": process.port, "batch": args.batch}
        toml = write_hub_toml(
            site.root / "hub.toml",
            site.hub,
            site.ca_dir,
            str(site.root / "hub.sqlite3"),
            broker,
            args.workers,
        )
        config = load_hub_config(toml)
        assert config.broker is not None
        hub = service.open_hub(config, dt.datetime.now(dt.UTC))
        tls = TlsFiles(config.paths.ca_certificate, config.paths.certificate, config.paths.key)
        # Make both persistent sessions (and their subscriptions) first, then go away: the
        # broker queues every result for each, as for a hub restarting on election night.
        raw = RawReceiver(site, process.port, args.batch)
        raw.start()
        raw.stop()
        worker = Worker(hub.ingestor, config.broker, tls, client_id=HUB_ID)
        worker.start()
        if not worker.wait_ready(30):
            raise RuntimeError("the hub worker could not connect")
        worker.stop()
        publish_s = publish_all(site, process.port, kits, args.publish_threads)

        raw = RawReceiver(site, process.port, args.batch)
        raw.start()
        raw_s = wait_for(lambda: raw.received, total, "raw receive", args.timeout)
        raw.stop()

        worker = Worker(hub.ingestor, config.broker, tls, client_id=HUB_ID)
        judging_before = sum(cpu_seconds(p) for p in hub.ingestor.judging_pids())
        broker_before = cpu_seconds(process.pid)
        started, cpu = time.perf_counter(), time.process_time()
        worker.start()
        wait_for(lambda: worker.stats.acks_published, total, "hub ingest", args.timeout)
        hub_s = time.perf_counter() - started
        main_cpu = time.process_time() - cpu
        judging_cpu = sum(cpu_seconds(p) for p in hub.ingestor.judging_pids()) - judging_before
        broker_cpu = cpu_seconds(process.pid) - broker_before
        worker.stop()
        stats = worker.stats
        reader = RecapReader(hub.store)
        national = reader.region(ELECTION, BALLOTS[0].form)
        counts = hub.store.counts()
    finally:
        if hub is not None:
            hub.close()
        process.stop()
    accepted = stats.outcomes.get("result:accepted", 0)
    return {
        "results": total,
        "kits": len(kits),
        "publish_s": round(publish_s, 2),
        "raw_s": round(raw_s, 3),
        "raw_per_s": round(total / raw_s),
        "hub_s": round(hub_s, 3),
        "hub_per_s": round(total / hub_s),
        "hub_to_raw": round((total / hub_s) / (total / raw_s), 3),
        "accepted": accepted,
        "acks_published": stats.acks_published,
        "mean_batch": round(stats.received / max(1, stats.batches), 1),
        "stored_documents": counts["documents"],
        "recap_tps_reported": None if national is None else national.tps_reported,
        "judging_processes": hub.ingestor.workers,
        "batch": args.batch,
        **cpu_figures(main_cpu, judging_cpu, total, len(os.sched_getaffinity(0))),
        "cpu_ms_per_result_broker": round(broker_cpu / total * 1000, 3),
    }


# --- part 2: national scale ---------------------------------------------------------------


def expected_totals(generator: Generator, n_tps: int, ballot: int) -> dict[str, int]:
    """What the kits signed for one ballot, summed over every TPS (to check the recap)."""
    b = BALLOTS[ballot]
    uses = Counter((i * 7 + ballot + 1) % VALUE_SETS for i in range(n_tps))
    sums: Counter[str] = Counter()
    for index, times in uses.items():
        for f, value in generator.values[b.template][index].items():
            sums[f] += value * times
    return dict(sums)


def national_run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    root = work / "national"
    authority = make_authority(root / "ca")
    services.enrol_service(authority, role="hub", name=HUB_ID, out=root / "hub", days=30)
    db = args.db or str(root / "hub.sqlite3")
    if not is_postgres_url(db) and sqlite_path(db).exists():
        raise SystemExit(f"{db} exists: the national run needs a new database")
    toml = write_hub_toml(
        root / "hub.toml", root / "hub", root / "ca", db, None, args.workers, args.cache_mb
    )
    schema = pg_schema(db) if is_postgres_url(db) else None
    hub = service.open_hub(load_hub_config(toml), dt.datetime.now(dt.UTC), schema=schema)
    ingestor = hub.ingestor
    ingestor.warm_up()
    judging_before = sum(cpu_seconds(pid) for pid in ingestor.judging_pids())
    chunk_dir = root / "chunks"
    chunk_dir.mkdir()
    context = multiprocessing.get_context("forkserver")
    generate_s = ingest_s = main_cpu = 0.0
    outcomes: Counter[str] = Counter()
    total = args.tps * len(BALLOTS)
    gen_bar = tqdm(total=args.tps, desc="sign", unit="TPS", position=0)
    ingest_bar = tqdm(total=total, desc="ingest", unit="result", position=1)
    with context.Pool(args.sign_processes, init_worker, (root / "ca", args.seed)) as pool:
        for start in range(0, args.tps, args.segment):
            end = min(start + args.segment, args.tps)
            # Sign a segment (the judging pool is idle meanwhile), then ingest it: signing
            # and ingest never compete for the cores, and neither time includes the other.
            began = time.perf_counter()
            jobs = list(chunks(end - start, args.chunk_tps, chunk_dir, offset=start))
            files = []
            for path, count in pool.imap(write_chunk, jobs):
                files.append(path)
                gen_bar.update(count // len(BALLOTS))
            generate_s += time.perf_counter() - began
            began, cpu = time.perf_counter(), time.process_time()
            for result in pipelined(ingestor, segment_batches(files, args.batch)):
                outcomes.update(o.status for o in result)
                ingest_bar.update(len(result))
            ingest_s += time.perf_counter() - began
            main_cpu += time.process_time() - cpu
    gen_bar.close()
    ingest_bar.close()
    judging_rss = [peak_rss_mb(pid) for pid in ingestor.judging_pids()]
    judging_cpu = sum(cpu_seconds(pid) for pid in ingestor.judging_pids()) - judging_before
    reader = RecapReader(hub.store)
    latency: dict[str, Any] = {}
    exact = True
    mismatches: dict[str, Any] = {}
    generator = Generator(root / "ca", args.seed)
    for ballot, b in enumerate(BALLOTS):
        times = []
        for _ in range(args.recap_reads):
            t = time.perf_counter()
            totals = reader.region(ELECTION, b.form)
            times.append((time.perf_counter() - t) * 1000)
        assert totals is not None
        expected = expected_totals(generator, args.tps, ballot)
        if totals.tps_reported != args.tps or totals.totals != expected:
            exact = False
            wrong = {
                f: (totals.totals.get(f), expected.get(f))
                for f in set(expected) | set(totals.totals)
                if totals.totals.get(f) != expected.get(f)
            }
            mismatches[b.form] = {"tps_reported": totals.tps_reported, "fields": wrong}
        latency[b.form] = round(statistics.median(times), 3)
    log_size = ingestor.log(LOG_ID).size
    counts = hub.store.counts()
    hub.close()
    size = disk_bytes(db, schema)
    if schema is not None and args.work is None:
        pg_schema(db, drop=schema)
    return {
        "database": "postgresql" if schema is not None else "sqlite",
        "tps": args.tps,
        "results": total,
        "accepted": outcomes.get("accepted", 0),
        "other_outcomes": {k: v for k, v in outcomes.items() if k != "accepted"},
        "generate_s": round(generate_s, 1),
        "ingest_s": round(ingest_s, 1),
        "ingest_per_s": round(total / ingest_s),
        "db_bytes": size,
        "db_gb": None if size is None else round(size / 1e9, 2),
        "peak_rss_mb_storing": round(peak_rss_mb() or 0, 1),
        "peak_rss_mb_judging": [None if r is None else round(r, 1) for r in judging_rss],
        "recap_national_median_ms": latency,
        "recap_exact": bool(exact),
        "recap_mismatches": mismatches,
        "log_size": log_size,
        "documents": counts["documents"],
        "anomalies": counts["anomalies"],
        "judging_processes": ingestor.workers,
        "batch": args.batch,
        "extrapolated_national_ingest_min": round(
            NATIONAL_TPS * len(BALLOTS) / (total / ingest_s) / 60, 1
        ),
        **cpu_figures(main_cpu, judging_cpu, total, len(os.sched_getaffinity(0))),
    }


def segment_batches(files: list[Path], batch: int) -> Iterator[list[Inbound]]:
    for path in files:
        results = read_chunk(path)
        path.unlink()
        for start in range(0, len(results), batch):
            yield [Inbound("result", kit, data) for kit, data in results[start : start + batch]]


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--tps",
        type=int,
        default=NATIONAL_TPS,
        help=f"TPS in the national part, five results each (default {NATIONAL_TPS:,}, the "
        "2024 general election)",
    )
    parser.add_argument("--skip-national", action="store_true", help="run only the broker part")
    parser.add_argument("--skip-broker", action="store_true", help="run only the national part")
    parser.add_argument(
        "--db",
        help="the national part's database: a new SQLite path or a postgresql:// DSN "
        "(default: a file in the work directory)",
    )
    parser.add_argument(
        "--broker-results",
        type=int,
        default=20_000,
        help="results published through the broker (five per kit; default 20,000)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="judging processes ([ingest] workers; default: the hub's, one fewer than the "
        "usable cores)",
    )
    parser.add_argument(
        "--cache-mb",
        type=int,
        default=None,
        help="SQLite page cache of the national part's hub ([database] cache_mb; default the "
        "hub's)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=500,
        help="results per transaction ([broker] batch; default 500)",
    )
    parser.add_argument(
        "--segment",
        type=int,
        default=20_000,
        help="TPS signed ahead of each ingest segment (default 20,000 = 100,000 results)",
    )
    parser.add_argument(
        "--chunk-tps", type=int, default=500, help="TPS per signing task (default 500)"
    )
    parser.add_argument(
        "--sign-processes",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="processes signing results (default: one per usable core)",
    )
    parser.add_argument(
        "--publish-threads",
        type=int,
        default=16,
        help="kits connecting and publishing at once in the broker part (default 16)",
    )
    parser.add_argument(
        "--recap-reads",
        type=int,
        default=200,
        help="whole-election recap reads per ballot for the latency median (default 200)",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds a broker phase may take"
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--work", type=Path, help="work directory (default: a temporary one, removed)"
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="hub-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "cores": len(os.sched_getaffinity(0)),
        "load_average_before": os.getloadavg()[0],
    }
    try:
        if not args.skip_broker:
            report["broker"] = broker_run(args, work)
            print_broker(report["broker"])
        if not args.skip_national:
            report["national"] = national_run(args, work)
            print_national(report["national"])
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    report["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(report, sort_keys=True))


def print_broker(r: dict[str, Any]) -> None:
    if "skipped" in r:
        print(f"broker part skipped: {r['skipped']}")
        return
    print(
        f"through mosquitto: {r['results']:,} results from {r['kits']:,} kits; hub "
        f"{r['hub_per_s']:,}/s verified, stored, logged, acked, recapitulated; raw receive "
        f"{r['raw_per_s']:,}/s; hub/raw {r['hub_to_raw']:.2f}; mean batch {r['mean_batch']}; "
        f"CPU per result {r['cpu_ms_per_result_storing']} ms storing + "
        f"{r['cpu_ms_per_result_judging']} ms judging + {r['cpu_ms_per_result_broker']} ms "
        "in mosquitto"
    )


def print_national(r: dict[str, Any]) -> None:
    print(
        f"national: {r['results']:,} results ({r['tps']:,} TPS x 5) ingested in "
        f"{r['ingest_s']:,.1f} s ({r['ingest_per_s']:,}/s; signing took {r['generate_s']:,.1f} s "
        f"apart); database {r['db_gb']} GB; peak RSS {r['peak_rss_mb_storing']:.0f} MB storing, "
        f"{r['peak_rss_mb_judging']} MB judging; national recap read (median ms) "
        f"{r['recap_national_median_ms']}; totals exact: {r['recap_exact']}; CPU per result "
        f"{r['cpu_ms_per_result_storing']} ms storing + {r['cpu_ms_per_result_judging']} ms "
        "judging"
    )


if __name__ == "__main__":
    main()
