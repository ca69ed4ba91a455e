"""Simulating the kit's photograph of a page lying on the table under the boom camera.

The page is placed in the camera frame with the perspective the boom allows (a few degrees
of tilt and rotation, a few centimetres of offset), then lit unevenly, shadowed, blurred,
given sensor noise and JPEG-compressed. Every parameter is drawn from a seeded generator so
a synthesized set is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class CameraGeometry:
    """Where the page lands in the frame: the boom's nominal set-up and its tolerance."""

    frame_w: int = 4056
    frame_h: int = 3040
    fill: float = 0.76  # the page's long side over the frame's long side, nominal
    max_rotation_deg: float = 3.0
    max_tilt: float = 0.03  # keystone: relative shortening of one edge
    max_shift: float = 0.03  # of the frame size


@dataclass(frozen=True)
class Conditions:
    """How hard the photograph is: the synthesizer draws these per page."""

    rotation_deg: float
    tilt_x: float
    tilt_y: float
    shift_x: float
    shift_y: float
    scale: float
    light_gradient: float  # 0 = even light, 0.5 = one side half as bright
    shadow: float  # darkness of a soft shadow band across the page, 0..0.5
    blur_sigma: float  # px at full resolution
    noise_sigma: float  # grey levels
    jpeg_quality: int

    @classmethod
    def draw(cls, rng: np.random.Generator, geometry: CameraGeometry) -> Conditions:
        g = geometry
        return cls(
            rotation_deg=float(rng.uniform(-g.max_rotation_deg, g.max_rotation_deg)),
            tilt_x=float(rng.uniform(-g.max_tilt, g.max_tilt)),
            tilt_y=float(rng.uniform(-g.max_tilt, g.max_tilt)),
            shift_x=float(rng.uniform(-g.max_shift, g.max_shift)),
            shift_y=float(rng.uniform(-g.max_shift, g.max_shift)),
            scale=float(rng.uniform(0.95, 1.03)),
            light_gradient=float(rng.uniform(0.0, 0.35)),
            shadow=float(rng.choice([0.0, rng.uniform(0.1, 0.3)], p=[0.6, 0.4])),
            blur_sigma=float(rng.uniform(0.3, 1.2)),
            noise_sigma=float(rng.uniform(1.0, 5.0)),
            jpeg_quality=int(rng.integers(75, 93)),
        )

    @classmethod
    def ideal(cls) -> Conditions:
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 95)


def page_to_frame(
    page_size_px: tuple[int, int], geometry: CameraGeometry, c: Conditions
) -> np.ndarray:
    """The homography (3x3) from page pixels to frame pixels for these conditions."""
    w, h = page_size_px
    frame_w, frame_h = geometry.frame_w, geometry.frame_h
    # The page's long side lies along the frame's long side.
    rotate_quarter = (h > w) != (frame_h > frame_w)
    long_page = max(w, h)
    scale = geometry.fill * max(frame_w, frame_h) / long_page * c.scale
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    centred = (corners - [w / 2, h / 2]) * scale
    angle = np.deg2rad(c.rotation_deg + (90.0 if rotate_quarter else 0.0))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    placed = centred @ rot.T
    # Keystone: one edge nearer the lens looks longer.
    placed[:, 0] *= 1 + c.tilt_y * np.sign(placed[:, 1])
    placed[:, 1] *= 1 + c.tilt_x * np.sign(placed[:, 0])
    placed += [frame_w / 2 + c.shift_x * frame_w, frame_h / 2 + c.shift_y * frame_h]
    return cv2.getPerspectiveTransform(corners.astype(np.float32), placed.astype(np.float32))


def photograph(
    page: np.ndarray,
    rng: np.random.Generator,
    *,
    geometry: CameraGeometry | None = None,
    conditions: Conditions | None = None,
) -> tuple[bytes, np.ndarray, Conditions]:
    """Photograph a grey page image; return (JPEG bytes, page->frame homography, conditions)."""
    geometry = geometry or CameraGeometry()
    c = conditions or Conditions.draw(rng, geometry)
    homography = page_to_frame((page.shape[1], page.shape[0]), geometry, c)
    table = _table(rng, geometry)
    frame = cv2.warpPerspective(
        page,
        homography,
        (geometry.frame_w, geometry.frame_h),
        flags=cv2.INTER_AREA if homography[0, 0] < 1 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_TRANSPARENT,
        dst=table,
    )
    frame = _light(frame, rng, c)
    if c.blur_sigma > 0.05:
        frame = cv2.GaussianBlur(frame, (0, 0), c.blur_sigma)
    if c.noise_sigma > 0:
        noise = rng.normal(0.0, c.noise_sigma, frame.shape).astype(np.float32)
        frame = np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, c.jpeg_quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a grey uint8 image
        raise RuntimeError("JPEG encoding failed")
    return jpeg.tobytes(), homography, c


def _table(rng: np.random.Generator, geometry: CameraGeometry) -> np.ndarray:
    """A darker, slightly textured table top around the page."""
    base = int(rng.integers(60, 120))
    small = rng.normal(base, 12, (geometry.frame_h // 32, geometry.frame_w // 32))
    texture = cv2.resize(small.astype(np.float32), (geometry.frame_w, geometry.frame_h))
    return np.clip(texture, 0, 255).astype(np.uint8)


def _light(frame: np.ndarray, rng: np.random.Generator, c: Conditions) -> np.ndarray:
    """Multiply by a smooth light field: a gradient from one side and an optional shadow band."""
    h, w = frame.shape
    ys, xs = np.mgrid[0:h:8, 0:w:8].astype(np.float32)
    theta = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(theta) * xs / w + np.sin(theta) * ys / h + 1) / 2  # 0..1
    field = 1.0 - c.light_gradient * ramp
    if c.shadow > 0:
        centre = rng.uniform(0.2, 0.8) * w
        width = rng.uniform(0.05, 0.2) * w
        field *= 1.0 - c.shadow * np.exp(-(((xs - centre) / width) ** 2))
    field = cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(frame.astype(np.float32) * field, 0, 255).astype(np.uint8)
