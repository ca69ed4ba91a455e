"""What comparing each result with the election manifest's DPT costs the hub's ingest.

    python benchmarks/hub_dpt.py --tps 2000 [--rounds 4] [--batch 200] [--seed 3] [--work DIR]

A region CA signs an election manifest listing ``--tps`` TPS with their DPT; every TPS's kit
(its own Ed25519 key and certificate) signs one PPWP result whose rows I.A hold that DPT
(every fifth TPS's off by one man, so the comparison also records anomalies). The same
signed results are then ingested through the hub's own service (hub/service.py open_hub:
trust, SQLite store, transparency log, the recapitulation hook, batches of ``--batch``, no
judging processes) into fresh databases, without ``[paths] manifests`` (the baseline) and
with it, each going first in turn, ``--rounds`` times each. Reported: the manifest's size
and load time (once, at start), the ingest rate of each configuration (best round), their
ratio, and the anomalies the manifest runs recorded (checked: one per altered TPS); and, on
one core in one process, the comparison's own cost per result beside the recapitulation's
existing check of the same numbers (steadier than ingest rates on a shared machine). The
last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub import service  # noqa: E402
from hub.config import load_hub_config  # noqa: E402
from hub.ingest import Inbound  # noqa: E402
from hub.manifests import load_manifests, official_dpt  # noqa: E402
from hub.recap import list_anomalies  # noqa: E402
from hub.recap.anomalies import differs_from_official  # noqa: E402
from protocol import bundle  # noqa: E402
from protocol.document import GENESIS  # noqa: E402
from protocol.forms.loader import load_template, template_sha256  # noqa: E402
from protocol.limits import check_numbers  # noqa: E402
from protocol.manifest import Contest, OfficialDpt, Option, Voters  # noqa: E402
from protocol.manifest_sign import sign_manifest  # noqa: E402
from protocol.result import BUNDLE_FORMAT, PAYLOAD_TYPE  # noqa: E402
from provisioning import authority as ca  # noqa: E402
from provisioning import services  # noqa: E402
from provisioning.election import build_manifest, election_of  # noqa: E402
from provisioning.synth.values import consistent_values  # noqa: E402

REGION, ELECTION, FORM, HUB_ID = "31.71", "pemilu-2024", "ppwp-plano", "hub-3171"
PASSPHRASE = b"hub dpt benchmark passphrase"
TPS_PER_DESA, DESA_PER_KEC = 10, 20
ALTERED_EVERY = 5  # every fifth TPS's form says one man more than the register


def _hub_benchmark() -> Any:
    # benchmarks/hub.py issues kit certificates without filing them (provisioning fsyncs a
    # file per kit, which would time the disk): one owner for that profile.
    spec = importlib.util.spec_from_file_location("hub_benchmark", ROOT / "benchmarks/hub.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def tps_code(i: int) -> str:
    kec = i // (TPS_PER_DESA * DESA_PER_KEC) + 1
    desa = (i // TPS_PER_DESA) % DESA_PER_KEC + 1001
    return f"{REGION}.{kec:02d}.{desa:04d}.{i % TPS_PER_DESA + 1:03d}"


class MadeUpNames:
    """Region names for the benchmark's made-up codes (the manifest needs one per region)."""

    source = "benchmark"

    def name(self, code: str) -> str:
        return f"Wilayah {code}"


def registers(count: int, rng: np.random.Generator) -> dict[str, OfficialDpt]:
    out = {}
    for i in range(count):
        men = int(rng.integers(60, 150))
        out[tps_code(i)] = OfficialDpt(men, int(rng.integers(60, 150)))
    return out


def write_manifest(authority: ca.Authority, dpt: dict[str, OfficialDpt], path: Path) -> None:
    names = [["PASANGAN SATU", "WAKIL SATU"], ["PASANGAN DUA", "WAKIL DUA"], ["TIGA", "TIGA"]]
    contest = Contest(
        form=FORM,
        region="",
        options=[Option(number=n, names=names[n - 1]) for n in (1, 2, 3)],
    )
    manifest = build_manifest(
        election_of(ELECTION, "Pemilihan Umum Tahun 2024", "2024-02-14"),
        REGION,
        [contest],
        {code: Voters(dpt_l=d.men, dpt_p=d.women) for code, d in dpt.items()},
        MadeUpNames(),
        load_template,
    )
    path.write_bytes(sign_manifest(manifest, authority.key, authority.cert))


