"""A recount from the hub's log alone: what ``tps-verify recount`` runs.

It mirrors one log through its tiles (protocol/tiles.py), trusting only the region's CA
(and CRL): the checkpoint must carry the signature of a hub certificate the CA issued;
every entry must hash into the checkpoint's root (the recount folds the leaves itself);
every entry must be a kit-signed result whose certificate chains to the CA, is not revoked,
and binds the kit to its TPS and election (protocol/result.py, as ``tps-verify`` checks one
result). The versions that count are chosen by the hub's own rule (protocol/versions.py),
in the log's order, leaving out kits an operator declared compromised; a version whose
numbers break a hard limit of its form is held out of the totals unless an operator released
it (protocol/limits.py, judged here from the signed numbers and the template, not taken from
the hub); the rest is summed into every region level above the TPS; then each total, and
the list of held TPS, is compared with what the hub publishes and every difference is named,
but only while the hub's log is at the size recounted (:func:`while_at`): a hub still
ingesting publishes totals of results the recount has not read.
The operator's decisions are the one thing taken from the hub (they are its word, not the
log's): read from its published list (hub/api/decisions.py), applied, and each one named.

Run again, it resumes from the state it kept (a SQLite file, :class:`State`): it asks for
the new checkpoint, checks a consistency proof from the kept checkpoint (computed from
tiles, so a hub that rewrote its log is caught before anything new is read) and reads only
the new entries.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson

from protocol import checkpoint, limits, merkle, note, subtrees, tiles, witnessing
from protocol.errors import ProtocolError, VerificationError
from protocol.result import VerifiedResult
from protocol.versions import supersedes
from protocol.witnessing import Quorum

STATE_FORMAT = "tps-recount-state/2"
WHOLE = ""  # the whole election, as the hub's recapitulation names it
# Region levels above the TPS, top down, as the hub's recapitulation names them.
LEVELS = ("nasional", "provinsi", "kabkota", "kecamatan", "desa")

# What judging one entry gives: the facts the recount counts (election, form, TPS, kit,
# seq, document hash, fields), or why the entry is not a valid result. Plain values:
# judging may run in other processes (:func:`judge_batches`).
Facts = tuple[str, str, str, str, int, str, dict[str, int]]
Outcome = Facts | str
Judge = Callable[[bytes], VerifiedResult]  # raises a ProtocolError when the entry fails
JudgeMany = Callable[[Iterator[list[bytes]]], Iterator[list[Outcome]]]
T = TypeVar("T")


def outcome(judge: Judge, entry: bytes) -> Outcome:
    try:
        verified = judge(entry)
    except ProtocolError as e:
        return f"{type(e).__name__}: {e}"
    doc = verified.document
    fields = {k: int(v) for k, v in doc.fields.items()}
    return (doc.election, doc.form, doc.tps, doc.kit, doc.seq, verified.document_sha256, fields)


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
    sha256: str = ""


Key = tuple[str, str, str]  # (election, form, tps)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB);
CREATE TABLE IF NOT EXISTS frontier (level INTEGER, idx INTEGER, hash BLOB NOT NULL,
    PRIMARY KEY (level, idx));
CREATE TABLE IF NOT EXISTS versions (leaf INTEGER PRIMARY KEY, election TEXT NOT NULL,
    form TEXT NOT NULL, tps TEXT NOT NULL, kit TEXT NOT NULL, seq INTEGER NOT NULL,
    sha256 TEXT NOT NULL, fields BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS refused (leaf INTEGER PRIMARY KEY, reason TEXT NOT NULL);
"""


