"""A recount from the hub's log alone: what ``tps-verify recount`` runs.

It mirrors one log through its tiles (protocol/tiles.py), trusting only the region's CA
(and CRL): the checkpoint must carry the signature of a hub certificate the CA issued;
every entry must hash into the checkpoint's root (the recount folds the leaves itself);
every entry must be a kit-signed result whose certificate chains to the CA, is not revoked,
and binds the kit to its TPS and election (protocol/result.py, as ``tps-verify`` checks one
result). The versions that count are chosen by the hub's own rule (protocol/versions.py),
in the log's order, and summed into every region level above the TPS; then each total is
compared with what the hub publishes (:mod:`protocol.recap_client`) and every difference is
named.

Run again, it resumes from the state it kept: it asks for the new checkpoint, checks a
consistency proof from the kept checkpoint (computed from tiles, so a hub that rewrote its
log is caught before anything new is read) and reads only the new entries.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from protocol import checkpoint, merkle, note, subtrees, tiles, witnessing
from protocol import tps as tps_codes
from protocol.errors import ProtocolError, VerificationError
from protocol.result import VerifiedResult
from protocol.versions import supersedes

STATE_FORMAT = "tps-recount-state/1"
WHOLE = ""  # the whole election, as the hub's recapitulation names it
# Region levels above the TPS, top down, as the hub's recapitulation names them.
LEVELS = ("nasional", "provinsi", "kabkota", "kecamatan", "desa")

# What judging one entry gives: the facts the recount counts (election, form, TPS, kit,
# seq, fields), or why the entry is not a valid result. Plain values: judging may run in
# other processes (:func:`judge_batches`).
Facts = tuple[str, str, str, str, int, dict[str, int]]
Outcome = Facts | str
Judge = Callable[[bytes], VerifiedResult]  # raises a ProtocolError when the entry fails
JudgeMany = Callable[[Iterator[list[bytes]]], Iterator[list[Outcome]]]


def outcome(judge: Judge, entry: bytes) -> Outcome:
    try:
        verified = judge(entry)
    except ProtocolError as e:
        return f"{type(e).__name__}: {e}"
    doc = verified.document
    fields = {k: int(v) for k, v in doc.fields.items()}
    return (doc.election, doc.form, doc.tps, doc.kit, doc.seq, fields)


def in_order(judge: Judge) -> JudgeMany:
    """Judge every batch in this process, in order."""
    return lambda batches: ([outcome(judge, e) for e in batch] for batch in batches)


class RecountError(VerificationError):
    """The log cannot be recounted: a bad checkpoint, a rewritten log, tiles that lie."""


@dataclass
class Counted:
    """The version of one TPS's form that counts, as the recount found it."""

    kit: str
    seq: int
    document_id: int  # its leaf index: the log's order, which the version rule reads
    fields: dict[str, int]


@dataclass
class State:
    """What a recount keeps between runs (one log)."""

    log_id: str
    signed_checkpoint: bytes | None = None
    size: int = 0
    frontier: list[tuple[subtrees.NodeId, bytes]] = field(default_factory=list)
    # (election, form, tps) -> the counting version
    counting: dict[tuple[str, str, str], Counted] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)  # leaf index -> why

    def to_bytes(self) -> bytes:
        value = {
            "format": STATE_FORMAT,
            "log_id": self.log_id,
            "checkpoint": None
            if self.signed_checkpoint is None
            else self.signed_checkpoint.decode(),
            "size": self.size,
            "frontier": [[lvl, idx, h.hex()] for (lvl, idx), h in self.frontier],
            "counting": [
                [e, f, t, c.kit, c.seq, c.document_id, c.fields]
                for (e, f, t), c in sorted(self.counting.items())
            ],
            "refused": [[leaf, why] for leaf, why in sorted(self.refused.items())],
        }
        return orjson.dumps(value)

    @classmethod
    def from_bytes(cls, data: bytes) -> State:
        try:
            value = orjson.loads(data)
            if value.get("format") != STATE_FORMAT:
                raise ValueError(f"not {STATE_FORMAT}")
            kept = value["checkpoint"]
            return cls(
                log_id=value["log_id"],
                signed_checkpoint=None if kept is None else kept.encode(),
                size=int(value["size"]),
                frontier=[((int(a), int(b)), bytes.fromhex(h)) for a, b, h in value["frontier"]],
                counting={
                    (e, f, t): Counted(kit, int(seq), int(doc), dict(fields))
                    for e, f, t, kit, seq, doc, fields in value["counting"]
                },
                refused={int(leaf): str(why) for leaf, why in value["refused"]},
            )
        except (ValueError, KeyError, TypeError) as e:
            raise RecountError(f"the recount's kept state is unreadable ({e}): start afresh") from e


