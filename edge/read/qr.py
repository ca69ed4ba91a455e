"""Reading the page's QR code (election, form, page, TPS) from an aligned photograph."""

from __future__ import annotations

import cv2
import numpy as np

from edge.align.aligner import AlignedPage
from edge.errors import ForeignFormError, PoorImageError
from protocol.forms.errors import QrPayloadError
from protocol.forms.qr import QrPayload, parse_qr_payload
from protocol.forms.schema import Qr

PX_PER_MM = 6.0  # the QR's ~1 mm modules rectified to ~6 px: plenty for the decoder


def _decode(upright: np.ndarray) -> str:
    """Try OpenCV's two QR decoders, then a sharper upscale: blur defeats each differently."""
    _, binary = cv2.threshold(upright, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bigger = cv2.resize(upright, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    # Most photos decode at the first try; the others are for blur and uneven light.
    for image in (binary, upright, bigger):
        for detector in (cv2.QRCodeDetectorAruco(), cv2.QRCodeDetector()):
            text, _, _ = detector.detectAndDecode(image)
            if text:
                return text
    return ""


def read_qr(frame: np.ndarray, page: AlignedPage, qr: Qr) -> QrPayload:
    """Rectify the QR's square (with its quiet zone) out of the frame and decode it."""
    x0, y0 = qr.x - qr.quiet, qr.y - qr.quiet
    side_mm = qr.size + 2 * qr.quiet
    side = round(side_mm * PX_PER_MM)
    to_mm = np.array([[1 / PX_PER_MM, 0, x0], [0, 1 / PX_PER_MM, y0], [0, 0, 1]])
    upright = cv2.warpPerspective(
        frame,
        page.homography @ to_mm,
        (side, side),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderValue=255,
    )
    text = _decode(upright)
    if not text:
        raise PoorImageError(
            "the page's QR code cannot be read: uncover it, smooth the page, scan again",
            "Kode QR tidak terbaca: jangan tutupi kode QR, ratakan kertas, pindai lagi",
        )
    try:
        return parse_qr_payload(text)
    except QrPayloadError as e:
        raise ForeignFormError(
            f"this page's QR code is not one of ours ({e}): use the forms printed for this TPS",
            "Formulir tidak terdaftar: gunakan formulir untuk TPS ini",
        ) from e
