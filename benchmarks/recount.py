"""Recount benchmark: how fast ``tps-verify recount`` reads and checks a hub's log, beside the
raw Ed25519 signature verification of the same entries in the same run.

    python benchmarks/recount.py --tps 2000          # 10,000 results (5 ballots per TPS)

The results are real: a region CA, one key and certificate per kit, every document signed
by its kit (benchmarks/hub.py's generator, in a process pool, not timed). They go into a
log in memory (hub/translog) whose checkpoint a hub key signs. Then, timed, one process:

1. raw: Ed25519 verification of every entry's DSSE signature with its kit's public key,
   already extracted, by OpenSSL (``cryptography``) and by libsodium (which the recount
   uses): the floor any verifier of these entries pays;
2. recount, in one process and then in ``--jobs`` judging processes: protocol/recount's
   update over the log's tiles served from memory (a function, no HTTP): the checkpoint's
   signature, every entry bundle, each entry parsed, its kit certificate checked against
   the CA (once per kit), its signature, its document parsed and bound to the
   certificate, each valid version written to the recount's SQLite state file, and the
   leaves folded into the checkpoint's root;
3. count: the versions that count chosen from the state file by the version rule, the
   holds judged (protocol/limits.py) and every region level summed.

Reported: entries/s of each, the one-process recount's ratio to raw, and the microseconds
per entry of each step of judging it (each step timed over all entries in turn). The last line of
output is one JSON object.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.hub import (
    BALLOTS,
    ELECTION,
    Generator,
    chunks,
    expected_totals,
    init_worker,
    make_authority,
    read_chunk,
    write_chunk,
)
from hub.translog import MemoryStorage, TransparencyLog
from hub.translog.tiles import tile_bytes
from protocol import bundle, certs, checkpoint, dsse, merkle, recount, result, tiles
from protocol.recount_cli import judging
from protocol.sodium import SodiumKey, sodium_keys

LOG_ID = "log-31"


SEED = 7


def sign_results(n_tps: int, work: Path, processes: int) -> tuple[Path, list[bytes]]:
    authority = make_authority(work / "ca")
    jobs = list(chunks(n_tps, max(1, n_tps // (processes * 4)), work))
    with multiprocessing.Pool(processes, init_worker, (authority.directory, SEED)) as pool:
        files = [path for path, _ in pool.imap(write_chunk, jobs)]
    entries = [data for path in files for _, data in read_chunk(path)]
    return authority.directory / "ca.cert.pem", entries


def totals_differences(
    recounted: dict[tuple[str, str], dict[str, recount.RegionSums]], n_tps: int, ca_dir: Path
) -> dict[str, Any]:
    """Where the recount's national totals differ from what the kits signed (the numbers the
    hub's own benchmark checks its recapitulation against): empty when they agree."""
    generator = Generator(ca_dir, SEED)
    differences: dict[str, Any] = {}
    for index, ballot in enumerate(BALLOTS):
        sums = recounted.get((ELECTION, ballot.form), {}).get("")
        expected = expected_totals(generator, n_tps, index)
        got = {} if sums is None else sums.totals
        reported = 0 if sums is None else sums.tps_reported
        if got != expected or reported != n_tps:
            differences[ballot.form] = {"tps_reported": reported, "totals_equal": got == expected}
    return differences


def raw_rate(entries: list[bytes], sodium: bool = False) -> float:
    """Ed25519 verification alone (by OpenSSL, or by libsodium as the recount checks them):
    PAE bytes and kit keys prepared before the clock starts."""
    prepared = []
    keys: dict[str, Ed25519PublicKey | SodiumKey] = {}
    for data in entries:
        value = json.loads(data)
        envelope = value["envelope"]
        pem = value["certificate"]
        key = keys.get(pem)
        if key is None:
            public = certs.load_certificate(pem.encode()).public_key()
            assert isinstance(public, Ed25519PublicKey)
            keys[pem] = key = SodiumKey(public) if sodium else public
        payload = base64.b64decode(envelope["payload"])
        pae = dsse.pae(envelope["payloadType"], payload)
        prepared.append((key, base64.b64decode(envelope["signatures"][0]["sig"]), pae))
    started = time.perf_counter()
    for key, signature, message in prepared:
        key.verify(signature, message)
    return len(prepared) / (time.perf_counter() - started)


