"""Checkpointing SQLite's write-ahead log from a thread of its own.

Left to itself, SQLite checkpoints inside the COMMIT that takes the log past 1000 pages:
the storing thread copies the pages into the database file and syncs it while results
wait for their acks. A 500-result batch writes about 5 MB of pages, so that was nearly
every commit. Here the storing connection never checkpoints; this thread copies committed
pages in the background with PASSIVE checkpoints (which never block a writer), and when
the log has still grown past ``restart_frames`` (a writer that never pauses keeps it from
being reused), one RESTART checkpoint waits for the writer's next pause and makes the
next transaction start the log from its beginning again.

Durability is unchanged: a COMMIT still syncs the log (``synchronous=FULL``), and a
committed transaction in the log is as safe as one copied into the database file.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 0.2  # about one batch at the hub's ingest rates
DEFAULT_RESTART_FRAMES = 16_384  # 64 MB of 4 KB pages


class WalCheckpointer:
    """A daemon thread with its own connection, checkpointing one SQLite file's log."""

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout: float,
        interval_s: float = DEFAULT_INTERVAL_S,
        restart_frames: int = DEFAULT_RESTART_FRAMES,
    ) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.interval_s = interval_s
        self.restart_frames = restart_frames
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"wal-checkpoint {self.path.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after a last checkpoint (the log is left for the next open)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=FULL")  # the database file's sync, as the writer's
            while not self._stop.wait(self.interval_s):
                self.checkpoint(conn)
            self.checkpoint(conn)
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        """One PASSIVE checkpoint, and a RESTART if the log is still long after it."""
        try:
            _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if frames > self.restart_frames:
                conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        except sqlite3.Error as e:
            # The next round tries again; meanwhile the log only grows, nothing is lost.
            log.warning("checkpointing %s failed (will retry): %s", self.path, e)
