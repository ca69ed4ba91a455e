"""Export the outbox to a directory (a USB stick) for carrying results by hand.

Each signed result is written byte for byte as published, so ``tps-verify FILE --ca CA``
checks it anywhere; images are named by their SHA-256, which the signed document lists.
Every file is written to a temporary name, fsynced and renamed, so a stick pulled out
mid-export never holds a truncated file under a real name; the manifest is written last, so
a manifest present means every file it lists is complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.outbox.errors import OutboxError
from edge.outbox.records import Entry
from protocol.utctime import format_utc

if TYPE_CHECKING:
    from edge.outbox.store import Outbox

MANIFEST = "manifest.json"
FORMAT = "tps-outbox-export/1"


def export_outbox(outbox: Outbox, directory: Path) -> Path:
    """Write every stored result and image into ``directory``; return the manifest's path."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutboxError(f"cannot create {directory}: {e.strerror}") from e
    with outbox.snapshot():  # files and manifest describe one moment of the outbox
        entries = outbox.documents()
        images = _write_images(outbox, entries, directory)
        documents = [_write_document(entry, directory) for entry in entries]
        kit = outbox.chain_kit()
    manifest = {
        "format": FORMAT,
        "kit": kit,
        "exported_at": format_utc(dt.datetime.now(dt.UTC)),
        "documents": documents,
        "images": images,
    }
    path = directory / MANIFEST
    write_atomic(path, json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n")
    _fsync_dir(directory)
    return path


def _write_document(entry: Entry, directory: Path) -> dict[str, Any]:
    write_atomic(directory / entry.filename, entry.signed)
    return {
        "file": entry.filename,
        "file_sha256": hashlib.sha256(entry.signed).hexdigest(),
        "seq": entry.seq,
        "sha256": entry.sha256,  # the document's hash, as on the receipt
        "prev_sha256": entry.prev_sha256,
        "form": entry.form,
        "state": entry.state.value,
        "reason": entry.reason,
        "images": [
            {"page": page, "file": f"{sha}.jpg", "sha256": sha} for page, sha in entry.pages
        ],
    }


def _write_images(outbox: Outbox, entries: list[Entry], directory: Path) -> list[dict[str, Any]]:
    written: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for _, sha in entry.pages:
            if sha in written:
                continue
            data = outbox.image(sha)  # one at a time: page photos are megabytes each
            if hashlib.sha256(data).hexdigest() != sha:
                raise OutboxError(f"stored image {sha} does not match its hash; keep the file")
            write_atomic(directory / f"{sha}.jpg", data)
            written[sha] = {"file": f"{sha}.jpg", "sha256": sha, "bytes": len(data)}
    return list(written.values())


def write_atomic(path: Path, data: bytes) -> None:
    """Temp file beside ``path``, fsync, rename; an identical existing file is left alone."""
    if _same(path, data):
        return  # re-exporting to the same stick: no need to rewrite megabytes
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as e:
        raise OutboxError(f"cannot write in {path.parent}: {e.strerror}") from e
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise OutboxError(f"cannot write {path}: {e.strerror}; is the stick full?") from e
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _same(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _fsync_dir(directory: Path) -> None:
    # Some USB file systems (vfat) do not support fsync on a directory; the files are synced.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
