"""Citizens' reports that a TPS's photo and its numbers disagree: which field, what they
read on the photo, a note. Anyone may report (as KawalPemilu's crowd does); an operator
resolves each report (`tps-hub reports`).

Stored apart from the results, in a SQLite file of their own (hub.toml ``[paths]
citizen_reports``): the recapitulation never reads it, so a report can never change a count,
and the API keeps only read-only connections to the results database. Rate-limited per
reporter; a reporter is kept only as a keyed hash of their address (the key is random,
made once per file), never the address itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hub.store.results import utc_text

MAX_NOTE = 500
MAX_VALUE = 999  # three boxes on the form
_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY,
    election TEXT NOT NULL,
    form TEXT NOT NULL,
    tps TEXT NOT NULL,
    field TEXT NOT NULL,
    read_value INTEGER NOT NULL,
    shown_value INTEGER,
    note TEXT NOT NULL,
    reporter TEXT NOT NULL,
    created_at TEXT NOT NULL,
    resolved_at TEXT,
    resolution TEXT
);
CREATE INDEX IF NOT EXISTS reports_by_tps ON reports (election, form, tps);
CREATE INDEX IF NOT EXISTS reports_by_reporter ON reports (reporter, created_at);
CREATE TABLE IF NOT EXISTS reporter_key (key BLOB NOT NULL);
"""
_COLUMNS = (
    "id, election, form, tps, field, read_value, shown_value, note, created_at, resolved_at, "
    "resolution"
)


@dataclass(frozen=True)
class CitizenReport:
    id: int
    election: str
    form: str
    tps: str
    field: str
    read_value: int  # what the reporter reads on the photo
    shown_value: int | None  # what the hub showed for that field when it was reported
    note: str
    created_at: str
    resolved_at: str | None
    resolution: str | None


class TooManyReports(Exception):
    """The reporter (or everyone together) sent more than the limit allows."""


@dataclass(frozen=True)
class Limits:
    per_reporter_per_hour: int = 5
    all_per_minute: int = 60  # a flood from many addresses still cannot bury the operator


class ReportStore:
    """One SQLite file, one connection shared by the API's threads (a lock serializes)."""

    def __init__(
        self,
        path: Path,
        *,
        limits: Limits | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.path = path
        self.limits = limits or Limits()
        self._now = now or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT key FROM reporter_key").fetchone()
        if row is None:
            key = secrets.token_bytes(32)
            self._db.execute("INSERT INTO reporter_key (key) VALUES (?)", (key,))
        else:
            key = bytes(row[0])
        self._key = key

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def reporter(self, address: str) -> str:
        return hmac.new(self._key, address.encode(), hashlib.sha256).hexdigest()

    def add(
        self,
        *,
        election: str,
        form: str,
        tps: str,
        field: str,
        read_value: int,
        shown_value: int | None,
        note: str,
        address: str,
    ) -> CitizenReport:
        """Store a report; TooManyReports over the limits (nothing stored then)."""
        now = self._now()
        who = self.reporter(address)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                hour = utc_text(now - dt.timedelta(hours=1))
                minute = utc_text(now - dt.timedelta(minutes=1))
                mine = self._count("reporter = ? AND created_at >= ?", (who, hour))
                everyone = self._count("created_at >= ?", (minute,))
                if mine >= self.limits.per_reporter_per_hour:
                    raise TooManyReports(
                        f"sudah {mine} laporan dari alamat ini dalam satu jam terakhir "
                        f"(batas {self.limits.per_reporter_per_hour}): coba lagi nanti"
                    )
                if everyone >= self.limits.all_per_minute:
                    raise TooManyReports(
                        "terlalu banyak laporan masuk saat ini: coba lagi dalam satu menit"
                    )
                cursor = self._db.execute(
                    "INSERT INTO reports (election, form, tps, field, read_value, shown_value, "
                    "note, reporter, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (election, form, tps, field, read_value, shown_value, note, who, utc_text(now)),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        found = self.get(int(cursor.lastrowid or 0))
        assert found is not None
        return found

    def get(self, report_id: int) -> CitizenReport | None:
        rows = self._select("id = ?", (report_id,))
        return rows[0] if rows else None

    def for_tps(self, election: str, form: str, tps: str) -> list[CitizenReport]:
        return self._select("election = ? AND form = ? AND tps = ?", (election, form, tps))

    def listed(self, *, open_only: bool = True, limit: int = 200) -> list[CitizenReport]:
        where = "resolved_at IS NULL" if open_only else "1 = 1"
        return self._select(f"{where} ORDER BY id LIMIT ?", (limit,), order=False)

    def resolve(self, report_id: int, resolution: str) -> bool:
        """Mark a report resolved with the operator's words; False if no open report has it."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE reports SET resolved_at = ?, resolution = ? "
                "WHERE id = ? AND resolved_at IS NULL",
                (utc_text(self._now()), resolution, report_id),
            )
        return cursor.rowcount == 1

    def _count(self, where: str, params: tuple[object, ...]) -> int:
        row = self._db.execute(f"SELECT COUNT(*) FROM reports WHERE {where}", params).fetchone()
        return int(row[0])

    def _select(
        self, where: str, params: tuple[object, ...], *, order: bool = True
    ) -> list[CitizenReport]:
        tail = " ORDER BY id" if order else ""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM reports WHERE {where}{tail}", params
            ).fetchall()
        return [CitizenReport(*row) for row in rows]
