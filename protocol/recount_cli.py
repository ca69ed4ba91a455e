"""``tps-verify recount``: recount a hub's log from its tiles and compare with its published
recapitulation (protocol/recount.py), trusting only the region's CA certificate and CRL.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import multiprocessing
import os
import sqlite3
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from cryptography import x509

from protocol import bundle, certs, checkpoint, note, recount, result, tiles
from protocol.errors import ProtocolError
from protocol.sodium import SodiumKey, sodium_keys
from protocol.utctime import SHAPE, parse_utc
from protocol.witness_options import quorum as witness_quorum
from protocol.witness_options import witness_options
from protocol.witnessing import Quorum

_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)
TIMEOUT_S = 30.0
# The largest answer read: a full entry bundle is at most 256 entries of 64 KiB (16 MiB);
# a hub answering more is refused rather than read into memory.
MAX_RESPONSE = 32 << 20
# Reads of the log and of the hub's totals, when the hub logged more in between (each read
# takes only what is new); a hub ingesting without pause is then reported as moved on.
ATTEMPTS = 3
# The exit code when every entry is valid but the totals could not be compared.
NOT_COMPARED = 3


class FetchError(Exception):
    """An HTTP GET that did not answer 200."""


def http_get(url: str, timeout: float = TIMEOUT_S) -> bytes:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data: bytes = response.read(MAX_RESPONSE + 1)
            if len(data) > MAX_RESPONSE:
                raise FetchError(f"GET {url}: the answer is over {MAX_RESPONSE} bytes")
            return data
    except urllib.error.HTTPError as e:
        detail = e.read()[:300].decode(errors="replace")
        raise FetchError(f"GET {url}: HTTP {e.code} {detail}") from e
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        raise FetchError(f"GET {url}: {e}") from e


def judge_with(
    ca_cert: x509.Certificate, crl: x509.CertificateRevocationList | None, at: dt.datetime
) -> recount.Judge:
    """Verify one entry as ``tps-verify`` verifies a signed result, each kit certificate
    judged once (a kit signs every one of its results with the same one). Signatures are
    checked by libsodium, as the hub's judging checks them (protocol/sodium.py): the costliest
    step of each entry, in about 60 % of OpenSSL's time."""
    trusted = certs.anchor(ca_cert, crl, at, verifier=SodiumKey)
    judged: dict[x509.Certificate, certs.Identity | ProtocolError] = {}

    def verify_kit(cert: x509.Certificate) -> certs.Identity:
        found = judged.get(cert)
        if found is None:
            try:
                found = certs.verify_anchored(cert, trusted, role="kit", at=at)
            except ProtocolError as e:
                found = e
            judged[cert] = found
        if isinstance(found, ProtocolError):
            raise found
        return found

    signing: dict[x509.Certificate, dict[str, SodiumKey]] = {}

    def keys(cert: x509.Certificate) -> dict[str, SodiumKey]:
        found = signing.get(cert)
        if found is None:
            signing[cert] = found = sodium_keys(bundle.signing_keys(cert))
        return found

    return lambda data: result.verify_result_with(data, verify_kit, keys=keys)


_JUDGE: recount.Judge | None = None  # a judging process's own, made once by _start


def _start(ca_pem: bytes, crl_pem: bytes | None, at: dt.datetime) -> None:
    global _JUDGE
    crl = certs.load_crl(crl_pem) if crl_pem else None
    _JUDGE = judge_with(certs.load_certificate(ca_pem), crl, at)


def _judge_batch(batch: list[bytes]) -> list[recount.Outcome]:
    assert _JUDGE is not None, "_start was not run"
    return [recount.outcome(_JUDGE, entry) for entry in batch]