class State:
    """What a recount keeps between runs (one log), in a SQLite file: the checkpoint it
    read up to, the log's right edge (the frontier of complete subtrees, enough to extend
    the root with new leaves), every valid version it read and every entry it refused.

    A run adds only what is new, in one transaction committed with the new checkpoint, so
    a recount killed mid-way keeps the previous run's state; nothing is rewritten whole.
    The counting versions are chosen from the kept versions each time they are asked for,
    since an operator's later decision (a kit declared compromised) can change them."""

    def __init__(self, log_id: str, path: Path | str = ":memory:") -> None:
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None)
            self.db.executescript(_SCHEMA)
            kept = dict(self.db.execute("SELECT name, value FROM meta"))
        except sqlite3.DatabaseError as e:
            raise RecountError(
                f"the recount's kept state {path} is unreadable ({e}): start afresh "
                "(another --state file)"
            ) from e
        if not kept:
            self.db.executemany(
                "INSERT INTO meta VALUES (?, ?)", [("format", STATE_FORMAT), ("log_id", log_id)]
            )
            kept = {"format": STATE_FORMAT, "log_id": log_id}
        if kept.get("format") != STATE_FORMAT:
            raise RecountError(
                f"{path} is not a {STATE_FORMAT} state (it says {kept.get('format')!r}): "
                "start afresh (another --state file)"
            )
        self.log_id = str(kept["log_id"])
        if self.log_id != log_id:
            raise RecountError(f"{path} is the state of log {self.log_id}, not {log_id}")
        cp = kept.get("checkpoint")
        self.signed_checkpoint: bytes | None = None if cp is None else bytes(cp)
        self.size = int(kept.get("size", 0))
        # Largest subtree first, as subtrees.completed_nodes keeps it: one per level.
        self.frontier: list[tuple[subtrees.NodeId, bytes]] = [
            ((int(level), int(idx)), bytes(h))
            for level, idx, h in self.db.execute(
                "SELECT level, idx, hash FROM frontier ORDER BY level DESC, idx"
            )
        ]

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def refused(self) -> dict[int, str]:
        """Leaf index -> why the entry is not a valid result."""
        return {int(a): str(b) for a, b in self.db.execute("SELECT leaf, reason FROM refused")}

    def versions_of_kit(self, kit: str) -> int:
        (n,) = self.db.execute("SELECT count(*) FROM versions WHERE kit = ?", (kit,)).fetchone()
        return int(n)

    def sha256_at(self, leaf: int) -> str | None:
        row = self.db.execute("SELECT sha256 FROM versions WHERE leaf = ?", (leaf,)).fetchone()
        return None if row is None else str(row[0])

    def counting(self, excluded: frozenset[str] = frozenset()) -> dict[Key, Counted]:
        """(election, form, tps) -> the version that counts: the hub's rule
        (protocol/versions.py) applied in the log's order, leaving out the versions of
        ``excluded`` kits (declared compromised), as the hub falls back from them."""
        found: dict[Key, Counted] = {}
        rows = self.db.execute(
            "SELECT leaf, election, form, tps, kit, seq, sha256, fields FROM versions ORDER BY leaf"
        )
        for leaf, election, form, tps, kit, seq, sha, fields in rows:
            if kit in excluded:
                continue
            key = (election, form, tps)
            current = found.get(key)
            candidate = Counted(kit, seq, leaf, orjson.loads(fields), sha)
            if current is None or supersedes(candidate, current):
                found[key] = candidate
        return found

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _add(self, leaf: int, facts: Facts) -> tuple[Any, ...]:
        election, form, tps, kit, seq, sha, fields = facts
        return (leaf, election, form, tps, kit, seq, sha, orjson.dumps(fields))


@dataclass(frozen=True)
class Progress:
    old_size: int
    new_size: int
    checkpoint: checkpoint.Checkpoint
    refused: list[tuple[int, str]]  # entries of this run that do not count, and why
    cosigned_by: tuple[str, ...] = ()  # the named witnesses whose cosignatures held


def update(
    state: State,
    reader: tiles.TileReader,
    hub_key: note.Verifier,
    judge: JudgeMany,
    quorum: Quorum | None = None,
) -> Progress:
    """Bring ``state`` up to the hub's latest checkpoint, or with a ``quorum`` to the newest
    one witnesses cosigned (the latest seldom is yet while the hub ingests). Raises
    :class:`RecountError` (and leaves ``state`` as it was) if the checkpoint, its
    cosignatures, the consistency from the kept one, or the entries fail; entries that are
    not valid results are refused and named.

    ``judge`` judges batches of entries in order (:func:`in_order`, or spread over
    processes); the leaves are folded and the version rule applied here, in log order."""
    signed = reader.checkpoint(witnessed=quorum is not None)
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
    if quorum is not None and new.tree_size < old_size:
        raise RecountError(
            f"the newest checkpoint cosigned as required is of size {new.tree_size}, below the "
            f"{old_size} entries this state has read already (without that requirement): "
            "recount into another --state file"
        )
    if state.signed_checkpoint is not None:
        _check_extends(state, reader, hub_key, new)
    frontier = list(state.frontier)
    refused: list[tuple[int, str]] = []
    read: deque[list[bytes]] = deque()

    def batches() -> Iterator[list[bytes]]:
        for start in range(old_size, new.tree_size, tiles.WIDTH):
            batch = _entries(reader, start, min(start + tiles.WIDTH, new.tree_size), new.tree_size)
            read.append(batch)  # judged elsewhere, maybe ahead: kept for the leaves
            yield batch

    index = old_size
    db = state.db
    with state._transaction():
        for outcomes in judge(batches()):
            versions = []
            for entry, judged in zip(read.popleft(), outcomes, strict=True):
                subtrees.completed_nodes(index, merkle.leaf_hash(entry), frontier)
                if isinstance(judged, str):
                    refused.append((index, judged))
                else:
                    versions.append(state._add(index, judged))
                index += 1
            db.executemany("INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", versions)
        if index != new.tree_size:
            raise RecountError(f"read {index - old_size} entries, not {new.tree_size - old_size}")
        root = subtrees.fold([node for node, _ in frontier], dict(frontier))
        if root != new.root_hash:
            raise RecountError(
                f"the entries read do not hash to the checkpoint's root at size "
                f"{new.tree_size}: the hub served entries that are not its log"
            )
        db.executemany("INSERT INTO refused VALUES (?, ?)", refused)
        db.execute("DELETE FROM frontier")
        db.executemany(
            "INSERT INTO frontier VALUES (?, ?, ?)", [(a, b, h) for (a, b), h in frontier]
        )
        db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [
                ("checkpoint", signed),
                ("size", new.tree_size),
            ],
        )
    state.signed_checkpoint, state.size, state.frontier = signed, new.tree_size, frontier
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


