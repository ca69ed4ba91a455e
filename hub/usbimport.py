"""`tps-hub import DIR`: ingest a kit's USB export (edge/outbox/export.py writes it).

The export holds ``manifest.json`` (written last, so its presence means every file it lists
is complete), each signed result byte for byte as the kit would publish it, and the page
images named by their SHA-256. Each file goes through the same ingest as MQTT, one
transaction per file, so a bad file later in the export never undoes one accepted before
it, and importing the same stick twice is harmless (duplicates get their stored ack).
The manifest is only a list of files: trust comes from the signatures, as over MQTT, and
the manifest's kit id plays the part of the topic's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.errors import ExportFormatError
from hub.ingest import Ingestor, Outcome

MANIFEST = "manifest.json"
FORMAT = "tps-outbox-export/1"
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")  # no directories, no '..'


@dataclass(frozen=True)
class ExportFile:
    name: str
    kind: str  # "result" or "image"
    sha256: str | None = None  # the file's expected hash (document file, or image)


@dataclass(frozen=True)
class Export:
    directory: Path
    kit: str
    files: tuple[ExportFile, ...]


@dataclass
class ImportReport:
    counts: dict[str, int] = field(default_factory=dict)
    failed: bool = False

    def add(self, key: str, failed: bool = False) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1
        self.failed = self.failed or failed


def read_export(directory: Path) -> Export:
    """The manifest's kit and files (documents in seq order, then images)."""
    path = directory / MANIFEST
    try:
        value: Any = json.loads(path.read_bytes())
    except FileNotFoundError as e:
        raise ExportFormatError(
            f"{directory} has no {MANIFEST}: not a kit export, or the export did not finish "
            "(export again on the kit: `tps-kit outbox export DIR`)"
        ) from e
    except OSError as e:
        raise ExportFormatError(f"cannot read {path}: {e.strerror}") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExportFormatError(f"{path} is not JSON: {e}") from e
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise ExportFormatError(f"{path} is not a {FORMAT} manifest")
    kit = value.get("kit")
    if not isinstance(kit, str):
        raise ExportFormatError(f"{path} names no kit (an export of an empty outbox?)")
    documents = _entries(value, "documents", path)
    images = _entries(value, "images", path)
    documents.sort(key=lambda d: d.get("seq") if isinstance(d.get("seq"), int) else 0)
    files = [ExportFile(_name(d, path), "result", _sha(d.get("file_sha256"))) for d in documents]
    files += [ExportFile(_name(i, path), "image", _sha(i.get("sha256"))) for i in images]
    return Export(directory, kit, tuple(files))


def import_export(
    directory: Path,
    ingestor: Ingestor,
    clock: Callable[[], dt.datetime],
    echo: Callable[[str], None],
) -> ImportReport:
    """Ingest every file of an export, saying per file what happened."""
    export = read_export(directory)
    report = ImportReport()
    echo(f"export of kit {export.kit}: {len(export.files)} files")
    for entry in export.files:
        try:
            data = (directory / entry.name).read_bytes()
        except OSError as e:
            echo(f"{entry.name}: MISSING ({e.strerror})")
            report.add("missing", failed=True)
            continue
        note = ""
        if (
            entry.kind == "result"
            and entry.sha256
            and hashlib.sha256(data).hexdigest() != entry.sha256
        ):
            note = " (file differs from the manifest: damaged in transit?)"
        if entry.kind == "result":
            outcome = ingestor.ingest_result(data, export.kit, clock(), source="usb")
        else:
            outcome = ingestor.ingest_image(
                data, export.kit, entry.sha256 or "", clock(), source="usb"
            )
        echo(f"{entry.name}: {_describe(outcome)}{note}")
        report.add(f"{outcome.kind} {outcome.status}", outcome.status in ("rejected", "deferred"))
    return report


def _describe(outcome: Outcome) -> str:
    if outcome.status in ("rejected", "deferred"):
        return f"{outcome.status.upper()} {outcome.reason_code}: {outcome.reason}"
    if outcome.kind == "image":
        return "image stored" if outcome.status == "accepted" else "image already stored"
    what = "accepted" if outcome.status == "accepted" else "already stored"
    extra = ", now the current version" if outcome.current else ""
    flags = f", flagged: {', '.join(outcome.anomalies)}" if outcome.anomalies else ""
    return f"{what} (seq {outcome.seq}, log index {outcome.log_index}{extra}{flags})"


def _entries(value: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    entries = value.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ExportFormatError(f"{path}: '{key}' is not a list of objects")
    return list(entries)


def _name(entry: dict[str, Any], path: Path) -> str:
    name = entry.get("file")
    if not isinstance(name, str) or not _FILE_NAME.match(name):
        # A manifest must not send the hub reading outside the export directory.
        raise ExportFormatError(f"{path}: file name {name!r:.80} is not a plain file name")
    return name


def _sha(value: Any) -> str | None:
    return value if isinstance(value, str) else None
