"""The whole path on one machine: virtual kits scan forms, sign, send; the hub verifies.

    bash scripts/demo            # set up, then run this with 20 kits
    .venv/bin/python scripts/demo.py --kits 20 [--digits IDX_PREFIX] [--keep DIR]
        [--http-port N] [--serve | --no-serve]

A technician makes a region with the real commands: its CA, the signed election manifest
(`election make` from a small DPT list and the PPWP contest), a kit for every TPS of it
(`kit enroll --manifest`), every kit's bundle (`kit bundle --all`: kit.toml and the TPS's
slice of the manifest, its official DPT among it), the hub and broker identities;
Mosquitto runs the hub site's TLS + ACL configuration on a free loopback port; the hub
worker (`tps-hub run`) loads the manifest, verifies, stores, logs and acknowledges; each
virtual kit scans a synthesized, photographed PPWP form whose rows I.A its KPPS copied from
the TPS's official DPT (`tps-kit scan`: the kit's DPT rule confirms them), which it signs
and queues in its outbox, and its uplink sends it over MQTT until the hub's signed
acknowledgement arrives; finally the hub's recapitulation and its anomalies (none: every
form agrees with the manifest) are printed with the address of its dashboard (served by
the worker's process: `tps-hub run --serve`), which keeps serving until Ctrl-C when the
demo runs in a terminal (--serve), or stops with the rest (--no-serve, as the tests run it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.broker_process import BrokerProcess

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FIXTURE_DIGITS = ROOT / "tests" / "fixtures" / "digits" / "heldout-300"
REGION, FIRST_TPS, ELECTION, FORM, HUB = (
    "31.71",
    "31.71.01.1001.001",
    "pemilu-2024",
    "ppwp-plano",
    "hub-demo",
)
ELECTION_NAME = "Pemilihan Umum Tahun 2024"
# The PPWP contest as KPU's decision numbers the pairs (contests.toml, README).
CONTESTS = f"""[[contest]]
form = "{FORM}"
region = ""

[[contest.options]]
number = 1
names = ["H. ANIES RASYID BASWEDAN, Ph.D.", "Dr. (H.C.) H. A. MUHAIMIN ISKANDAR"]

[[contest.options]]
number = 2
names = ["H. PRABOWO SUBIANTO", "GIBRAN RAKABUMING RAKA"]