@dataclass(frozen=True)
class Progress:
    old_size: int
    new_size: int
    checkpoint: checkpoint.Checkpoint
    refused: list[tuple[int, str]]  # entries of this run that do not count, and why
    cosigned_by: tuple[str, ...] = ()  # the named witnesses whose cosignatures held


@dataclass(frozen=True)
class Quorum:
    """The witnesses a reader names, and how many of them must have cosigned."""

    witnesses: tuple[note.Verifier, ...]
    required: int


def update(
    state: State,
    reader: tiles.TileReader,
    hub_key: note.Verifier,
    judge: JudgeMany,
    quorum: Quorum | None = None,
) -> Progress:
    """Bring ``state`` up to the hub's latest checkpoint. Raises :class:`RecountError` (and
    leaves ``state`` as it was) if the checkpoint, the consistency from the kept one, or
    the entries fail; entries that are not valid results are refused and named.

    ``judge`` judges batches of entries in order (:func:`in_order`, or spread over
    processes); the leaves are folded and the version rule applied here, in log order."""
    signed = reader.checkpoint()
    try:
        latest = checkpoint.verify(signed, [hub_key], origin=state.log_id)
    except ProtocolError as e:
        raise RecountError(f"the hub's checkpoint does not verify: {e}") from e
    cosigned_by: tuple[str, ...] = ()
    if quorum is not None:
        try:
            found = witnessing.require(signed, quorum.witnesses, quorum.required)
            cosigned_by = tuple(w.name for w in found)
        except ProtocolError as e:
            raise RecountError(f"the hub's checkpoint is not cosigned as required: {e}") from e
    new = latest.checkpoint
    old_size = state.size
    if state.signed_checkpoint is not None:
        _check_extends(state, reader, hub_key, new)
    frontier = list(state.frontier)
    counting = dict(state.counting)
    refused: list[tuple[int, str]] = []
    read: deque[list[bytes]] = deque()

    def batches() -> Iterator[list[bytes]]:
        for start in range(old_size, new.tree_size, tiles.WIDTH):
            batch = _entries(reader, start, min(start + tiles.WIDTH, new.tree_size), new.tree_size)
            read.append(batch)  # judged elsewhere, maybe ahead: kept for the leaves
            yield batch

    index = old_size
    for outcomes in judge(batches()):
        for entry, judged in zip(read.popleft(), outcomes, strict=True):
            subtrees.completed_nodes(index, merkle.leaf_hash(entry), frontier)
            if isinstance(judged, str):
                refused.append((index, judged))
            else:
                _count(counting, index, judged)
            index += 1
    if index != new.tree_size:
        raise RecountError(f"read {index - old_size} entries, not {new.tree_size - old_size}")
    root = subtrees.fold([node for node, _ in frontier], dict(frontier))
    if root != new.root_hash:
        raise RecountError(
            f"the entries read do not hash to the checkpoint's root at size {new.tree_size}: "
            "the hub served entries that are not its log"
        )
    state.signed_checkpoint, state.size = signed, new.tree_size
    state.frontier, state.counting = frontier, counting
    state.refused.update(refused)
    return Progress(old_size, new.tree_size, new, refused, cosigned_by)