@contextlib.contextmanager
def judging(
    ca_pem: bytes, crl_pem: bytes | None, at: dt.datetime, jobs: int
) -> Iterator[recount.JudgeMany]:
    """Judge batches of entries in ``jobs`` processes (1: in this one), results in order."""
    if jobs <= 1:
        _start(ca_pem, crl_pem, at)
        yield lambda batches: map(_judge_batch, batches)
        return
    with multiprocessing.Pool(jobs, _start, (ca_pem, crl_pem, at)) as pool:
        yield lambda batches: pool.imap(_judge_batch, batches)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--hub",
    "hub_url",
    required=True,
    metavar="URL",
    help="The hub's API root, e.g. https://hub.example/api/v1.",
)
@click.option("--log", "log_id", required=True, metavar="LOG_ID", help="The log to recount.")
@click.option("--ca", "ca_path", required=True, type=_FILE, help="The region CA certificate (PEM).")
@click.option("--crl", "crl_path", type=_FILE, help="The region's revocation list (PEM).")
@click.option(
    "--hub-cert",
    "hub_cert_path",
    type=_FILE,
    help="The hub's certificate (PEM); default: fetched from the hub (it is checked against "
    "the CA either way).",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The SQLite file where the recount keeps what it has read, to resume from it next "
    "time; default ./recount-LOG_ID.sqlite.",
)
@click.option(
    "--at",
    "at_text",
    help="Judge certificates at this UTC time (YYYY-MM-DDTHH:MM:SSZ); default now.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=lambda: min(os.cpu_count() or 1, 4),
    show_default="the cores, at most 4",
    help="Processes that verify entries.",
)
@witness_options("the checkpoint")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def recount_command(
    hub_url: str,
    log_id: str,
    ca_path: Path,
    crl_path: Path | None,
    hub_cert_path: Path | None,
    state_path: Path | None,
    at_text: str | None,
    jobs: int,
    witness_keys: tuple[str, ...],
    witnesses_required: int | None,
    as_json: bool,
) -> None:
    """Recount a hub's log: mirror it through its tlog tiles, verify every entry's kit
    signature and certificate against the CA (and CRL), choose the version that counts by
    the hub's rule, sum every region level, and compare with the hub's published
    recapitulation, naming every difference. The operator's published decisions (kits
    declared compromised, held results released or kept out) are applied and named. Run it
    again to read only what is new (after checking that the log still extends the one read
    before).

    The totals are compared only while the hub's log is at the size recounted (it is
    re-read up to twice if the hub logged more meanwhile); with --witnesses-required that
    is the newest cosigned checkpoint, so during ingest the totals usually wait.

    Exits 0 only when every entry is a valid result and every total agrees; 1 when an entry
    is invalid or a total differs; 2 when the log could not be recounted; 3 when every entry
    is valid but the hub had moved on: run it again."""
    at = _parse_time(at_text) if at_text else dt.datetime.now(dt.UTC)
    root = hub_url.rstrip("/")
    state_file = state_path or Path(f"recount-{log_id}.sqlite")
    state: recount.State | None = None
    try:
        ca_pem = ca_path.read_bytes()
        crl_pem = crl_path.read_bytes() if crl_path else None
        ca_cert = certs.load_certificate(ca_pem)
        crl = certs.load_crl(crl_pem) if crl_pem else None
        hub_pem = (
            hub_cert_path.read_bytes() if hub_cert_path else http_get(f"{root}/hub-certificate")
        )
        hub_key = checkpoint.hub_verifier(
            log_id, certs.load_certificate(hub_pem), ca_cert, at, crl=crl
        )
        certs.anchor(ca_cert, crl, at)  # a bad CA or CRL stops here, not in every process
        state = recount.State(log_id, state_file)
        reader = tiles.TileReader(lambda path: http_get(f"{root}/logs/{log_id}/{path}"))
        quorum = witness_quorum(witness_keys, witnesses_required)
        published = recount.Published(_json_getter(root), training=log_id.endswith("-latihan"))
        with judging(ca_pem, crl_pem, at, jobs) as judge:
            progress, compared = _recount(state, reader, hub_key, judge, quorum, published)
        refused = sorted(state.refused.items())
    except (ProtocolError, FetchError) as e:
        click.echo(f"GAGAL / FAILED: {e}", err=True)
        sys.exit(2)
    except sqlite3.Error as e:  # e.g. another recount holds the same state file
        click.echo(
            f"GAGAL / FAILED: the state file {state_file} cannot be written ({e}): is another "
            "recount using it? Run one at a time per --state file.",
            err=True,
        )
        sys.exit(2)
    finally:
        if state is not None:
            state.close()
    if isinstance(compared, recount.MovedOn):
        moved: recount.MovedOn | None = compared
        decisions, held, differences = recount.Decisions(), {}, []
    else:
        moved = None
        decisions, held, differences = compared
    held_lists = {c: sorted(t) for c, t in held.items() if t}
    agrees = moved is None and not differences and not refused
    if as_json:
        value = _as_json(progress, refused, held_lists, decisions, differences, agrees)
        value["compared"] = moved is None
        value["hub_tree_size"] = progress.new_size if moved is None else moved.hub_size
        click.echo(json.dumps(value, indent=2))
    else:
        waiting = None if moved is None else _moved_on(moved, quorum is not None)
        _print(progress, refused, held_lists, decisions, differences, agrees, waiting)
    if agrees:
        sys.exit(0)
    sys.exit(1 if differences or refused else NOT_COMPARED)


Compared = tuple[recount.Decisions, dict[tuple[str, str], set[str]], list[str]]