def stage_costs(entries: list[bytes], ca_path: Path) -> dict[str, float]:
    """Microseconds per entry of each step of judging one entry (protocol/result.py's
    verify_result_with, as the recount runs it), each step timed over all entries in turn
    in one process, then of the recount's own work on the entry (leaf hash, state row)."""
    ca_cert = certs.load_certificate(ca_path.read_bytes())
    at = dt.datetime.now(dt.UTC)
    trusted = certs.anchor(ca_cert, None, at, verifier=SodiumKey)
    n = len(entries)
    costs: dict[str, float] = {}

    def timed(name: str, step: Any, inputs: list[Any]) -> list[Any]:
        started = time.perf_counter()
        out = [step(x) for x in inputs]
        costs[name] = (time.perf_counter() - started) / n * 1e6
        return out

    parsed = timed("parse_bundle", result.parse_bundle, entries)
    seen: dict[Any, certs.Identity] = {}

    def kit(pair: Any) -> certs.Identity:
        cert = pair[1]
        found = seen.get(cert)
        if found is None:
            seen[cert] = found = certs.verify_anchored(cert, trusted, role="kit", at=at)
        return found

    signers = timed("kit_certificate_once_per_kit", kit, parsed)
    payloads = timed(
        "signature_libsodium",
        lambda pair: result.check_signature(
            pair[0], pair[1], keys=sodium_keys(bundle.signing_keys(pair[1]))
        ),
        parsed,
    )
    documents = timed("document_parse_and_validate", result.parse_payload, payloads)
    timed(
        "binding",
        lambda pair: result.check_binding(*pair),
        list(zip(documents, signers, strict=True)),
    )
    timed("leaf_hash", merkle.leaf_hash, entries)
    return {name: round(cost, 1) for name, cost in costs.items()}


def recount_rate(
    entries: list[bytes], ca_path: Path, jobs: int, work: Path
) -> tuple[float, float, dict[tuple[str, str], dict[str, recount.RegionSums]]]:
    hub_key = Ed25519PrivateKey.generate()
    log = TransparencyLog(MemoryStorage())
    log.append_many(entries)
    log.sign_tree_head(hub_key, LOG_ID, dt.datetime.now(dt.UTC))

    def fetch(path: str) -> bytes:
        if path == "checkpoint":
            return log.checkpoint() or b""
        return tile_bytes(log.storage, tiles.parse_path(path))

    state = recount.State(LOG_ID, work / f"state-{jobs}.sqlite")
    verifier = checkpoint.verifier_for(LOG_ID, hub_key.public_key())
    with judging(ca_path.read_bytes(), None, dt.datetime.now(dt.UTC), jobs) as judge:
        started = time.perf_counter()  # the judging processes already started
        progress = recount.update(state, tiles.TileReader(fetch), verifier, judge)
        elapsed = time.perf_counter() - started
    if progress.refused:
        raise AssertionError(f"valid results refused: {progress.refused[:3]}")
    started = time.perf_counter()
    counting = state.counting()
    recounted = recount.totals(counting, recount.held(counting, {}))
    counted = time.perf_counter() - started
    state.close()
    return len(entries) / elapsed, len(entries) / counted, recounted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tps", type=int, default=2000, help="TPS (5 results each)")
    parser.add_argument("--processes", type=int, default=2, help="signing processes (untimed)")
    parser.add_argument("--jobs", type=int, default=2, help="the recount's judging processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="recount-bench-") as tmp:
        ca_path, entries = sign_results(args.tps, Path(tmp), args.processes)
        raw = raw_rate(entries)
        raw_sodium = raw_rate(entries, sodium=True)
        stages = stage_costs(entries, ca_path)
        one, count_rate, recounted = recount_rate(entries, ca_path, 1, Path(tmp))
        spread, _, recounted_spread = recount_rate(entries, ca_path, args.jobs, Path(tmp))
        differences = totals_differences(recounted, args.tps, ca_path.parent)
        if recounted_spread != recounted:
            differences["jobs"] = f"{args.jobs} processes recounted other totals than one"
    outcome: dict[str, Any] = {
        "entries": len(entries),
        "counted_tps": sum(r[""].tps_reported for r in recounted.values()),
        "totals_equal_what_the_kits_signed": not differences,
        "differences": differences,
        "raw_ed25519_verify_per_s": round(raw),
        "raw_libsodium_verify_per_s": round(raw_sodium),
        "recount_1_process_per_s": round(one),
        f"recount_{args.jobs}_processes_per_s": round(spread),
        "recount_1_over_raw": round(one / raw, 3),
        "recount_1_over_raw_libsodium": round(one / raw_sodium, 3),
        "count_stage_per_s": round(count_rate),
        "judging_us_per_entry_by_step": stages,
    }
    print(
        f"{len(entries)} entries: raw Ed25519 verify (one process) {raw:,.0f}/s by OpenSSL, "
        f"{raw_sodium:,.0f}/s by libsodium; recount "
        f"{one:,.0f}/s in one process ({one / raw:.2f} of raw OpenSSL, "
        f"{one / raw_sodium:.2f} of raw libsodium), {spread:,.0f}/s in "
        f"{args.jobs} processes; then choosing, judging holds and summing {count_rate:,.0f} "
        "entries/s"
    )
    print(
        "judging one entry, microseconds by step (one process): "
        + ", ".join(f"{name} {cost}" for name, cost in stages.items())
    )
    print(
        "totals (every contest, national): "
        + ("equal to what the kits signed" if not differences else f"DIFFER {differences}")
    )
    print(json.dumps(outcome))
    if differences:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
