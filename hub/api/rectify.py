"""A page photo as people want to see it: rectified to its form template's page, upright.

The kit signs where the template page's corners lie in each photo (protocol/pageframe.py);
the hub warps the stored JPEG so that those corners become the page's, at a fixed scale, and
serves that. The photo as taken stays what is signed and published; this is a view of it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from protocol.pageframe import corners_px

LONG_SIDE_PX = 2400
"""The rectified page's long side: a plano sheet (900 mm) at 2.7 px per mm, about what a
12 MP camera gives it, and an A4 salinan at 8: the handwriting as sharp as photographed."""
MAX_PX_PER_MM = 8.0  # no small sheet is blown up past what any kit's camera resolves
JPEG_QUALITY = 90
CACHED = 32  # rectified pages kept (each a few hundred kB): a TPS page shows one or three


class RectifyError(ValueError):
    """The stored image cannot be decoded as a picture."""


@dataclass(frozen=True)
class Frame:
    """The template page a photo is rectified to, and the scale it is drawn at."""

    width_mm: float
    height_mm: float

    @property
    def px_per_mm(self) -> float:
        return min(MAX_PX_PER_MM, LONG_SIDE_PX / max(self.width_mm, self.height_mm))

    @property
    def size_px(self) -> tuple[int, int]:
        k = self.px_per_mm
        return round(self.width_mm * k), round(self.height_mm * k)


class RectifiedCache:
    """Rectified pages by (image, corners, frame): an image's hash names its bytes, so an
    entry never goes stale. Thread-safe (the API serves requests on a thread pool)."""

    def __init__(self, size: int = CACHED) -> None:
        self._size = size
        self._pages: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def page(
        self,
        image_sha256: str,
        load: Callable[[], bytes],
        corners: Sequence[Sequence[int]],
        frame: Frame,
    ) -> bytes:
        """The page whose corners in the photo ``load()`` gives are ``corners``, warped to
        ``frame``; the image is loaded only when the page is not cached."""
        key = (image_sha256, tuple(tuple(point) for point in corners), frame)
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
        page = rectify(load(), corners, frame)
        with self._lock:
            self._pages[key] = page
            while len(self._pages) > self._size:
                self._pages.popitem(last=False)
        return page


def rectify(image: bytes, corners: Sequence[Sequence[int]], frame: Frame) -> bytes:
    """The page of ``image`` whose corners are ``corners``, warped upright to ``frame``."""
    import cv2
    import numpy as np

    # IMREAD_COLOR applies an EXIF orientation, as the kit's IMREAD_GRAYSCALE did when it
    # found the corners: both read the same pixels.
    photo = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
    if photo is None:
        raise RectifyError("the stored page image cannot be decoded")
    w, h = frame.size_px
    source = np.array(corners_px(corners), np.float32)
    target = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    warp = cv2.getPerspectiveTransform(source, target)
    page = cv2.warpPerspective(
        photo, warp, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)
    )
    ok, jpeg = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:  # pragma: no cover - OpenCV always encodes a BGR uint8 image
        raise RectifyError("the rectified page could not be encoded")
    return jpeg.tobytes()
