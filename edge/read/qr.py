"""Reading a page's optional QR code (election, form, page, TPS) from an aligned photograph.

KPU prints no QR code; our own print may carry one. It is an extra check, never a requirement:
a QR place with no ink in it means no code, and a code that does not decode is read past
(the TPS and election come from the kit's certificate, the page from its tag). Only a code
that does decode is held to what it says.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from edge.align.aligner import AlignedPage
from edge.errors import ForeignFormError
from protocol.forms.errors import QrPayloadError
from protocol.forms.qr import QrPayload, parse_qr_payload
from protocol.forms.schema import Qr

# The QR is rectified at these scales in turn: ~6 px per 1 mm module decodes almost every
# photo; a finer, sharpened rectification rescues the blurred ones.
SCALES_PX_PER_MM = (6.0, 9.0)


# A printed QR code is about half black; blank paper with a stamp or a stray line, far less.
MIN_QR_INK = 0.2


def read_qr(frame: np.ndarray, page: AlignedPage, qr: Qr) -> QrPayload | None:
    """The sheet's QR code, or None when its place is blank or the code does not decode.

    Raises ForeignFormError when a code decodes but is not one of ours.
    """
    if not _inked(_rectify(frame, page, qr, 2.0, quiet=False), page):
        return None
    text = ""
    for px_per_mm in SCALES_PX_PER_MM:
        text = _decode(_rectify(frame, page, qr, px_per_mm), px_per_mm / page.px_per_mm)
        if text:
            break
    if not text:
        return None
    try:
        return parse_qr_payload(text)
    except QrPayloadError as e:
        raise ForeignFormError(
            f"this page's QR code is not one of ours ({e}): use the forms printed for this TPS",
            "Formulir tidak terdaftar: gunakan formulir untuk TPS ini",
        ) from e


def _inked(symbol: np.ndarray, page: AlignedPage) -> bool:
    """Whether the QR's square holds as much ink as a code does."""
    threshold = page.paper_level - 0.5 * page.contrast
    return float(np.mean(symbol < threshold)) >= MIN_QR_INK


def _rectify(
    frame: np.ndarray, page: AlignedPage, qr: Qr, px_per_mm: float, *, quiet: bool = True
) -> np.ndarray:
    pad = qr.quiet if quiet else 0.0
    x0, y0 = qr.x - pad, qr.y - pad
    side = round((qr.size + 2 * pad) * px_per_mm)
    to_mm = np.array([[1 / px_per_mm, 0, x0], [0, 1 / px_per_mm, y0], [0, 0, 1]])
    return cv2.warpPerspective(
        frame,
        page.homography @ to_mm,
        (side, side),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderValue=255,
    )


def _variants(upright: np.ndarray, zoom: float) -> Iterator[np.ndarray]:
    """The rectified code as is, binarised, and with the camera's blur partly undone."""

    def otsu(image: np.ndarray) -> np.ndarray:
        return cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]

    yield otsu(upright)
    yield upright
    # Unsharp mask at about one camera pixel: the blur a slightly soft lens adds.
    sharp = cv2.addWeighted(upright, 2.0, cv2.GaussianBlur(upright, (0, 0), zoom), -1.0, 0)
    yield otsu(sharp)
    yield sharp


def _decode(upright: np.ndarray, zoom: float) -> str:
    """Try OpenCV's two QR decoders on each variant: blur defeats each differently."""
    for image in _variants(upright, zoom):
        for detector in (cv2.QRCodeDetectorAruco(), cv2.QRCodeDetector()):
            text, _, _ = detector.detectAndDecode(image)
            if text:
                return text
    return ""
