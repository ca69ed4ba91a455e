"""Fault run: kill -9 and restart each part of a hub site while kits send, then check that
nothing was lost or doubled.

    python benchmarks/faults.py                          # 10 kits, SQLite then PostgreSQL
    python benchmarks/faults.py --store sqlite --tps 3 --resend-s 3    # the CI size

A real region is set up in a temp dir with the project's own provisioning functions (CA,
one kit per TPS enrolled and bundled, the hub's and the broker's identities, the registry);
Mosquitto runs the configuration `tps-hub broker-config` renders, on a free loopback port;
`tps-hub run` is the hub worker (SQLite, or a PostgreSQL server of the run's own). Each kit
is a real process running the appliance (firmware.assemble: the real model reads the form,
the outbox seals it, the uplink sends it) with the files camera serving synthesized,
photographed PPWP forms and gpiozero's MockFactory pressing PINDAI and KONFIRMASI: it seals
a new version every --gap-s seconds. While results flow, in turn, with kill -9 (SIGKILL):

1. hub: the worker process (`tps-hub run`), restarted after --down-s (as systemd would);
2. broker: mosquitto, after its first autosave (--no-broker-saved: at once), restarted after
   --down-s from its persistence (saved once a minute);
3. judging: one of the worker's judging processes, with a backlog waiting for it (the
   worker is paused while it gathers); the hub replaces its pool itself;
4. kit: one kit appliance that has a result in flight, restarted after --down-s.

Time to recover: from the kill until the hub has stored every result sealed before it and
one sealed after it (its backlog is in, and it serves again).
The kits' resend timer (--resend-s, 60 s as shipped) bounds the broker's: a result the
broker had PUBACKed but not yet saved is gone with it, and its kit sends it again.

Then the kits stop sealing and the run waits for quiescence, and checks against what each
kit's outbox holds: every sealed result stored by the hub exactly once (no lost, no doubled
document), every outbox entry acknowledged, each transparency log's size equal to the
documents stored in it, and the recapitulation's totals equal to the sum of each TPS's
counting version (the kit's newest seq). Prints one row per store and phase (sealed,
stored, doubled, lost, time to recover), then one JSON object. Exit status 1 if anything
was lost or doubled, a total is wrong, or a process did not come back.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import pwd
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DIGITS = ROOT / "tests" / "fixtures" / "digits" / "heldout-300"
REGION, VILLAGE, ELECTION, FORM = "31.71", "31.71.01.1001", "pemilu-2024", "ppwp-plano"
HUB_ID, LOG_ID = "hub-3171", "log-3171"
PASSPHRASE = b"fault run passphrase, not for real"
FAULTS = ("hub", "broker", "judging", "kit")
STOP_SEALING = "stop-sealing"  # in a kit directory: finish the form in hand, seal no more
SEALING_STOPPED = "sealing-stopped"  # the kit's answer: nothing more will be sealed
BACKLOG = 8  # results waiting for the paused hub before a judging process is killed
JUDGING_TRIES = 3  # pauses of the hub, until a backlog reaches the broken judging pool
BROKER_SAVED = "Saving in-memory database"  # mosquitto's log line at each autosave
POOL_BROKE = "a judging process died"  # what the hub logs when its pool breaks under a batch


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- the kit appliance as a process ---------------------------------------------------------


def kit_main(config: Path, gap_s: float, resend_s: float) -> None:
    """One kit: the appliance assembled from kit.toml on MockFactory pins, its uplink
    running, a new version scanned and confirmed every ``gap_s`` until told to stop."""
    from gpiozero.pins.mock import MockFactory

    from firmware.assemble import assemble
    from firmware.kit import State

    # As `tps-kit run` logs: the uplink's connects, refusals and resends go to kit.log.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    factory = MockFactory()
    timers = {
        # The shipped ratios (60 s, then up to 600 s; 2 s then up to 30 s after "no
        # subscriber"), scaled.
        "resend_initial_s": resend_s,
        "resend_s": resend_s * 10,
        "unheard_resend_initial_s": resend_s / 30,
        "unheard_resend_s": resend_s / 2,
    }
    assembled = assemble(config, pin_factory=factory, uplink_timers=timers)
    kit, gpio = assembled.kit, assembled.config.gpio
    kit.settle_s = 0.0  # the presses come from a program, not a person reading the screen
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    def press(pin: int, hold_s: float = 0.0) -> None:
        factory.pin(pin).drive_low()
        if hold_s:
            time.sleep(hold_s)
        factory.pin(pin).drive_high()
        kit.drain()

    def seal_one() -> None:
        for _ in range(9):  # three pages; a page read as another one is scanned again
            press(gpio.scan)
            if kit.state == State.REVIEW:
                break
        for _ in range(64):  # the result, or each doubtful field's look, then the result
            if kit.state != State.REVIEW:
                break
            press(gpio.confirm)
        if kit.state in (State.IDLE, State.REVIEW) and kit.form.pages:
            press(gpio.scan, hold_s=gpio.hold_cancel_s + 0.2)  # unreadable: start again

    base = config.parent
    assert assembled.uplink is not None
    assembled.uplink.start()
    kit.start()
    next_form = time.monotonic()
    try:
        while not stop.is_set():
            if (base / STOP_SEALING).exists():
                (base / SEALING_STOPPED).touch()
            elif time.monotonic() >= next_form:
                seal_one()
                next_form = time.monotonic() + gap_s
            kit.step(timeout=0.1)
    finally:
        assembled.close()


# --- the region -----------------------------------------------------------------------------


@dataclass
class Site:
    """One store's hub site on disk: CA, kits, hub, broker."""

    root: Path
    store: str
    port: int
    url: str
    kits: list[Path] = field(default_factory=list)  # kit directories

    @property
    def hub_dir(self) -> Path:
        return self.root / "hub"

    @property
    def hub_toml(self) -> Path:
        return self.hub_dir / "hub.toml"