def _recount(
    state: recount.State,
    reader: tiles.TileReader,
    hub_key: note.Verifier,
    judge: recount.JudgeMany,
    quorum: Quorum | None,
    published: recount.Published,
) -> tuple[recount.Progress, Compared | recount.MovedOn]:
    """Read the log (what is new), then compare the hub's totals while its log is at the
    size read; again if it moved on meanwhile, at most ATTEMPTS times."""
    read_from = state.size

    def hub_size() -> int:
        latest = checkpoint.verify(reader.checkpoint(), [hub_key], origin=state.log_id)
        return latest.checkpoint.tree_size

    def compare() -> Compared:
        decisions = recount.apply_decisions(published.decisions(), state)
        counting = state.counting(decisions.compromised)
        held = recount.held(counting, decisions.released)
        return decisions, held, decisions.problems + recount.compare(counting, held, published)

    for _ in range(ATTEMPTS):
        progress = recount.update(state, reader, hub_key, judge, quorum)
        compared = recount.while_at(progress.new_size, hub_size, compare)
        if not isinstance(compared, recount.MovedOn):
            break
    return dataclasses.replace(progress, old_size=read_from), compared


def _moved_on(moved: recount.MovedOn, witnessed: bool) -> str:
    wait = (
        "once witnesses cosign a checkpoint of the hub's size, or after ingest pauses"
        if witnessed
        else "after ingest pauses"
    )
    return (
        f"the hub's log is at size {moved.hub_size}, not the {moved.recounted} recounted: its "
        f"totals count other results, so they were not compared; run it again {wait}"
    )


def _json_getter(root: str) -> Callable[[str, dict[str, str]], Any]:
    def get(path: str, query: dict[str, str]) -> Any:
        quoted = "/".join(urllib.parse.quote(part, safe="") for part in path.split("/"))
        return json.loads(http_get(f"{root}/{quoted}?{urllib.parse.urlencode(query)}"))

    return get


def _print(
    progress: recount.Progress,
    refused: list[tuple[int, str]],
    held: dict[tuple[str, str], list[str]],
    decisions: recount.Decisions,
    differences: list[str],
    agrees: bool,
    not_compared: str | None = None,
) -> None:
    cp = progress.checkpoint
    click.echo(f"[ok] checkpoint of {cp.origin} signed by the hub, size {cp.tree_size}")
    if progress.cosigned_by:
        click.echo(f"[ok] cosigned by witnesses {', '.join(progress.cosigned_by)}")
    if progress.old_size:
        click.echo(
            f"[ok] the log at size {cp.tree_size} extends the log at size {progress.old_size} "
            "read last time (not rewritten)"
        )
    click.echo(
        f"[ok] entries {progress.old_size}..{cp.tree_size - 1} read from tiles, "
        f"hashing to the checkpoint's root"
    )
    for line in recount.refused_lines(refused):
        click.echo(f"[FAIL] {line}")
    for line in decisions.applied:
        click.echo(f"[op] operator's {line}")
    for (election, form), codes in sorted(held.items()):
        click.echo(
            f"[--] {election} {form}: held (perlu verifikasi: a hard limit broken, no "
            f"operator released it), left out of the totals: {', '.join(codes)}"
        )
    for line in differences:
        click.echo(f"[DIFF] {line}")
    if not_compared is not None:
        click.echo(f"[--] {not_compared}")
    if agrees:
        click.echo(
            "HASIL: rekapitulasi hub SAMA dengan hitung ulang dari log "
            "(the hub's recapitulation equals the recount at every level)"
        )
    elif differences or refused:
        click.echo(
            f"HASIL: {len(differences)} perbedaan, {len(refused)} entri tidak sah "
            f"({len(differences)} differences, {len(refused)} invalid entries: see above)"
        )
    else:
        click.echo(
            "HASIL: belum dibandingkan; semua entri sah (not compared: the hub moved on; "
            "every entry read is valid)"
        )


def _as_json(
    progress: recount.Progress,
    refused: list[tuple[int, str]],
    held: dict[tuple[str, str], list[str]],
    decisions: recount.Decisions,
    differences: list[str],
    agrees: bool,
) -> dict[str, Any]:
    return {
        "agrees": agrees,
        "log_id": progress.checkpoint.origin,
        "tree_size": progress.checkpoint.tree_size,
        "root_hash": progress.checkpoint.root_hash.hex(),
        "read_from": progress.old_size,
        "cosigned_by": list(progress.cosigned_by),
        "refused": [{"leaf_index": leaf, "reason": why} for leaf, why in refused],
        "held": [{"election": e, "form": f, "tps": codes} for (e, f), codes in held.items()],
        "decisions_applied": decisions.applied,
        "differences": differences,
    }


def _parse_time(text: str) -> dt.datetime:
    try:
        return parse_utc(text)
    except ValueError as e:
        raise click.BadParameter(f"{text!r} is not {SHAPE}", param_hint="--at") from e