def signed_results(
    authority: ca.Authority, dpt: dict[str, OfficialDpt], rng: np.random.Generator
) -> tuple[list[tuple[str, bytes]], list[tuple[str, dict[str, int]]]]:
    """(kit, signed bytes) of each TPS's result, and (TPS, fields) of each."""
    issue_kit = _hub_benchmark().issue_kit
    template = load_template(FORM)
    sha = template_sha256(FORM)
    model = hashlib.sha256(b"benchmark model").hexdigest()
    out, docs = [], []
    for i, (tps, listed) in enumerate(dpt.items()):
        written = OfficialDpt(listed.men + 1, listed.women) if i % ALTERED_EVERY == 0 else listed
        fields = consistent_values(template, rng, written)
        docs.append((tps, fields))
        kit = f"kit-{tps.replace('.', '')}-1"
        key = Ed25519PrivateKey.generate()
        cert = issue_kit(authority, key, kit, tps)
        value = {
            "format": "tps-result/1",
            "election": ELECTION,
            "form": FORM,
            "form_version": 1,
            "tps": tps,
            "kit": kit,
            "seq": 1,
            "captured_at": "2024-02-14T19:03:00Z",
            "fields": fields,
            "evidence": {f: {"confidence": 9990, "decision": "read"} for f in fields},
            "pages": [
                {
                    "page": p.number,
                    "sha256": hashlib.sha256(f"{tps}/{p.number}".encode()).hexdigest(),
                }
                for p in template.pages
            ],
            "model_sha256": model,
            "template_sha256": sha,
            "prev_sha256": GENESIS,
        }
        payload = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
        out.append((kit, bundle.make_bundle(BUNDLE_FORMAT, PAYLOAD_TYPE, payload, key, cert)))
    return out, docs


def hub_toml(root: Path, name: str, manifests: list[Path]) -> Path:
    path = root / f"{name}.toml"
    config = {
        "hub": {"id": HUB_ID, "log_id": "log-3171"},
        "paths": {
            "key": str(root / "hub" / "hub.key.pem"),
            "certificate": str(root / "hub" / "hub.cert.pem"),
            "ca_certificate": str(root / "ca" / ca.CERT_FILE),
            "crl": str(root / "ca" / ca.CRL_FILE),
            "manifests": [str(p) for p in manifests],
        },
        "database": {"url": str(root / f"{name}.sqlite3")},
        "ingest": {"workers": 0},
    }
    path.write_text(tomli_w.dumps(config))
    return path


def ingest(config_path: Path, results: list[tuple[str, bytes]], batch: int) -> tuple[float, int]:
    """Seconds to ingest ``results`` through a fresh hub; the open recap anomalies after."""
    hub = service.open_hub(load_hub_config(config_path), dt.datetime.now(dt.UTC))
    try:
        hub.ingestor.warm_up()
        began = time.perf_counter()
        for start in range(0, len(results), batch):
            messages = [Inbound("result", k, d) for k, d in results[start : start + batch]]
            outcomes = hub.ingestor.ingest_many(messages, dt.datetime.now(dt.UTC))
            if any(o.status != "accepted" for o in outcomes):
                raise SystemExit(f"not accepted: {[o.reason for o in outcomes][:3]}")
        seconds = time.perf_counter() - began
        found = [a for a in list_anomalies(hub.store.db) if a.kind == "dpt-differs-from-manifest"]
        return seconds, len(found)
    finally:
        hub.close()


