"""Loading a page photograph from a file (the development camera and ``tps-kit read``)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge.errors import PageRefusedError


def load_grey(path: Path) -> tuple[np.ndarray, bytes]:
    """The image as grey pixels, and the file's bytes (their hash goes into the document)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PageRefusedError(f"cannot read {path}: {e.strerror}") from e
    frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if frame is None:
        raise PageRefusedError(f"{path} is not an image (JPEG or PNG expected)")
    return frame, data