def _check_extends(
    state: State, reader: tiles.TileReader, hub_key: note.Verifier, new: checkpoint.Checkpoint
) -> None:
    assert state.signed_checkpoint is not None
    kept = checkpoint.verify(state.signed_checkpoint, [hub_key], origin=state.log_id).checkpoint
    if new.tree_size < kept.tree_size:
        raise RecountError(
            f"the hub's checkpoint is of size {new.tree_size}, smaller than the {kept.tree_size} "
            "kept from the last run: a log never shrinks"
        )
    try:
        proof = reader.consistency_proof(kept.tree_size, new.tree_size)
        checkpoint.check_consistency(kept, new, proof)
    except ProtocolError as e:
        raise RecountError(
            f"the log at size {new.tree_size} does not extend the log at size "
            f"{kept.tree_size} kept from the last run (rewritten, or a forked view): {e}"
        ) from e


def _entries(reader: tiles.TileReader, start: int, end: int, size: int) -> list[bytes]:
    # Whole bundles: the leaves are folded by the recount itself, so the level-0 tiles are
    # not needed to check them.
    found: list[bytes] = []
    for n in range(start // tiles.WIDTH, -(-end // tiles.WIDTH)):
        bundle = reader.bundle(n, size)
        first = n * tiles.WIDTH
        found.extend(bundle[max(start, first) - first : end - first])
    return found


def _count(counting: dict[tuple[str, str, str], Counted], index: int, facts: Facts) -> None:
    election, form, tps, kit, seq, fields = facts
    candidate = Counted(kit, seq, index, fields)
    key = (election, form, tps)
    current = counting.get(key)
    if current is None or supersedes(candidate, current):
        counting[key] = candidate


# -- the totals and the comparison ------------------------------------------------------------


@dataclass
class RegionSums:
    tps_reported: int = 0
    totals: dict[str, int] = field(default_factory=dict)


def regions_of(tps: str) -> list[tuple[str, str]]:
    """(level, region code) of every region above ``tps``, top down."""
    code = tps_codes.parse(tps)
    return [("nasional", WHOLE)] + [(level, code.prefix(level)) for level in tps_codes.LEVELS[:-1]]


def totals(
    counting: Mapping[tuple[str, str, str], Counted], held: Mapping[tuple[str, str], set[str]]
) -> dict[tuple[str, str], dict[str, RegionSums]]:
    """(election, form) -> region -> sums (TPS codes too, as regions of one TPS), leaving out
    the TPS in ``held`` (by contest), as the hub's published totals leave them out."""
    result: dict[tuple[str, str], dict[str, RegionSums]] = {}
    for (election, form, tps), counted in counting.items():
        if tps in held.get((election, form), set()):
            continue
        regions = result.setdefault((election, form), {})
        regions[tps] = RegionSums(1, dict(counted.fields))
        for _, region in regions_of(tps):
            sums = regions.setdefault(region, RegionSums())
            sums.tps_reported += 1
            for name, value in counted.fields.items():
                sums.totals[name] = sums.totals.get(name, 0) + value
    return result


@dataclass(frozen=True)
class PublishedRegion:
    region: str
    tps_reported: int
    totals: dict[str, int]


class Published:
    """What the hub publishes of its recapitulation, read through ``get`` (path under the
    API root and query -> JSON value): its contests, each region's totals and children."""

    def __init__(self, get: Callable[[str, dict[str, str]], Any], training: bool) -> None:
        self._get = get
        self._training = training

    def contests(self) -> list[tuple[str, str]]:
        value = self._get("contests", {"training": "true" if self._training else "false"})
        return [(c["election"], c["form"]) for c in value["contests"]]

    def view(self, election: str, form: str, region: str) -> dict[str, Any]:
        value: dict[str, Any] = self._get(f"contests/{election}/{form}/regions", {"region": region})
        return value


def compare(
    counting: Mapping[tuple[str, str, str], Counted], published: Published
) -> tuple[list[str], dict[tuple[str, str], list[str]]]:
    """Every difference between the recount and the hub's published recapitulation, named
    (empty: they agree at every level, down to each TPS); and the TPS the hub holds out of
    its totals ("perlu verifikasi"), by contest, which the recount leaves out too."""
    differences: list[str] = []
    hub_contests = set(published.contests())
    ours = {(e, f) for e, f, _ in counting}
    for election, form in sorted(ours - hub_contests):
        differences.append(f"{election} {form}: the log holds results, the hub publishes none")
    for election, form in sorted(hub_contests - ours):
        differences.append(f"{election} {form}: the hub publishes totals, the log holds none")
    held: dict[tuple[str, str], set[str]] = {}
    for contest in sorted(ours & hub_contests):
        held[contest] = set(published.view(*contest, WHOLE)["held_tps"])
    sums = totals(counting, held)
    for contest in sorted(ours & hub_contests):
        differences.extend(_compare_contest(contest, sums.get(contest, {}), published))
    return differences, {c: sorted(t) for c, t in held.items() if t}


def _compare_contest(
    contest: tuple[str, str], ours: Mapping[str, RegionSums], published: Published
) -> Iterator[str]:
    """Top down, one published view per region: its own totals, then its children's (down
    to each TPS of each desa), descending where both sides have the child."""
    election, form = contest
    label = f"{election} {form}"
    children_of: dict[str, set[str]] = {}
    for code in ours:
        if code != WHOLE:
            children_of.setdefault(code.rpartition(".")[0], set()).add(code)
    yield from _differ(
        label, WHOLE, ours.get(WHOLE), _region(published.view(*contest, WHOLE)["region"])
    )
    queue = [WHOLE]
    while queue:
        region = queue.pop(0)
        view = published.view(election, form, region)
        # A TPS held out of the totals is listed with no numbers: not a reported one.
        hub_children = {
            c["region"]: _region(c) for c in view["children"] if c["tps_reported"] or c["totals"]
        }
        our_children = children_of.get(region, set())
        for code in sorted(our_children | set(hub_children)):
            yield from _differ(label, code, ours.get(code), hub_children.get(code))
            has_children = len(code.split(".")) < len(LEVELS)  # provinsi .. desa
            if has_children and code in hub_children and code in our_children:
                queue.append(code)


def _region(value: Mapping[str, Any]) -> PublishedRegion:
    return PublishedRegion(value["region"], int(value["tps_reported"]), dict(value["totals"]))


def _differ(
    label: str, region: str, ours: RegionSums | None, hub: PublishedRegion | None
) -> Iterator[str]:
    name = f"{label} {_level_name(region)}"
    if ours is None and hub is None:
        return
    if ours is None:
        assert hub is not None
        yield f"{name}: the hub counts {hub.tps_reported} TPS, the log gives none"
        return
    if hub is None:
        yield f"{name}: the log gives {ours.tps_reported} TPS, the hub publishes none"
        return
    if ours.tps_reported != hub.tps_reported:
        yield f"{name}: TPS reported: hub {hub.tps_reported}, recount {ours.tps_reported}"
    for key in sorted(set(ours.totals) | set(hub.totals)):
        a, b = hub.totals.get(key), ours.totals.get(key)
        if a != b:
            yield f"{name}: {key}: hub {_num(a)}, recount {_num(b)}"


def _level_name(region: str) -> str:
    if region == WHOLE:
        return "nasional"
    depth = len(region.split("."))
    return f"{(*LEVELS, 'tps')[depth]} {region}"


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)


def refused_lines(refused: Sequence[tuple[int, str]]) -> list[str]:
    return [f"leaf {leaf}: not a valid result, not counted: {why}" for leaf, why in refused]
