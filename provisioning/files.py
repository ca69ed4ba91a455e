"""Writing files so that a crash or a bad row never leaves half of one behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from provisioning.errors import ProvisioningError


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename over ``path``."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as e:
        raise ProvisioningError(f"cannot write in {path.parent}: {e.strerror}") from e
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish_dir(staging: Path, final: Path) -> None:
    """Move a fully written staging directory into place in one rename."""
    if final.exists():
        shutil.rmtree(staging, ignore_errors=True)
        raise ProvisioningError(f"{final} already exists")
    os.replace(staging, final)