def tps_codes(count: int) -> list[str]:
    return [f"{VILLAGE}.{n:03d}" for n in range(1, count + 1)]


def synthesize_forms(out: Path, tps: list[str], versions: int, digits: Path, seed: int) -> None:
    """``versions`` filled and photographed PPWP forms per TPS, each with its own numbers,
    as out/<tps>/<version>-page-<n>.jpg (the files camera serves a folder in name order)."""
    import numpy as np

    from protocol.forms.loader import load_template
    from protocol.idx import load_digits
    from provisioning.synth.forms import synthesize_form
    from provisioning.synth.handwriting import DigitBank
    from provisioning.synth.photo import Conditions

    bank = DigitBank(*load_digits(digits))
    template = load_template(FORM)
    rng = np.random.default_rng(seed)
    for code in tps:
        folder = out / code
        folder.mkdir(parents=True)
        for version in range(1, versions + 1):
            pages = synthesize_form(
                template,
                tps=code,
                election=ELECTION,
                bank=bank,
                rng=rng,
                conditions=Conditions.ideal(),
            )
            for page in pages:
                (folder / f"{version:02d}-page-{page.number}.jpg").write_bytes(page.jpeg)


def make_site(root: Path, store: str, url: str, tps: list[str], forms: Path) -> Site:
    """CA, kits (enrolled, bundled, set to the files camera and mock pins), hub and broker
    identities, the registry, hub.toml and the broker's rendered configuration."""
    from hub.broker_process import free_port
    from protocol.kitconfig import dump_kit_config, load_kit_config, parse_kit_config
    from provisioning import authority as ca
    from provisioning import bundle, enrol, registry, services

    site = Site(root, store, free_port(), url)
    authority = ca.init_ca(
        root / "ca", region=REGION, name="KPU Kota Uji", passphrase=PASSPHRASE, days=30
    )
    (root / "kits").mkdir()
    for code in tps:
        kit = enrol.enrol_kit(authority, tps=code, election=ELECTION, out=root / "kits")
        assert kit.directory is not None
        bundle.write_bundle(authority, kit.directory, broker=f"127.0.0.1:{site.port}", forms=[FORM])
        path = kit.directory / "kit.toml"
        value = load_kit_config(path).model_dump(mode="json")
        value["camera"] = {"backend": "files", "files": [str(forms / code)], "loop": True}
        value["screen"] = {"backend": "files", "directory": "screen"}
        value["gpio"] = {**value.get("gpio", {}), "pin_factory": "mock", "hold_cancel_s": 0.2}
        path.write_bytes(dump_kit_config(parse_kit_config(value)))
        site.kits.append(kit.directory)
    services.enrol_service(authority, role="hub", name=HUB_ID, out=site.hub_dir, days=30)
    services.enrol_service(
        authority,
        role="broker",
        name="localhost",
        out=root / "broker",
        days=30,
        dns=("localhost",),
        ips=("127.0.0.1",),
    )
    (site.hub_dir / "registry.json").write_bytes(registry.registry_bytes(authority))
    site.hub_toml.write_text(
        f'[hub]\nid = "{HUB_ID}"\nlog_id = "{LOG_ID}"\n\n'
        '[paths]\nkey = "hub.key.pem"\ncertificate = "hub.cert.pem"\n'
        f'ca_certificate = "ca.cert.pem"\ncrl = "{root / "ca" / ca.CRL_FILE}"\n'
        'registry = "registry.json"\n\n'
        f'[database]\nurl = "{url}"\n\n'
        f'[broker]\nhost = "127.0.0.1"\nport = {site.port}\n\n'
        # Two judging processes, so the judging fault has a pool to hit on any machine.
        "[ingest]\nworkers = 2\n"
    )
    conf = root / "mosquitto"
    command(
        "tps-hub",
        "broker-config",
        "--port",
        str(site.port),
        "--bind",
        "127.0.0.1",
        "--identity",
        str(root / "broker"),
        "--hub-id",
        HUB_ID,
        "--registry",
        str(site.hub_dir / "registry.json"),
        "--persistence",
        str(conf / "data"),
        "--user",
        pwd.getpwuid(os.geteuid()).pw_name,
        "--out",
        str(conf),
    )
    (conf / "data").mkdir(exist_ok=True)
    command("tps-hub", "migrate", "--config", str(site.hub_toml))
    return site


