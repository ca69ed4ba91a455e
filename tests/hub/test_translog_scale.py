"""The log at 100,000 leaves: a proof reads O(log n) stored hashes, whatever n.

The assertion is on hashes read (deterministic); the times are printed for the record, not
asserted: run with ``-s`` to see them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pytest

from hub.translog import LogStorage, MemoryStorage, TransparencyLog
from protocol import merkle
from protocol.subtrees import NodeId
from tests.hub.translog_support import sqlite_log

N = 100_000
CHECKPOINTS = (1_000, 10_000, 100_000)
PROOFS = 300


class CountingStorage:
    """Passes everything through and counts the node hashes the log asks for."""

    def __init__(self, inner: LogStorage) -> None:
        self.inner = inner
        self.reads = 0
        self.queries = 0

    def size(self) -> int:
        return self.inner.size()

    def append(self, first: int, entries: Sequence[bytes], nodes: Mapping[NodeId, bytes]) -> None:
        self.inner.append(first, entries, nodes)

    def entries(self, start: int, end: int) -> list[bytes]:
        return self.inner.entries(start, end)

    def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        wanted = list(ids)
        self.reads += len(wanted)
        self.queries += 1
        return self.inner.nodes(wanted)

    def put_tree_head(self, tree_size: int, signed: bytes) -> None:
        self.inner.put_tree_head(tree_size, signed)

    def tree_head(self, tree_size: int | None = None) -> bytes | None:
        return self.inner.tree_head(tree_size)

    def put_checkpoint(self, tree_size: int, signed: bytes, *, cosigned: bool = False) -> None:
        self.inner.put_checkpoint(tree_size, signed, cosigned=cosigned)

    def checkpoint(self, tree_size: int | None = None) -> bytes | None:
        return self.inner.checkpoint(tree_size)

    def cosigned_checkpoint(self) -> bytes | None:
        return self.inner.cosigned_checkpoint()


def _entry(i: int) -> bytes:
    return b'{"payload":"%d","payloadType":"application/vnd.tps-result+json"}' % i


def _measure(log: TransparencyLog, counter: CountingStorage, size: int) -> dict[str, float]:
    """Mean time to produce a proof (verification, pure CPU, checked but not timed)."""
    rng = random.Random(size)
    root = log.root(size)
    worst_reads, inclusion_s, consistency_s = 0, 0.0, 0.0
    for _ in range(PROOFS):
        index, old = rng.randrange(size), rng.randrange(1, size)
        old_root = log.root(old)
        before, started = counter.reads, time.perf_counter()
        proof = log.inclusion_proof(index, size)
        inclusion_s += time.perf_counter() - started
        worst_reads = max(worst_reads, counter.reads - before)
        merkle.verify_inclusion(merkle.leaf_hash(_entry(index)), index, size, proof, root)
        before, started = counter.reads, time.perf_counter()
        proof = log.consistency_proof(old, size)
        consistency_s += time.perf_counter() - started
        worst_reads = max(worst_reads, counter.reads - before)
        merkle.verify_consistency(old, size, old_root, root, proof)
    return {
        "inclusion_us": inclusion_s / PROOFS * 1e6,
        "consistency_us": consistency_s / PROOFS * 1e6,
        "reads": worst_reads,
    }


def _grow(log: TransparencyLog, counter: CountingStorage, batch: int) -> dict[int, dict]:
    figures: dict[int, dict] = {}
    started = time.perf_counter()
    append_seconds = 0.0
    for start in range(0, N, batch):
        t = time.perf_counter()
        if batch == 1:
            log.append(_entry(start))
        else:
            log.append_many(_entry(i) for i in range(start, start + batch))
        append_seconds += time.perf_counter() - t
        if start + batch in CHECKPOINTS:
            figures[start + batch] = _measure(log, counter, start + batch)
    figures[0] = {"append_per_s": N / append_seconds, "total_s": time.perf_counter() - started}
    return figures


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "batch"), [("memory", 1), ("sqlite", 500)])
def test_proof_cost_stays_logarithmic(backend, batch, tmp_path: Path):
    inner = MemoryStorage() if backend == "memory" else sqlite_log(tmp_path / "log.db")
    counter = CountingStorage(inner)
    log = TransparencyLog(counter)
    figures = _grow(log, counter, batch)
    print(f"\n{backend}: {figures[0]['append_per_s']:,.0f} appends/s (batch {batch})")
    for size in CHECKPOINTS:
        f = figures[size]
        print(
            f"  n={size:>7,}: inclusion {f['inclusion_us']:7.1f} us, "
            f"consistency {f['consistency_us']:7.1f} us, "
            f"max {f['reads']} hashes read per proof"
        )
        # Two hashes per level at most: the proof's nodes plus one ragged right border.
        assert f["reads"] <= 2 * size.bit_length() + 2
    assert log.root() == merkle.root_of_entries(_entry(i) for i in range(N))
    if backend == "sqlite":
        inner.close()
