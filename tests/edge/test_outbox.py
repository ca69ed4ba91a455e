"""The kit's outbox: chain, states, images after numbers, export, corruption, a second process."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.outbox import (
    AckOutcome,
    ChainError,
    ChainHead,
    CorruptOutboxError,
    InvalidDocumentError,
    Outbox,
    OutboxBusyError,
    OutboxError,
    SchemaVersionError,
    State,
    UnknownDocumentError,
    schema,
)
from protocol import result, verify_cli
from protocol.canonical import sha256_hex
from protocol.document import FORMAT, GENESIS
from tests.conftest import seal_next

CHILD = Path(__file__).with_name("outbox_child.py")
TPS = "31.71.01.1001.001"


class Clock:
    def __init__(self) -> None:
        self.now = 1_707_900_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def kit(region):
    return region.kit(TPS)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(tmp_path, clock):
    with Outbox.open(tmp_path / "outbox.sqlite3", clock=clock) as opened:
        yield opened


def page_images(seq: int, pages: int = 2) -> dict[int, bytes]:
    return {p: f"jpeg of page {p} of seq {seq}".encode() * 50 for p in range(1, pages + 1)}


def add_next(outbox: Outbox, kit, images: dict[int, bytes] | None = None, **changes):
    """Seal the next result of the chain, as the firmware does."""
    images = page_images(outbox.next_chain().seq) if images is None else images
    return seal_next(outbox, kit, images, **changes)


# -- the file -------------------------------------------------------------------------------


def test_new_outbox_is_wal_full_sync_and_versioned(outbox):
    conn = outbox._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.CURRENT_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
    assert outbox.next_chain() == ChainHead(1, GENESIS)


def test_reopening_keeps_everything(tmp_path, kit):
    path = tmp_path / "o.sqlite3"
    with Outbox.open(path) as first:
        entry = add_next(first, kit)
    with Outbox.open(path) as again:
        assert again.documents() == [entry]
        assert again.next_chain().prev_sha256 == entry.sha256


# -- the chain ------------------------------------------------------------------------------


def test_chain_advances_with_each_document(outbox, kit):
    first = add_next(outbox, kit)
    second = add_next(outbox, kit)
    assert (first.seq, first.prev_sha256) == (1, GENESIS)
    assert (second.seq, second.prev_sha256) == (2, first.sha256)
    assert outbox.next_chain().seq == 3
    assert outbox.next_chain().prev_sha256 == second.sha256


def test_a_sealed_result_is_what_the_chain_says_and_verifies(outbox, kit, region):
    first = add_next(outbox, kit)
    second = add_next(outbox, kit, images={2: b"only page 2"})
    envelope, certificate = result.parse_bundle(second.signed)
    payload = result.check_signature(envelope, certificate)
    document = result.parse_payload(payload)
    assert (document.seq, document.prev_sha256, sha256_hex(payload)) == (
        2,
        first.sha256,
        second.sha256,
    )
    assert document.format == FORMAT and document.captured_at == "2024-02-14T19:03:00Z"
    assert [(p.page, p.sha256) for p in document.pages] == [
        (2, hashlib.sha256(b"only page 2").hexdigest())
    ]
    assert second.pages == ((2, document.pages[0].sha256),)
    assert outbox.image(document.pages[0].sha256) == b"only page 2"


def test_another_kits_result_is_refused(outbox, kit, region):
    add_next(outbox, kit)
    other = region.kit("31.71.01.1001.002")
    with pytest.raises(ChainError, match="its own outbox"):
        add_next(outbox, other)
    assert outbox.next_chain().seq == 2


def test_a_result_that_is_not_a_document_is_refused_and_nothing_moves(outbox, kit):
    with pytest.raises(InvalidDocumentError, match="refusing to seal"):
        add_next(outbox, kit, fields={"IV.1": -1})
    with pytest.raises(InvalidDocumentError):
        add_next(outbox, kit, images={})  # a result names at least one page
    assert outbox.documents() == [] and outbox.next_chain() == ChainHead(1, GENESIS)


# -- delivery -------------------------------------------------------------------------------


def test_pending_is_in_seq_order_until_the_hub_answers(outbox, kit):
    entries = [add_next(outbox, kit) for _ in range(4)]
    assert [e.seq for e in outbox.pending()] == [1, 2, 3, 4]
    assert [e.seq for e in outbox.pending(limit=2)] == [1, 2]
    outbox.mark_sent(2)
    assert [(e.seq, e.state) for e in outbox.pending()][:2] == [
        (1, State.QUEUED),
        (2, State.SENT),
    ]  # a PUBACK is not delivery: still pending
    assert outbox.acknowledge(entries[1].sha256, accepted=True) == AckOutcome.APPLIED
    assert outbox.acknowledge(entries[2].sha256, False, "TPS tidak cocok") == AckOutcome.APPLIED
    assert [e.seq for e in outbox.pending()] == [1, 4]
    assert outbox.get(3).reason == "TPS tidak cocok"
    assert outbox.get(3).state == State.REJECTED


def test_states_only_move_forward(outbox, kit):
    entry = add_next(outbox, kit)
    outbox.acknowledge(entry.sha256, accepted=True)  # the ack can beat the PUBACK
    outbox.mark_sent(entry.seq)
    assert outbox.get(entry.seq).state == State.ACKNOWLEDGED
    assert outbox.acknowledge(entry.sha256, accepted=True) == AckOutcome.DUPLICATE
    assert outbox.acknowledge(entry.sha256, accepted=False) == AckOutcome.CONFLICT
    assert outbox.get(entry.seq).state == State.ACKNOWLEDGED


def test_unknown_acks_are_ignored_and_reported(outbox, kit, caplog):
    add_next(outbox, kit)
    with caplog.at_level(logging.WARNING, logger="edge.outbox.store"):
        assert outbox.acknowledge("ab" * 32, accepted=True) == AckOutcome.UNKNOWN
    assert "unknown document" in caplog.text
    assert outbox.get(1).state == State.QUEUED


def test_attempts_and_errors_are_recorded(outbox, kit, clock):
    add_next(outbox, kit)
    outbox.mark_failed(1, "PUBACK reason 135 (Not authorized)")
    failed = outbox.get(1)
    assert (failed.attempts, failed.last_error) == (1, "PUBACK reason 135 (Not authorized)")
    clock.now += 5
    outbox.mark_sent(1)
    entry = outbox.get(1)
    assert (entry.attempts, entry.last_error, entry.sent_at) == (2, None, clock.now)
    with pytest.raises(UnknownDocumentError, match="seq 9"):
        outbox.mark_sent(9)


def test_images_travel_only_after_the_hub_accepted_their_numbers(outbox, kit):
    first = add_next(outbox, kit)
    second = add_next(outbox, kit)
    assert outbox.pending_images() == []  # numbers first
    outbox.mark_sent(second.seq)
    assert outbox.pending_images() == []  # a PUBACK is not the hub storing the document
    outbox.acknowledge(second.sha256, accepted=True, reason=None)
    owed = outbox.pending_images(limit=10)
    assert [(i.seq, i.page) for i in owed] == [(2, 1), (2, 2)]
    assert all(hashlib.sha256(i.data).hexdigest() == i.sha256 for i in owed)
    outbox.mark_image_sent(owed[0].sha256)
    assert [(i.seq, i.page) for i in outbox.pending_images(limit=10)] == [(2, 2)]
    outbox.mark_sent(first.seq)
    outbox.acknowledge(first.sha256, accepted=False, reason="ditolak")
    assert [i.seq for i in outbox.pending_images(limit=10)] == [2]  # not for refused numbers
    with pytest.raises(UnknownDocumentError):
        outbox.mark_image_sent("cd" * 32)


def test_an_image_shared_by_two_versions_is_stored_and_sent_once(outbox, kit):
    photo = {1: b"the same photo" * 100}
    first = add_next(outbox, kit, images=photo)
    later = dt.datetime(2024, 2, 14, 19, 30, tzinfo=dt.UTC)
    second = add_next(outbox, kit, images=photo, captured_at=later)
    for entry in (first, second):
        outbox.mark_sent(entry.seq)
        outbox.acknowledge(entry.sha256, accepted=True)
    owed = outbox.pending_images(limit=10)
    assert [(i.seq, i.data) for i in owed] == [(1, photo[1])]


def test_stats_for_the_heartbeat(outbox, kit, clock):
    assert outbox.stats().oldest_pending_age_s is None
    first = add_next(outbox, kit)
    clock.now += 60
    add_next(outbox, kit)
    clock.now += 30
    outbox.acknowledge(first.sha256, accepted=True)
    stats = outbox.stats()
    assert stats.last_seq == 2
    assert (stats.pending_documents, stats.unsent_documents) == (1, 1)
    assert stats.oldest_pending_age_s == 30
    assert stats.pending_images == 4  # the first's images still owed after its ack
    assert stats.pending_bytes > len(outbox.get(2).signed)
    assert stats.by_state == {"acknowledged": 1, "queued": 1}
    assert json.dumps(stats.to_json_value())


def test_prune_removes_only_old_accepted_delivered_documents(outbox, kit, clock):
    entries = [add_next(outbox, kit) for _ in range(4)]
    for entry in entries:
        outbox.mark_sent(entry.seq)
    outbox.acknowledge(entries[0].sha256, accepted=True)
    outbox.acknowledge(entries[1].sha256, accepted=True)  # images not sent yet
    outbox.acknowledge(entries[2].sha256, accepted=False, reason="ditolak")
    for _, sha in entries[0].pages:
        outbox.mark_image_sent(sha)
    assert outbox.prune(keep_days=1) == 0  # too recent
    clock.now += 2 * 86_400
    assert outbox.prune(keep_days=1) == 1
    assert [e.seq for e in outbox.documents()] == [2, 3, 4]
    with pytest.raises(UnknownDocumentError):
        outbox.image(entries[0].pages[0][1])
    assert outbox.next_chain().prev_sha256 == entries[3].sha256  # the chain head stays
    assert add_next(outbox, kit).seq == 5
    with pytest.raises(ValueError):
        outbox.prune(keep_days=-1)


# -- export ---------------------------------------------------------------------------------


def test_export_writes_verifiable_files_and_a_manifest(outbox, kit, region, tmp_path):
    entries = [add_next(outbox, kit) for _ in range(3)]
    outbox.acknowledge(entries[0].sha256, accepted=True)
    entries = outbox.documents()
    stick = tmp_path / "usb"
    manifest_path = outbox.export(stick)
    manifest = json.loads(manifest_path.read_text())
    assert manifest["kit"] == kit.kit_id
    files = [d["file"] for d in manifest["documents"]]
    assert files == [f"{e.seq:06d}-{e.sha256[:12]}.json" for e in entries]
    ca_cert = region.ca_dir / "ca.cert.pem"
    for listed, entry in zip(manifest["documents"], entries, strict=True):
        data = (stick / listed["file"]).read_bytes()
        assert data == entry.signed
        assert hashlib.sha256(data).hexdigest() == listed["file_sha256"]
        assert (listed["sha256"], listed["state"]) == (entry.sha256, entry.state.value)
        run = CliRunner().invoke(
            verify_cli.main, [str(stick / listed["file"]), "--ca", str(ca_cert), "--json"]
        )
        assert run.exit_code == 0, run.output
        assert json.loads(run.output)["sha256"] == entry.sha256
    for image in manifest["images"]:
        data = (stick / image["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == image["sha256"] == image["file"][:-4]
    assert len(manifest["images"]) == 6
    assert not [p for p in stick.iterdir() if p.name.startswith(".")]  # no temp files left
    assert outbox.export(stick) == manifest_path  # again, onto the same stick


# -- damage and other processes --------------------------------------------------------------


def test_a_garbage_file_is_reported_as_corrupt(tmp_path):
    path = tmp_path / "o.sqlite3"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(CorruptOutboxError, match="technician"):
        Outbox.open(path)
    assert path.read_bytes().startswith(b"this is not")  # left alone for the technician


def test_a_damaged_outbox_is_reported_as_corrupt(tmp_path, kit):
    path = tmp_path / "o.sqlite3"
    with Outbox.open(path) as outbox:
        for _ in range(5):
            add_next(outbox, kit)
        outbox._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page * 2, len(data), page):  # scribble over every page's header
        data[offset : offset + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptOutboxError):
        Outbox.open(path)


def test_a_truncated_outbox_is_reported_as_corrupt(tmp_path, kit):
    path = tmp_path / "o.sqlite3"
    with Outbox.open(path) as outbox:
        for _ in range(5):
            add_next(outbox, kit)
        outbox._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)
    with pytest.raises(CorruptOutboxError):
        Outbox.open(path)


def test_another_sqlite_database_is_not_taken_for_an_outbox(tmp_path):
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(CorruptOutboxError, match="not a TPS outbox"):
        Outbox.open(path)


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "o.sqlite3"
    Outbox.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.CURRENT_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaVersionError, match="never downgrade"):
        Outbox.open(path)


def test_every_error_is_an_outbox_error():
    for error in (
        ChainError,
        CorruptOutboxError,
        InvalidDocumentError,
        OutboxBusyError,
        SchemaVersionError,
        UnknownDocumentError,
    ):
        assert issubclass(error, OutboxError)


def hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, str(CHILD), "hold", str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_process_holding_the_lock_makes_us_wait_not_fail(tmp_path, kit):
    path = tmp_path / "o.sqlite3"
    Outbox.open(path).close()
    holder = hold_lock(path, 0.5)
    with Outbox.open(path, busy_timeout=10) as outbox:
        entry = add_next(outbox, kit)
    assert holder.wait(timeout=10) == 0
    with Outbox.open(path) as outbox:
        assert outbox.documents() == [entry]


def test_a_lock_held_past_the_timeout_is_reported_and_nothing_is_half_written(tmp_path, kit):
    path = tmp_path / "o.sqlite3"
    with Outbox.open(path, busy_timeout=0.2) as outbox:
        holder = hold_lock(path, 0.8)
        with pytest.raises(OutboxBusyError, match="locked by another process"):
            add_next(outbox, kit)
        assert holder.wait(timeout=10) == 0
        assert outbox.next_chain().seq == 1
        assert add_next(outbox, kit).seq == 1  # and the retry goes through


def test_opening_while_the_kit_seals_is_not_mistaken_for_a_broken_chain(tmp_path, kit, monkeypatch):
    # A technician's `tps-kit outbox list` opens the outbox while the kit seals a result:
    # the head and the documents must be read as of one moment, or the check sees the head
    # from before the seal and the documents from after and calls the outbox corrupt.
    path = tmp_path / "o.sqlite3"
    with Outbox.open(path) as kit_side:
        add_next(kit_side, kit)
        read_head = Outbox._chain_row
        sealed: list[int] = []

        def seal_between(conn):  # type: ignore[no-untyped-def]
            head = read_head(conn)
            if conn is not kit_side._conn and not sealed:
                sealed.append(add_next(kit_side, kit))  # seq 2, right after the head was read
            return head

        monkeypatch.setattr(Outbox, "_chain_row", staticmethod(seal_between))
        opened = Outbox.open(path, check=False)
        monkeypatch.undo()
        opened.close()
        assert sealed and [e.seq for e in kit_side.documents()] == [1, 2]


def test_two_processes_adding_at_once_keep_one_chain(tmp_path, kit):
    path = tmp_path / "o.sqlite3"
    Outbox.open(path).close()
    writers = [
        subprocess.Popen(
            [sys.executable, str(CHILD), "writer", str(path), str(kit.directory), "15"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=60)[0] for w in writers]
    assert [w.returncode for w in writers] == [0, 0]
    committed = [line.split() for out in outputs for line in out.splitlines()]
    with Outbox.open(path) as outbox:
        entries = outbox.documents()
    assert [e.seq for e in entries] == list(range(1, 31))
    assert sorted((int(seq), sha) for _, seq, sha in committed) == [
        (e.seq, e.sha256) for e in entries
    ]
    for before, after in itertools.pairwise(entries):
        assert after.prev_sha256 == before.sha256