def command(*args: str) -> str:
    done = subprocess.run(
        [str(BIN / args[0]), *args[1:]], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


# --- the processes --------------------------------------------------------------------------


class Processes:
    """The site's running parts: broker, hub worker, kits; each killable and restartable."""

    def __init__(self, site: Site, gap_s: float, resend_s: float) -> None:
        from hub.broker_process import BrokerProcess, TlsIdentity, mosquitto_binary

        binary = mosquitto_binary()
        if binary is None:
            sys.exit("faults: mosquitto is not installed (bash scripts/setup installs it)")
        hub = site.hub_dir
        probe = TlsIdentity(hub / "hub.cert.pem", hub / "hub.key.pem", hub / "ca.cert.pem")
        conf = site.root / "mosquitto"
        self.broker = BrokerProcess(
            binary, conf / "tps-hub.conf", conf / "mosquitto.log", "127.0.0.1", site.port, probe
        )
        self.site, self.gap_s, self.resend_s = site, gap_s, resend_s
        self.hub: subprocess.Popen[bytes] | None = None
        self.kits: dict[Path, subprocess.Popen[bytes]] = {}

    def start_hub(self) -> None:
        with (self.site.hub_dir / "hub.log").open("ab") as log:
            self.hub = subprocess.Popen(
                [str(BIN / "tps-hub"), "run", "--config", str(self.site.hub_toml)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.site.hub_dir,
            )

    def start_kit(self, kit: Path) -> None:
        argv = [sys.executable, str(Path(__file__).resolve()), "_kit", str(kit / "kit.toml")]
        argv += ["--gap-s", str(self.gap_s), "--resend-s", str(self.resend_s)]
        # One thread each for the model: the kits share the machine with the hub.
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        with (kit / "kit.log").open("ab") as log:
            self.kits[kit] = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env
            )

    def kill(self, process: subprocess.Popen[bytes] | None) -> None:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def judging_pids(self) -> list[int]:
        """The hub worker's judging and signing processes: children of its forkserver."""
        if self.hub is None:
            return []
        parents = _parents()
        servers = [p for p, parent in parents.items() if parent == self.hub.pid and _forkserver(p)]
        return sorted(p for p, parent in parents.items() if parent in servers)

    def stop(self) -> None:
        for process in [*self.kits.values(), self.hub]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.kits.values(), self.hub]:
            if process is not None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.broker.stop()