def check_costs(
    docs: list[tuple[str, dict[str, int]]], manifest: Path, ca_cert: Path, reps: int = 5
) -> dict[str, float]:
    """Microseconds per result of the comparison alone (the lookup and differs_from_official)
    beside the recapitulation's existing check of the same numbers (check_numbers), on one
    core in one process: steadier than the ingest rates on a shared machine."""
    manifests = load_manifests([manifest], ca_cert, dt.datetime.now(dt.UTC))
    check_numbers(FORM, docs[0][1])  # the template's caches, as after the hub's first result

    def existing() -> None:
        for _, fields in docs:
            check_numbers(FORM, fields)

    def comparison() -> None:
        for tps, fields in docs:
            listed = official_dpt(manifests, ELECTION, tps)
            assert listed is not None
            differs_from_official(FORM, fields, listed)

    best = {}
    for name, run in (("existing_check_us", existing), ("dpt_comparison_us", comparison)):
        times = []
        for _ in range(reps):
            began = time.perf_counter()
            run()
            times.append(time.perf_counter() - began)
        best[name] = round(min(times) / len(docs) * 1e6, 2)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--tps", type=int, default=2000, help="TPS in the manifest, one result each"
    )
    parser.add_argument("--rounds", type=int, default=4, help="runs of each configuration")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--work", type=Path, help="work here and keep it (default: a temp dir)")
    args = parser.parse_args()
    if args.tps > TPS_PER_DESA * DESA_PER_KEC * 99:
        raise SystemExit(f"--tps: at most {TPS_PER_DESA * DESA_PER_KEC * 99}")
    root = args.work or Path(tempfile.mkdtemp(prefix="tps-hub-dpt-"))
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    authority = ca.init_ca(
        root / "ca", region=REGION, name="KPU Benchmark", passphrase=PASSPHRASE, days=30
    )
    services.enrol_service(authority, role="hub", name=HUB_ID, out=root / "hub", days=30)
    dpt = registers(args.tps, rng)
    manifest = root / "election.json"
    write_manifest(authority, dpt, manifest)
    began = time.perf_counter()
    load_manifests([manifest], root / "ca" / ca.CERT_FILE, dt.datetime.now(dt.UTC))
    load_s = time.perf_counter() - began
    print(f"manifest: {args.tps} TPS, {manifest.stat().st_size} bytes, loaded in {load_s:.2f} s")
    results, docs = signed_results(authority, dpt, rng)
    times: dict[str, list[float]] = {"baseline": [], "manifest": []}
    found = 0
    costs = check_costs(docs, manifest, root / "ca" / ca.CERT_FILE)
    print(
        f"per result: the DPT comparison {costs['dpt_comparison_us']} us, the existing "
        f"anomaly check {costs['existing_check_us']} us"
    )
    configurations = [("baseline", []), ("manifest", [manifest])]
    for n in range(args.rounds):
        # Each goes first in turn: the first run of a round pays for warming caches.
        for name, manifests in configurations[:: 1 if n % 2 == 0 else -1]:
            config = hub_toml(root, f"{name}-{n}", manifests)
            seconds, anomalies = ingest(config, results, args.batch)
            times[name].append(seconds)
            if name == "manifest":
                found = anomalies
            elif anomalies:
                raise SystemExit("the baseline recorded DPT anomalies without a manifest")
            print(f"round {n + 1} {name}: {len(results) / seconds:.0f} results/s")
    expected = len(range(0, args.tps, ALTERED_EVERY))
    best = {k: min(v) for k, v in times.items()}
    summary = {
        "tps": args.tps,
        "results": len(results),
        "batch": args.batch,
        "manifest_bytes": manifest.stat().st_size,
        "manifest_load_s": round(load_s, 3),
        "baseline_per_s": round(len(results) / best["baseline"]),
        "manifest_per_s": round(len(results) / best["manifest"]),
        "manifest_over_baseline_time": round(best["manifest"] / best["baseline"], 3),
        **costs,
        "comparison_over_existing_check": round(
            costs["dpt_comparison_us"] / costs["existing_check_us"], 3
        ),
        "dpt_anomalies": found,
        "dpt_anomalies_expected": expected,
    }
    if found != expected:
        raise SystemExit(f"{found} DPT anomalies recorded, {expected} expected: {summary}")
    if args.work is None:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
