"""The write-ahead log is checkpointed by a thread of its own, not by the storing commits."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from hub.store.checkpoint import WalCheckpointer
from hub.store.db import Database

_ROW = b"x" * 3000  # about a page per row


def _writer(path: Path) -> Database:
    db = Database.open(str(path), background_checkpoint=True)
    db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
    return db


def _write(db: Database, rows: int) -> None:
    with db.transaction():
        db.executemany("INSERT INTO t (data) VALUES (?)", [(_ROW,)] * rows)


def _log_frames(path: Path) -> tuple[int, int]:
    """(frames in the log, frames of it already copied), without copying any."""
    conn = sqlite3.connect(path)
    try:
        # A PASSIVE checkpoint of nothing new reports where the log stands.
        _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        conn.close()
    return frames, copied


def test_commits_leave_the_log_to_the_checkpointing_thread(tmp_path: Path) -> None:
    db = _writer(tmp_path / "hub.sqlite3")
    try:
        assert db.one("PRAGMA wal_autocheckpoint") == (0,)
    finally:
        db.close()


def test_a_long_log_is_restarted_so_the_next_commit_reuses_it(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    db = Database.open(str(path))
    db.execute("PRAGMA wal_autocheckpoint=0")  # the storing connection, as in the hub
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
    _write(db, 400)
    frames_before, _ = _log_frames(path)
    assert frames_before > 300
    checkpointer = WalCheckpointer(path, busy_timeout=5, restart_frames=100)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        checkpointer.checkpoint(conn)
    finally:
        conn.close()
    _write(db, 5)
    frames_after, copied = _log_frames(path)
    db.close()
    assert frames_after < 50, "the next commit did not start the log from its beginning"
    assert copied == frames_after


def test_stopping_copies_every_committed_page(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    db = _writer(path)
    _write(db, 200)
    assert db._checkpointer is not None
    db._checkpointer.stop()  # what close() does first
    frames, copied = _log_frames(path)
    assert frames > 0
    assert copied == frames
    db.close()
    reopened = Database.open(str(path))
    try:
        assert reopened.one("SELECT COUNT(*) FROM t") == (200,)
    finally:
        reopened.close()


def test_what_was_committed_survives_a_storing_process_killed_before_any_checkpoint(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hub.sqlite3"
    child = f"""
import os
from pathlib import Path
from hub.store.db import Database
db = Database.open({str(path)!r}, background_checkpoint=True)
db._checkpointer.stop()  # nothing copied from here on
db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
with db.transaction():
    db.executemany("INSERT INTO t (data) VALUES (?)", [(b"x" * 3000,)] * 50)
os._exit(9)  # no close, no last checkpoint
"""
    done = subprocess.run([sys.executable, "-c", child], check=False, timeout=60)
    assert done.returncode == 9
    assert (tmp_path / "hub.sqlite3-wal").stat().st_size > 50 * 3000
    reopened = Database.open(str(path))
    try:
        assert reopened.one("SELECT COUNT(*) FROM t") == (50,)
    finally:
        reopened.close()