def _parents() -> dict[int, int]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                found[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
    return found


def _forkserver(pid: int) -> bool:
    try:
        return b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


# --- what the kits sealed and what the hub stored --------------------------------------------


@dataclass(frozen=True)
class Sealed:
    kit: str
    tps: str
    seq: int
    sha256: str
    state: str
    created_at: float
    signed: bytes


def sealed(site: Site) -> list[Sealed]:
    """Every document in every kit's outbox (read while the kits run: SQLite WAL)."""
    from edge.outbox import Outbox
    from firmware.assemble import OUTBOX_FILE
    from protocol.kitconfig import load_kit_config

    out = []
    for kit in site.kits:
        config = load_kit_config(kit / "kit.toml")
        path = config.resolve(config.paths.state_dir, kit) / OUTBOX_FILE
        if not path.exists():
            continue
        with Outbox.open(path, check=False) as outbox:
            for e in outbox.documents():
                out.append(
                    Sealed(e.kit, config.kit.tps, e.seq, e.sha256, e.state, e.created_at, e.signed)
                )
    return out


@contextlib.contextmanager
def hub_store(site: Site) -> Iterator[Any]:
    from hub.store import ResultStore

    store = ResultStore.open(site.url, now=utcnow())
    try:
        yield store
    finally:
        store.close()


def stored_shas(site: Site) -> Counter[str]:
    """The hub's stored documents, read without the store's migration lock (a paused
    worker may hold the write lock)."""
    from hub.store import Database

    db = Database.open(site.url)
    try:
        rows = db.all("SELECT document_sha256 FROM documents")
    finally:
        db.close()
    return Counter(str(r[0]) for r in rows)


def wait_for(ready: Callable[[], bool], timeout: float, poll: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return True
        time.sleep(poll)
    return ready()


class Progress:
    """One line, rewritten in place on a terminal, that says where the run is."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = ""

    def __call__(self, text: str) -> None:
        if text == self.last:
            return
        self.last = text
        if self.tty:
            sys.stderr.write(f"\r\x1b[K{text}")
        else:
            sys.stderr.write(f"{text}\n")
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


# --- one store's run ------------------------------------------------------------------------


@dataclass
class FaultResult:
    fault: str
    killed_at: float  # unix seconds, as the outbox's created_at
    recover_s: float | None  # None: the backlog was not stored in time
    came_back: bool
    note: str = ""


def run_store(
    site: Site, args: argparse.Namespace, rng: random.Random, progress: Progress
) -> dict[str, Any]:
    procs = Processes(site, args.gap_s, args.resend_s)
    faults: list[FaultResult] = []
    started = time.time()
    procs.broker.start()
    procs.start_hub()
    for kit in site.kits:
        procs.start_kit(kit)

    def status(phase: str) -> bool:
        docs = sealed(site)
        stored = stored_shas(site)
        progress(
            f"[{site.store}] {phase}: sealed {len(docs)}, stored {sum(stored.values())}, "
            f"acknowledged {sum(d.state == 'acknowledged' for d in docs)}"
        )
        return False

    try:
        # Every kit has a result at the hub, and everything sealed so far is stored: the
        # site is up, and results a kit sent before the hub first subscribed (PUBACK "no
        # subscribers": sent again after --resend-s / 2) are not counted as a fault's.
        def flowing() -> bool:
            status("starting")
            stored = stored_shas(site)
            docs = sealed(site)
            kits = {d.kit for d in docs if d.sha256 in stored}
            return len(kits) == len(site.kits) and all(d.sha256 in stored for d in docs)

        if not wait_for(flowing, args.timeout, poll=1.0):
            raise RuntimeError(f"[{site.store}] no result from every kit in {args.timeout} s")
        for fault in FAULTS:
            faults.append(inflict(fault, procs, site, args, rng, status))
            wait_for(lambda f=fault: status(f"{f} recovered; results flow"), args.between_s, 1.0)
        for kit in site.kits:
            (kit / STOP_SEALING).touch()
        stopped = wait_for(
            lambda: status("kits finish") or all((k / SEALING_STOPPED).exists() for k in site.kits),
            args.timeout,
        )

        def quiet() -> bool:
            status("waiting for quiescence")
            docs = sealed(site)
            stored = stored_shas(site)
            return all(d.state != "queued" and d.state != "sent" for d in docs) and all(
                d.sha256 in stored for d in docs
            )

        quiescent = wait_for(quiet, args.timeout, poll=1.0)
        back = {
            "hub": procs.hub is not None and procs.hub.poll() is None,
            "kits": all(p.poll() is None for p in procs.kits.values()),
        }
    finally:
        procs.stop()
    docs = sealed(site)
    return check(site, docs, faults, started, quiescent and stopped, back)


def inflict(
    fault: str,
    procs: Processes,
    site: Site,
    args: argparse.Namespace,
    rng: random.Random,
    status: Callable[[str], bool],
) -> FaultResult:
    """Kill -9 one part, restart it (the hub replaces a judging process itself), and time
    until the hub has stored every result sealed before the part was back and one sealed
    after it (the backlog is in and the site serves again)."""
    note = ""
    victim: Path | None = None
    if fault == "kit":
        # A kit with a result in flight: sealed, not yet acknowledged by the hub. The kits
        # seen busy are kept from the look that found them: read again a moment later, the
        # hub may have acknowledged them all.
        busy: set[str] = set()

        def in_flight() -> bool:
            status("kit fault: waiting for a kit with a result in flight")
            busy.clear()
            busy.update(d.kit for d in sealed(site) if d.state in ("queued", "sent"))
            return bool(busy)

        wait_for(in_flight, args.timeout, poll=0.05)
        names = {kit: kit.name for kit in site.kits}
        choices = [k for k in site.kits if names[k] in busy] or list(site.kits)
        victim = rng.choice(choices)
        note = f"{victim.name}, {'mid-send' if names[victim] in busy else 'idle'}"
    if fault == "broker" and args.broker_saved:
        # A broker that has run a while restarts from its last save: sessions and queues as
        # they were, messages the hub has already taken among them.
        wait_for(
            lambda: (
                status("broker fault: waiting for the broker's first autosave")
                or BROKER_SAVED in procs.broker.log_text()
            ),
            args.timeout,
        )
    killed_at = time.time()
    t0 = time.monotonic()
    came_back = True
    if fault == "hub":
        procs.kill(procs.hub)
        time.sleep(args.down_s)
        procs.start_hub()
    elif fault == "broker":
        procs.broker.kill()
        time.sleep(args.down_s)
        procs.broker.start()
    elif fault == "judging":
        killed_at, t0, note = kill_judging(procs, site, args, status)
    else:
        assert victim is not None
        procs.kill(procs.kits[victim])
        time.sleep(args.down_s)
        procs.start_kit(victim)
    # Everything sealed until the part is back, results sealed while it was down included.
    before = {d.sha256 for d in sealed(site)}

    def recovered() -> bool:
        status(f"{fault} killed: waiting for the results sealed until it was back, and one more")
        stored = set(stored_shas(site))
        return before <= stored and bool(stored - before)

    ok = wait_for(recovered, args.timeout, poll=0.2)
    recover_s = time.monotonic() - t0 if ok else None
    if fault in ("hub", "judging"):
        came_back = procs.hub is not None and procs.hub.poll() is None
        if fault == "judging" and came_back:
            note += f"; {len(procs.judging_pids())} processes after"
    elif fault == "kit":
        assert victim is not None
        came_back = procs.kits[victim].poll() is None
    return FaultResult(fault, killed_at, recover_s, came_back, note)


def kill_judging(
    procs: Processes, site: Site, args: argparse.Namespace, status: Callable[[str], bool]
) -> tuple[float, float, str]:
    """Kill one judging process where the hub will meet its loss; returns when the fault
    began (the first pause, unix seconds), when the process was killed (monotonic) and a note.

    The hub judges a batch of fewer than four results itself, so the loss of an idle
    process goes unnoticed until a bigger batch comes. So the worker is paused (SIGSTOP)
    while a backlog gathers at the broker, the process is killed, and the worker resumes
    into a pool that broke under it; until its log says the pool broke under a batch, the
    pause and resume are repeated (the backlog may still arrive in small batches)."""
    assert procs.hub is not None
    hub, log = procs.hub.pid, site.hub_dir / "hub.log"
    broke_before = log.read_text(errors="replace").count(POOL_BROKE)
    killed_at, t0, note = time.time(), time.monotonic(), "no judging process found"
    for attempt in range(1, JUDGING_TRIES + 1):
        if attempt == 1:
            killed_at = time.time()  # the fault's window opens with the pause
        os.kill(hub, signal.SIGSTOP)
        try:
            time.sleep(args.down_s)

            def backlog() -> bool:
                stored = stored_shas(site)
                waiting = sum(d.sha256 not in stored for d in sealed(site))
                status(f"judging fault: hub paused, {waiting} results waiting")
                return waiting >= BACKLOG

            wait_for(backlog, args.timeout)
            if attempt == 1:
                pids = procs.judging_pids()
                t0 = time.monotonic()
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    note = f"pid {pids[0]} of {len(pids)}"
        finally:
            os.kill(hub, signal.SIGCONT)
        waiting = {d.sha256 for d in sealed(site)}
        wait_for(lambda w=waiting: w <= set(stored_shas(site)), args.timeout)
        if log.read_text(errors="replace").count(POOL_BROKE) > broke_before:
            return killed_at, t0, f"{note}; the pool broke under batch {attempt}"
    return killed_at, t0, f"{note}; no batch met the broken pool"


def check(
    site: Site,
    docs: list[Sealed],
    faults: list[FaultResult],
    started: float,
    quiescent: bool,
    back: dict[str, bool],
) -> dict[str, Any]:
    """The figures and every check, from the outboxes and the hub's database."""
    from hub.recap import RecapReader
    from hub.translog import TransparencyLog
    from protocol import certs
    from protocol.result import verify_result

    with hub_store(site) as store:
        rows = store.db.all("SELECT document_sha256, kit, seq, log_name FROM documents")
        logs = {str(r[3]) for r in rows}
        log_sizes = {name: TransparencyLog(store.log_storage(name)).size for name in logs}
        national = RecapReader(store).region(ELECTION, FORM)
    per_sha = Counter(str(r[0]) for r in rows)
    per_chain = Counter((str(r[1]), int(r[2])) for r in rows)
    per_log = Counter(str(r[3]) for r in rows)
    ours = {d.sha256 for d in docs}

    # Phases: before the first fault, then each fault's window up to the next kill.
    bounds = [("steady", started, None)] + [(f.fault, f.killed_at, f) for f in faults]
    phases = []
    for i, (name, start, fault) in enumerate(bounds):
        end = bounds[i + 1][1] if i + 1 < len(bounds) else float("inf")
        window = [d for d in docs if start <= d.created_at < end]
        phases.append(
            {
                "phase": name,
                "sealed": len(window),
                "stored": sum(d.sha256 in per_sha for d in window),
                "doubled": sum(
                    per_sha[d.sha256] - 1 + per_chain[(d.kit, d.seq)] - 1
                    for d in window
                    if d.sha256 in per_sha
                ),
                "lost": sum(d.sha256 not in per_sha for d in window),
                "recover_s": None if fault is None else fault.recover_s,
                "came_back": None if fault is None else fault.came_back,
                "note": "" if fault is None else fault.note,
            }
        )
    # What the recapitulation must say: each TPS's newest version, as its kit sealed it.
    ca_cert = certs.load_certificate((site.root / "ca" / "ca.cert.pem").read_bytes())
    newest: dict[str, Sealed] = {}
    for d in docs:
        if d.tps not in newest or d.seq > newest[d.tps].seq:
            newest[d.tps] = d
    expected: Counter[str] = Counter()
    for d in newest.values():
        document = verify_result(d.signed, ca_cert, at=utcnow()).document
        expected.update({k: v for k, v in document.fields.items() if v is not None})
    got = dict(national.totals) if national is not None else {}
    problems = []
    lost = sum(p["lost"] for p in phases)
    doubled = sum(p["doubled"] for p in phases)
    if lost:
        problems.append(f"{lost} sealed results not stored by the hub")
    if doubled:
        problems.append(f"{doubled} results stored more than once")
    if strangers := sum(1 for s in per_sha if s not in ours):
        problems.append(f"{strangers} stored documents no kit's outbox holds")
    if unacked := [d for d in docs if d.state != "acknowledged"]:
        states = Counter(d.state for d in unacked)
        problems.append(f"{len(unacked)} outbox entries not acknowledged: {dict(states)}")
    for name, size in log_sizes.items():
        if size != per_log[name]:
            problems.append(f"log {name}: {size} entries for {per_log[name]} documents")
    if got != dict(expected):
        problems.append(f"recap totals {got} != the counting versions' sum {dict(expected)}")
    reported = national.tps_reported if national is not None else 0
    if reported != len(newest):
        problems.append(f"recap counts {reported} TPS, the kits sealed for {len(newest)}")
    if not quiescent:
        problems.append("no quiescence: results still in flight at the timeout")
    problems += [f"{what} not running at the end" for what, ok in back.items() if not ok]
    problems += [
        f"{f.fault} fault: {what}"
        for f in faults
        for what, bad in (
            ("did not come back", not f.came_back),
            ("backlog not stored in time", f.recover_s is None),
        )
        if bad
    ]
    return {
        "store": site.store,
        "kits": len(site.kits),
        "sealed": len(docs),
        "stored": len(per_sha),
        "log_entries": sum(log_sizes.values()),
        "tps_reported": reported,
        "phases": phases,
        "problems": problems,
    }


def table(results: list[dict[str, Any]]) -> str:
    head = f"{'store':<9}{'phase':<9}{'sealed':>7}{'stored':>7}{'doubled':>8}{'lost':>6}"
    lines = [head + f"{'recover_s':>11}  note"]
    for r in results:
        for p in [*r["phases"], {**_totals(r["phases"]), "phase": "all"}]:
            recover = p.get("recover_s")
            shown = (
                "-"
                if "came_back" not in p or p["came_back"] is None
                else (f"{recover:.1f}" if recover is not None else "NEVER")
            )
            lines.append(
                f"{r['store']:<9}{p['phase']:<9}{p['sealed']:>7}{p['stored']:>7}"
                f"{p['doubled']:>8}{p['lost']:>6}{shown:>11}  {p.get('note', '')}"
            )
    return "\n".join(lines)


def _totals(phases: list[dict[str, Any]]) -> dict[str, Any]:
    return {k: sum(p[k] for p in phases) for k in ("sealed", "stored", "doubled", "lost")}


# --- the command ----------------------------------------------------------------------------


class _Help(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=_Help)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--tps", type=int, default=10, help="kits, one per TPS")
    parser.add_argument("--seed", type=int, default=2024, help="forms and the kit killed")
    parser.add_argument(
        "--versions", type=int, default=3, help="different forms per TPS, scanned in turn"
    )
    parser.add_argument(
        "--gap-s", type=float, default=2.0, help="each kit seals a new version this often"
    )
    parser.add_argument(
        "--resend-s",
        type=float,
        default=60.0,
        help="the kits' first resend of an unacknowledged result (as shipped)",
    )
    parser.add_argument(
        "--down-s", type=float, default=2.0, help="how long a killed part stays down"
    )
    parser.add_argument(
        "--between-s", type=float, default=5.0, help="results flowing between two faults"
    )
    parser.add_argument(
        "--broker-saved",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="kill the broker only after its first autosave (a minute after it starts), so "
        "its restart restores an older state rather than none",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="for each wait")
    parser.add_argument("--digits", type=Path, default=DIGITS, help="IDX prefix of the handwriting")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Run as a script, this folder comes first on the path, and its hub.py is not the hub.
    if str(ROOT) not in sys.path[:1]:
        sys.path.insert(0, str(ROOT))
    if argv[:1] == ["_kit"]:
        kit = argparse.ArgumentParser(prog="faults.py _kit")
        kit.add_argument("config", type=Path)
        kit.add_argument("--gap-s", type=float, required=True)
        kit.add_argument("--resend-s", type=float, required=True)
        k = kit.parse_args(argv[1:])
        kit_main(k.config, k.gap_s, k.resend_s)
        return 0
    args = parse_args(argv)
    if args.tps < 1 or args.tps > 999 or args.versions < 1:
        sys.exit("faults: --tps must be 1..999 and --versions at least 1")
    work = args.keep or Path(tempfile.mkdtemp(prefix="tps-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    progress = Progress()
    stores = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    results = []
    server = None
    try:
        tps = tps_codes(args.tps)
        progress(f"synthesizing {args.versions} forms for each of {len(tps)} TPS")
        synthesize_forms(work / "forms", tps, args.versions, args.digits, args.seed)
        for store in stores:
            if store == "postgres":
                from hub.postgres_process import PostgresUnavailable, start_postgres

                try:
                    server = start_postgres()
                except PostgresUnavailable as e:
                    sys.exit(f"faults: cannot start a PostgreSQL server: {e}")
                url = server.dsn
            else:
                url = str(work / store / "hub.sqlite3")
            progress(f"[{store}] setting up the region: CA, {len(tps)} kits, hub, broker")
            (work / store).mkdir()
            site = make_site(work / store, store, url, tps, work / "forms")
            rng = random.Random(args.seed)
            results.append(run_store(site, args, rng, progress))
    finally:
        progress.done()
        if server is not None:
            from hub.postgres_process import remove

            remove(server)
    print(table(results))
    for r in results:
        for problem in r["problems"]:
            print(f"PROBLEM [{r['store']}] {problem}")
    print(json.dumps({"results": results, "load_avg": os.getloadavg()}))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"everything is in {work}")
    return 1 if any(r["problems"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