# -- the totals and the comparison ------------------------------------------------------------


@dataclass(frozen=True)
class MovedOn:
    """The hub's log was at another size than the one recounted while its recapitulation
    was to be read, so its totals count other results: nothing was compared."""

    recounted: int
    hub_size: int


def while_at(size: int, hub_size: Callable[[], int], read: Callable[[], T]) -> T | MovedOn:
    """``read()`` (reading the hub's published totals and comparing them) if the hub's log
    is at ``size`` just before and just after it, else :class:`MovedOn`. The hub changes its
    totals in the transaction that appends to its log and signs the checkpoint, and a log
    only grows: the same size at both ends means every total read in between is of exactly
    the log recounted. Comparing otherwise would name every result logged meanwhile as a
    difference."""
    before = hub_size()
    if before != size:
        return MovedOn(size, before)
    value = read()
    after = hub_size()
    if after != size:
        return MovedOn(size, after)
    return value


@dataclass
class RegionSums:
    tps_reported: int = 0
    totals: dict[str, int] = field(default_factory=dict)


def totals(
    counting: Mapping[Key, Counted], held: Mapping[tuple[str, str], set[str]]
) -> dict[tuple[str, str], dict[str, RegionSums]]:
    """(election, form) -> region -> sums (TPS codes too, as regions of one TPS), leaving out
    the TPS in ``held`` (by contest), as the hub's published totals leave them out."""
    result: dict[tuple[str, str], dict[str, RegionSums]] = {}
    for (election, form, tps), counted in counting.items():
        if tps in held.get((election, form), ()):
            continue
        result.setdefault((election, form), {})[tps] = RegionSums(1, dict(counted.fields))
    for regions in result.values():
        # Level by level from the TPS up (desa, kecamatan, ..., nasional), each region summed
        # from its children: a TPS's numbers are added once, not once per level above it.
        level = list(regions)
        for _ in LEVELS:
            parents: dict[str, RegionSums] = {}
            for code in level:
                child = regions[code]
                parent = code.rpartition(".")[0]  # a provinsi's parent is WHOLE, ""
                sums = parents.get(parent)
                if sums is None:
                    parents[parent] = sums = RegionSums()
                sums.tps_reported += child.tps_reported
                totals_of = sums.totals
                for name, value in child.totals.items():
                    totals_of[name] = totals_of.get(name, 0) + value
            regions.update(parents)
            level = list(parents)
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

    def decisions(self) -> list[dict[str, Any]]:
        """The operator's decisions the hub publishes (hub/api/decisions.py)."""
        value: list[dict[str, Any]] = self._get("decisions", {})["decisions"]
        return value


@dataclass
class Decisions:
    """The hub's published operator decisions (``GET decisions``) as they apply to one log:
    kits declared compromised (none of their results count), and the latest word on each
    held result, by leaf (True: released into the totals; False: kept out)."""

    compromised: frozenset[str] = frozenset()
    released: dict[int, bool] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)  # each decision applied, named
    problems: list[str] = field(default_factory=list)  # decisions the log contradicts


