"""Power loss at any moment: SIGKILL a kit process at random points and check the outbox.

A worker (tests/edge/outbox_child.py) seals real documents with an enrolled kit's key into
the outbox and moves some through sent and acknowledged, printing each commit after
it returns. The test kills it at a random moment, reopens the outbox and checks everything
the kit promises, then starts the next worker on the same file. SIGKILL leaves the OS page
cache intact, so this proves SQLite's transaction and recovery logic under our use of it;
that the commits also reach the medium is what synchronous=FULL asks of the storage.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from edge.outbox import Outbox, State
from edge.outbox.records import FINAL, RANK
from protocol import result
from protocol.canonical import sha256_hex
from protocol.document import GENESIS, parse_document_bytes

CHILD = Path(__file__).with_name("outbox_child.py")
TPS = "31.71.01.1001.001"
RUNS = 60


@dataclass
class Seen:
    """What the workers reported as committed, and what earlier checks found."""

    committed: dict[int, str] = field(default_factory=dict)  # seq -> document sha256
    sent: set[int] = field(default_factory=set)
    final: dict[int, str] = field(default_factory=dict)
    images_sent: set[str] = field(default_factory=set)
    states: dict[int, State] = field(default_factory=dict)  # as of the previous check
    verified: dict[int, str] = field(default_factory=dict)  # seq -> sha256 of signed bytes
    images_ok: set[str] = field(default_factory=set)

    def record(self, line: str) -> None:
        kind, *rest = line.split()
        if kind == "committed":
            self.committed[int(rest[0])] = rest[1]
        elif kind == "sent":
            self.sent.add(int(rest[0]))
        elif kind == "final":
            self.final[int(rest[0])] = rest[1]
        elif kind == "image":
            self.images_sent.add(rest[0])


class Zygote:
    """The helper process that forks one worker per run."""

    def __init__(self, db: Path, kit_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), "zygote", str(db), str(kit_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def line(self) -> str:
        assert self.proc.stdout is not None
        text = self.proc.stdout.readline()
        assert text, f"the helper died (exit {self.proc.poll()})"
        return text.rstrip("\n")

    def start(self, seed: int) -> tuple[int, list[str]]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"run {seed}\n")
        self.proc.stdin.flush()
        early: list[str] = []  # the worker may print before the zygote names it
        while not (text := self.line()).startswith("pid "):
            early.append(text)
        return int(text.split()[1]), early

    def collect(self, pid: int) -> tuple[list[str], int]:
        lines = []
        while not (text := self.line()).startswith(f"exit {pid} "):
            lines.append(text)
        return lines, int(text.split()[2])

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def kill_phase(lines: list[str]) -> str:
    """The step the worker was in: the last "phase" it announced."""
    phases = [line.split()[1] for line in lines if line.startswith("phase ")]
    if not phases:
        return "start"  # loading the key, before opening the outbox
    return phases[-1]


def check_outbox(db: Path, seen: Seen) -> int:
    """Every invariant the outbox promises after a crash; returns how many documents."""
    with Outbox.open(db) as outbox:  # opens = the integrity check passed
        entries = outbox.documents()
        seqs = [e.seq for e in entries]
        assert seqs == list(range(1, len(seqs) + 1)), "seqs have a gap or a duplicate"
        head = outbox.next_chain()
        assert head.seq == len(seqs) + 1
        assert head.prev_sha256 == (entries[-1].sha256 if entries else GENESIS)
        prev = GENESIS
        for entry in entries:
            check_document(entry.seq, entry.signed, entry.sha256, prev, seen)
            assert entry.prev_sha256 == prev
            prev = entry.sha256
            check_images(outbox, entry.pages, seen)
        check_states(entries, seen)
        pending = outbox.pending(limit=10_000)
        assert [e.seq for e in pending] == [e.seq for e in entries if e.state not in FINAL]
    return len(entries)


def check_document(seq: int, signed: bytes, sha: str, prev: str, seen: Seen) -> None:
    digest = hashlib.sha256(signed).hexdigest()
    if seen.verified.get(seq) == digest:
        return  # the same bytes as already checked
    assert seq not in seen.verified, f"stored bytes of seq {seq} changed"
    envelope, certificate = result.parse_bundle(signed)
    payload = result.check_signature(envelope, certificate)
    document = parse_document_bytes(payload)
    assert (document.seq, sha256_hex(payload), document.prev_sha256) == (seq, sha, prev)
    seen.verified[seq] = digest


def check_images(outbox: Outbox, pages: tuple[tuple[int, str], ...], seen: Seen) -> None:
    assert pages, "a document lost its page images"
    for _, sha in pages:
        if sha not in seen.images_ok:
            assert hashlib.sha256(outbox.image(sha)).hexdigest() == sha
            seen.images_ok.add(sha)


def check_states(entries: list, seen: Seen) -> None:
    by_seq = {e.seq: e for e in entries}
    for seq, sha in seen.committed.items():
        assert seq in by_seq and by_seq[seq].sha256 == sha, f"committed seq {seq} lost"
    for seq in seen.sent:
        assert RANK[by_seq[seq].state] >= RANK[State.SENT], f"seq {seq} went back to queued"
    for seq, state in seen.final.items():
        assert by_seq[seq].state == state, f"verdict on seq {seq} lost"
    for seq, before in seen.states.items():
        now = by_seq[seq].state
        assert RANK[now] >= RANK[before], f"seq {seq} went back from {before} to {now}"
        assert before not in FINAL or now == before, f"seq {seq} changed verdict"
    seen.states = {e.seq: e.state for e in entries}


def unsent_images_reported_sent(db: Path, seen: Seen) -> list[str]:
    with Outbox.open(db, check=False) as outbox:
        owed = {image.sha256 for image in outbox.pending_images(limit=100_000)}
    return sorted(owed & seen.images_sent)


@pytest.mark.slow
def test_random_sigkill_loses_nothing(region, tmp_path):
    kit = region.kit(TPS)
    db = tmp_path / "outbox.sqlite3"
    rng = random.Random(20240214)
    seen = Seen()
    phases: Counter[str] = Counter()
    zygote = Zygote(db, kit.directory)
    try:
        for run in range(RUNS):
            pid, early = zygote.start(run)
            # A fifth of the kills land while the outbox opens (migration, WAL recovery,
            # integrity check); the rest anywhere in the decide/seal/bookkeeping loop.
            delay = rng.uniform(0, 0.03) if run % 5 == 0 else rng.uniform(0.03, 0.35)
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)
            lines, status = zygote.collect(pid)
            lines = early + lines
            assert status == -signal.SIGKILL, f"worker died on its own: {lines[-3:]}"
            for line in lines:
                seen.record(line)
            phases[kill_phase(lines)] += 1
            check_outbox(db, seen)
            assert not unsent_images_reported_sent(db, seen)
    finally:
        zygote.stop()
    total = check_outbox(db, seen)
    print(f"\n{RUNS} kills, {total} documents, kill phases: {dict(sorted(phases.items()))}")
    # A kill after seal's COMMIT but before "committed" was printed leaves a document the
    # worker never reported: at most one per kill that landed in the seal phase.
    assert len(seen.committed) <= total <= len(seen.committed) + phases["seal"]
    assert phases["seal"] >= 3, "too few kills landed during a seal to prove anything"