[[contest.options]]
number = 3
names = ["H. GANJAR PRANOWO, S.H., M.I.P.", "Prof. Dr. H. M. MAHFUD MD"]
"""


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def run(*args: str, env: dict[str, str] | None = None, quiet: bool = True) -> str:
    done = subprocess.run(
        [str(BIN / args[0]), *args[1:]], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        sys.exit(f"demo: {' '.join(args[:3])} failed:\n{done.stdout}{done.stderr}")
    if not quiet:
        print(done.stdout, end="")
    return done.stdout


def make_region(work: Path, kits: int, port: int) -> dict[str, Path]:
    env = {**os.environ, "TPS_CA_PASSPHRASE": "demo passphrase, not for real"}
    ca = work / "ca"
    run(
        "tps-provision",
        "ca",
        "init",
        "--ca",
        str(ca),
        "--region",
        REGION,
        "--name",
        "KPU Kota Demo",
        env=env,
    )
    (work / "dpt.csv").write_text(dpt_csv(kits))
    (work / "contests.toml").write_text(CONTESTS)
    manifest = work / "election.json"
    run(
        "tps-provision",
        "election",
        "make",
        "--ca",
        str(ca),
        "--id",
        ELECTION,
        "--name",
        ELECTION_NAME,
        "--date",
        "2024-02-14",
        "--contests",
        str(work / "contests.toml"),
        "--dpt",
        str(work / "dpt.csv"),
        "--out",
        str(manifest),
        "--quiet",
        env=env,
    )
    run(
        "tps-provision",
        "kit",
        "enroll",
        "--ca",
        str(ca),
        "--manifest",
        str(manifest),
        "--out",
        str(work / "kits"),
        "--quiet",
        env=env,
    )
    run(
        "tps-provision",
        "kit",
        "bundle",
        "--ca",
        str(ca),
        "--manifest",
        str(manifest),
        "--all",
        "--kits",
        str(work / "kits"),
        "--broker",
        f"127.0.0.1:{port}",
        "--log-id",
        "log-3171",
        "--quiet",
        env=env,
    )
    run(
        "tps-provision",
        "hub",
        "enroll",
        "--ca",
        str(ca),
        "--name",
        HUB,
        "--out",
        str(work / "hub"),
        env=env,
    )
    run(
        "tps-provision",
        "broker",
        "enroll",
        "--ca",
        str(ca),
        "--name",
        "localhost",
        "--dns",
        "localhost",
        "--ip",
        "127.0.0.1",
        "--out",
        str(work / "broker"),
        env=env,
    )
    run(
        "tps-provision",
        "registry",
        "export",
        "--ca",
        str(ca),
        "--out",
        str(work / "hub" / "registry.json"),
        env=env,
    )
    print(
        f"region {REGION}: CA, the signed election manifest ({kits} TPS and their DPT), "
        f"{kits} kits enrolled and bundled from it, hub and broker identities"
    )
    return {"ca": ca / "ca.cert.pem", "crl": ca / "crl.pem"}


def dpt_csv(kits: int) -> str:
    """The region's DPT list in the layout KPU's per-TPS recapitulation exports (README,
    "The election manifest"): TPS code, registered men, women, their sum."""
    village = FIRST_TPS.rsplit(".", 1)[0]
    rows = []
    for n in range(1, kits + 1):
        men, women = 90 + n * 37 % 60, 90 + n * 53 % 60  # at most 298: a TPS holds 300
        rows.append(f"{village}.{n:03d};{men};{women};{men + women}\n")
    return "KODE_TPS;L;P;L+P\n" + "".join(rows)


def start_broker(work: Path, port: int) -> BrokerProcess:
    from hub.broker_process import BrokerProcess, TlsIdentity, mosquitto_binary

    binary = mosquitto_binary()
    if binary is None:
        sys.exit("demo: mosquitto is not installed (bash scripts/setup installs it)")
    conf_dir = work / "mosquitto"
    run(
        "tps-hub",
        "broker-config",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--identity",
        str(work / "broker"),
        "--hub-id",
        HUB,
        "--registry",
        str(work / "hub" / "registry.json"),
        "--persistence",
        str(conf_dir / "data"),
        "--user",
        pwd.getpwuid(os.geteuid()).pw_name,
        "--out",
        str(conf_dir),
    )
    (conf_dir / "data").mkdir(exist_ok=True)
    hub = work / "hub"
    probe = TlsIdentity(hub / "hub.cert.pem", hub / "hub.key.pem", hub / "ca.cert.pem")
    broker = BrokerProcess(
        binary, conf_dir / "tps-hub.conf", conf_dir / "mosquitto.log", "127.0.0.1", port, probe
    )
    broker.start()
    print(f"mosquitto on 127.0.0.1:{port}: TLS with client certificates, per-kit access")
    return broker


def start_hub(work: Path, port: int, http_port: int) -> tuple[subprocess.Popen[bytes], Path, str]:
    """`tps-hub run --serve`: the worker, with the dashboard and JSON API in its process (a
    bigger hub runs `tps-hub serve` apart, even on another machine reading the same database)."""
    hub = work / "hub"
    config = hub / "hub.toml"
    config.write_text(
        f'[hub]\nid = "{HUB}"\nlog_id = "log-3171"\n\n'
        '[paths]\nkey = "hub.key.pem"\ncertificate = "hub.cert.pem"\n'
        'ca_certificate = "ca.cert.pem"\nregistry = "registry.json"\n'
        f'manifests = ["{work / "election.json"}"]\n\n'
        f'[database]\nurl = "{hub / "hub.sqlite3"}"\n\n'
        f'[broker]\nhost = "127.0.0.1"\nport = {port}\n\n'
        f'[api]\nhost = "127.0.0.1"\nport = {http_port}\n'
    )
    run("tps-hub", "run", "--config", str(config), "--validate-config")
    run("tps-hub", "migrate", "--config", str(config))
    log = (hub / "hub.log").open("wb")
    worker = subprocess.Popen(
        [str(BIN / "tps-hub"), "run", "--config", str(config), "--serve"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    address = f"http://127.0.0.1:{http_port}/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and worker.poll() is None:
        try:
            with urllib.request.urlopen(address + "api/v1/contests", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    else:
        sys.exit(f"demo: the hub did not start:\n{(hub / 'hub.log').read_text()}")
    print("hub worker running: verify, store (SQLite), transparency log, signed acks")
    print(f"its dashboard and JSON API at {address}")
    return worker, config, address


def dashboard_summary(address: str) -> str:
    """What the dashboard's API says, read back over HTTP as a browser would: each contest's
    count, and each election by the name its manifest gives."""
    with urllib.request.urlopen(address + "api/v1/contests", timeout=10) as answer:
        contests = json.load(answer)["contests"]
    with urllib.request.urlopen(address + "api/v1/elections", timeout=10) as answer:
        names = {e["id"]: e["name"] for e in json.load(answer)["elections"]}
    return "; ".join(
        f"{c['election']} ({names.get(c['election'], 'no manifest')}) {c['form']}: "
        f"{c['tps_reported']}/{c['tps_expected']} TPS"
        for c in contests
    )


def serve_until_interrupted(address: str) -> None:
    print(f"\nOpen {address} in a browser (Ctrl-C stops the demo).", flush=True)
    # SIGTERM too ends the wait as Ctrl-C does, so the caller's cleanup stops every process.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        signal.pause()


def scan_forms(work: Path, kits: int, digits: Path, seed: int) -> None:
    forms = work / "forms"
    run(
        "tps-provision",
        "forms",
        "synth",
        "--digits",
        str(digits),
        "--forms",
        str(kits),
        "--seed",
        str(seed),
        "--form",
        FORM,
        "--tps",
        FIRST_TPS,
        "--manifest",
        str(work / "election.json"),
        "--ca",
        str(work / "ca"),
        "--out",
        str(forms),
    )
    print(
        f"{kits} PPWP forms filled with held-out handwriting, rows I.A copied from each TPS's "
        "official DPT, and photographed (3 pages each)"
    )
    for n, kit_dir in enumerate(sorted((work / "kits").iterdir()), 1):
        pages = [forms / f"{n:04d}-{p}.jpg" for p in (1, 2, 3)]
        images = [arg for page in pages for arg in ("--image", str(page))]
        done = subprocess.run(
            [str(BIN / "tps-kit"), "scan", *images, "--config", str(kit_dir / "kit.toml"), "--yes"],
            capture_output=True,
            text=True,
            check=False,
        )
        receipt = next((ln for ln in done.stdout.splitlines() if ln.startswith("receipt:")), "")
        verdicts = {0: "signed and queued", 1: "needs a look", 2: "refused", 3: "paper mistake"}
        print(f"  {kit_dir.name}: {verdicts.get(done.returncode, done.returncode)}  {receipt}")


def deliver(work: Path, timeout: float) -> int:
    """Run every kit's uplink until each outbox holds no unacknowledged result."""
    from edge.outbox import Outbox
    from edge.uplink.client import Uplink
    from edge.uplink.settings import settings_from_config
    from protocol.kitconfig import load_kit_config

    uplinks = []
    for kit_dir in sorted((work / "kits").iterdir()):
        config = load_kit_config(kit_dir / "kit.toml")
        state = config.resolve(config.paths.state_dir, kit_dir)
        if not (state / "outbox.sqlite3").exists():
            continue
        outbox = Outbox.open(state / "outbox.sqlite3")
        settings = settings_from_config(config, kit_dir)
        uplink = Uplink(settings, outbox, software_version="demo", model_version="demo")
        uplink.start()
        uplinks.append((uplink, outbox))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = sum(o.stats().pending_documents for _, o in uplinks)
        if pending == 0:
            break
        time.sleep(0.5)
    delivered = sum(o.stats().last_seq - o.stats().pending_documents for _, o in uplinks)
    for uplink, outbox in uplinks:
        uplink.stop()
        outbox.close()
    return delivered


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--kits", type=int, default=20)
    parser.add_argument(
        "--digits",
        type=Path,
        default=FIXTURE_DIGITS,
        help="IDX prefix of the handwriting (default: the test fixture)",
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument(
        "--http-port", type=int, default=0, help="the dashboard's port (default: a free one)"
    )
    parser.add_argument(
        "--serve",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep the dashboard serving at the end until Ctrl-C (default: when run in a terminal)",
    )
    args = parser.parse_args()
    from hub.broker_process import free_port

    serve = sys.stdin.isatty() and sys.stdout.isatty() if args.serve is None else args.serve
    work = args.keep or Path(tempfile.mkdtemp(prefix="tps-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    http_port = args.http_port or free_port()
    step("technician: a region, its kits, the hub's and the broker's identities")
    make_region(work, args.kits, port)
    step("hub site: Mosquitto, the hub worker and its dashboard")
    broker = start_broker(work, port)
    worker, hub_config, address = start_hub(work, port, http_port)
    try:
        step("KPPS: each virtual kit scans its TPS's form and confirms")
        scan_forms(work, args.kits, args.digits, args.seed)
        step("kits send over MQTT until the hub acknowledges")
        delivered = deliver(work, args.timeout)
        print(f"{delivered} signed results delivered and acknowledged (verified, stored, logged)")
        step("hub: the recapitulation, and its anomalies")
        print(hub_says("recap", hub_config), end="")
        print(hub_says("anomalies", hub_config), end="")
        print(f"\ndashboard: {address}  (its API reports {dashboard_summary(address)})")
        print(f"OpenAPI description: {address}api/v1/openapi.json")
        if serve:
            serve_until_interrupted(address)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
        broker.stop()
    print(f"\nEverything is in {work}" + ("" if args.keep else " (a temporary directory)"))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def hub_says(command: str, hub_config: Path) -> str:
    done = subprocess.run(
        [str(BIN / "tps-hub"), command, "--config", str(hub_config)],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 else f"{command} failed:\n{done.stderr}"


if __name__ == "__main__":
    main()