def apply_decisions(values: Sequence[Mapping[str, Any]], state: State) -> Decisions:
    """Read the hub's decisions (oldest first, a later one about the same result winning)
    for ``state``'s log; each one applied is named, and one naming a document that is not
    the log's entry at the leaf it gives is a difference, not applied."""
    try:
        return _apply_decisions(values, state)
    except (KeyError, TypeError, ValueError) as e:
        raise RecountError(f"the hub's published decisions are malformed ({e!r})") from e


def _apply_decisions(values: Sequence[Mapping[str, Any]], state: State) -> Decisions:
    kits: set[str] = set()
    found = Decisions()
    for value in sorted(values, key=lambda v: int(v["id"])):
        kind, who = str(value["kind"]), f"{value['decided_by']} at {value['decided_at']}"
        why = str(value["reason"])
        if kind == "kit-compromised":
            kit = str(value["kit"])
            kits.add(kit)
            n = state.versions_of_kit(kit)
            found.applied.append(
                f"decision {value['id']}: kit {kit} declared compromised by {who} ({why}): "
                f"none of its {n} results in this log count"
            )
            continue
        document = value.get("document")
        if kind not in ("result-released", "result-kept-out") or not document:
            found.problems.append(
                f"decision {value['id']}: {kind!r} is not a decision the recount knows: not applied"
            )
            continue
        if document["log"] != state.log_id:
            continue  # about another log (training results are logged apart)
        leaf = int(document["leaf_index"])
        named = (
            f"{document['tps']} {document['form']} seq {document['seq']} of kit "
            f"{document['kit']} (leaf {leaf})"
        )
        logged = state.sha256_at(leaf)
        if logged != document["sha256"]:
            found.problems.append(
                f"decision {value['id']} ({kind}) names document {document['sha256'][:12]} "
                f"at leaf {leaf}, but the log's entry there is "
                f"{'not a valid result' if logged is None else logged[:12]}: not applied"
            )
            continue
        found.released[leaf] = kind == "result-released"
        words = "released into the totals" if kind == "result-released" else "kept out"
        found.applied.append(f"decision {value['id']}: {named} {words} by {who} ({why})")
    found.compromised = frozenset(kits)
    return found


def held(
    counting: Mapping[Key, Counted], released: Mapping[int, bool]
) -> dict[tuple[str, str], set[str]]:
    """The TPS whose counting version is held out of the totals ("perlu verifikasi"), by
    contest: its numbers break a hard limit (protocol/limits.py, judged here from the signed
    document and the form template) and no operator released it."""
    found: dict[tuple[str, str], set[str]] = {}
    for (election, form, tps), counted in counting.items():
        if limits.hard_limits_broken(form, counted.fields) and not released.get(
            counted.document_id, False
        ):
            found.setdefault((election, form), set()).add(tps)
    return found


def compare(
    counting: Mapping[Key, Counted],
    held_tps: Mapping[tuple[str, str], set[str]],
    published: Published,
) -> list[str]:
    """Every difference between the recount and the hub's published recapitulation, named
    (empty: they agree at every level, down to each TPS, and on which TPS are held); the
    TPS of ``held_tps`` are left out of the recount's totals, as the hub leaves out those it
    holds."""
    differences: list[str] = []
    hub_contests = set(published.contests())
    ours = {(e, f) for e, f, _ in counting}
    for election, form in sorted(ours - hub_contests):
        differences.append(f"{election} {form}: the log holds results, the hub publishes none")
    for election, form in sorted(hub_contests - ours):
        differences.append(f"{election} {form}: the hub publishes totals, the log holds none")
    for contest in sorted(ours & hub_contests):
        hub_held = set(published.view(*contest, WHOLE)["held_tps"])
        mine = held_tps.get(contest, set())
        label = f"{contest[0]} {contest[1]}"
        for tps in sorted(hub_held - mine):
            differences.append(f"{label} tps {tps}: held by the hub, not by the recount")
        for tps in sorted(mine - hub_held):
            differences.append(f"{label} tps {tps}: held by the recount, not by the hub")
    sums = totals(counting, held_tps)
    for contest in sorted(ours & hub_contests):
        differences.extend(_compare_contest(contest, sums.get(contest, {}), published))
    return differences


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
    # Every TPS held (early on election night): the hub lists the contest with nothing in.
    top = published.view(*contest, WHOLE)["region"]
    hub_top = _region(top) if top["tps_reported"] or top["totals"] else None
    yield from _differ(label, WHOLE, ours.get(WHOLE), hub_top)
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
