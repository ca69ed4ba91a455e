"""Simulating the kit's photograph of a page lying on the table under the boom camera.

The page is placed in the camera frame with the perspective the boom allows (a few degrees
of tilt and rotation, a few centimetres of offset), then lit unevenly, shadowed, blurred,
given sensor noise and JPEG-compressed. Every parameter is drawn from a seeded generator so
a synthesized set is reproducible.

A sheet that does not lie flat (``provisioning.synth.surface``) is seen from the lens: a point
lifted z mm above the table appears where the ray from the lens through it meets the table,
r z / (Hc - z) further out from the point under the lens (r its distance from that point, Hc
the lens's height), and lit by how its surface faces the light.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from protocol.boom import BOOM_HEIGHT_MM
from provisioning.synth.surface import Surface

MAP_STEP = 8  # frame px (2.3 mm of page) between exactly computed points of a lifted sheet
LIFT_ITERATIONS = 4  # each shrinks the error by r / Hc x slope < 0.6 x 0.45: 8 mm to 0.05


@dataclass(frozen=True)
class CameraGeometry:
    """Where the page lands in the frame: the boom's nominal set-up and its tolerance."""

    frame_w: int = 4056
    frame_h: int = 3040
    fill: float = 0.76  # the page's long side over the frame's long side, nominal
    max_rotation_deg: float = 3.0
    max_tilt: float = 0.03  # keystone: relative shortening of one edge
    max_shift: float = 0.03  # of the frame size
    # The lens above the table, as the kit's boom holds it (protocol/boom.py: a 66-degree
    # lens there sees 1184 mm of table, which the 900 mm sheet fills 76 % of: fill).
    height_mm: float = BOOM_HEIGHT_MM


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
    surface: Surface = field(default_factory=Surface.flat)  # the sheet on the table

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        geometry: CameraGeometry,
        *,
        fold: bool = False,
        max_blur: float = 1.2,
    ) -> Conditions:
        """Conditions within the boom's tolerance; ``fold``: a folded, curled sheet too.

        The sheet's shape is drawn after everything else, so a flat draw is what it always was.
        """
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
            blur_sigma=float(rng.uniform(0.3, max_blur)),
            noise_sigma=float(rng.uniform(1.0, 5.0)),
            jpeg_quality=int(rng.integers(75, 93)),
            surface=Surface.draw(rng) if fold else Surface.flat(),
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
    px_per_mm: float | None = None,
) -> tuple[bytes, np.ndarray, Conditions]:
    """Photograph a grey page image; return (JPEG bytes, page->frame homography, conditions).

    The homography is the flat sheet's; a sheet that is not flat needs ``px_per_mm``, the
    page image's scale, and lands up to a few mm off it where it is lifted."""
    geometry = geometry or CameraGeometry()
    c = conditions or Conditions.draw(rng, geometry)
    homography = page_to_frame((page.shape[1], page.shape[0]), geometry, c)
    table = _table(rng, geometry)
    shade = None
    if c.surface.is_flat:
        frame = cv2.warpPerspective(
            page,
            homography,
            (geometry.frame_w, geometry.frame_h),
            flags=cv2.INTER_AREA if homography[0, 0] < 1 else cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_TRANSPARENT,
            dst=table,
        )
    else:
        if px_per_mm is None:
            raise ValueError("a sheet that is not flat needs the page image's px_per_mm")
        maps, shade = lifted_maps(page.shape, homography, geometry, c.surface, px_per_mm)
        # One resampling from page to frame, as warpPerspective does for a flat sheet.
        frame = cv2.remap(
            page, *maps, cv2.INTER_LINEAR, dst=table, borderMode=cv2.BORDER_TRANSPARENT
        )
    frame = _light(frame, rng, c, shade)
    if c.blur_sigma > 0.05:
        frame = cv2.GaussianBlur(frame, (0, 0), c.blur_sigma)
    if c.noise_sigma > 0:
        noise = rng.normal(0.0, c.noise_sigma, frame.shape).astype(np.float32)
        frame = np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, c.jpeg_quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a grey uint8 image
        raise RuntimeError("JPEG encoding failed")
    return jpeg.tobytes(), homography, c


def lifted_maps(
    page_shape: tuple[int, ...],
    homography: np.ndarray,
    geometry: CameraGeometry,
    surface: Surface,
    px_per_mm: float,
) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Where each frame pixel looks on the lifted page (page px, for cv2.remap), and the
    light the sheet reflects there relative to its brightest point (1 off the page).

    Computed exactly every MAP_STEP frame pixels and interpolated: the sheet bends over
    centimetres, the crease rounds over 3 mm, the step is 2.3 mm: the maps are within 0.2 px
    of exact and the shade within 0.07 (at the crease line only)."""
    fw, fh = geometry.frame_w, geometry.frame_h
    cw, ch = -(-fw // MAP_STEP), -(-fh // MAP_STEP)
    # The frame positions cv2.resize takes a cw x ch image's samples to be at.
    fx, fy = np.meshgrid(
        (np.arange(cw) + 0.5) * fw / cw - 0.5, (np.arange(ch) + 0.5) * fh / ch - 0.5
    )
    inverse = np.linalg.inv(homography)
    qx, qy = _project(inverse, fx, fy)  # the table under each frame pixel, in page px
    cx, cy = _project(inverse, np.array(fw / 2), np.array(fh / 2))  # under the lens
    h, w = page_shape[:2]
    size_mm = (w / px_per_mm, h / px_per_mm)
    # A page point p at height z(p) shows at q = c + (p - c) Hc / (Hc - z(p)); solve for p by
    # fixed-point iteration from p = q, which converges as fast as r / Hc * slope shrinks.
    hc = geometry.height_mm
    px, py = qx, qy
    for _ in range(LIFT_ITERATIONS):
        z = surface.height(px / px_per_mm, py / px_per_mm, size_mm)[0]
        px, py = cx + (qx - cx) * (hc - z) / hc, cy + (qy - cy) * (hc - z) / hc
    _, gx, gy = surface.height(px / px_per_mm, py / px_per_mm, size_mm)
    light = surface.brightness(gx, gy)
    on_page = (px >= 0) & (px <= w - 1) & (py >= 0) & (py <= h - 1)
    brightest = float(light[on_page].max()) if on_page.any() else 1.0
    # The kit's exposure is fixed with the paper below clipping: the brightest paper is white.
    shade = np.where(on_page, light / max(brightest, 1e-6), 1.0).astype(np.float32)
    size = (fw, fh)
    maps = (
        cv2.resize(px.astype(np.float32), size, interpolation=cv2.INTER_LINEAR),
        cv2.resize(py.astype(np.float32), size, interpolation=cv2.INTER_LINEAR),
    )
    return maps, cv2.resize(shade, size, interpolation=cv2.INTER_LINEAR)


def _project(m: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = m[2, 0] * x + m[2, 1] * y + m[2, 2]
    return (m[0, 0] * x + m[0, 1] * y + m[0, 2]) / d, (m[1, 0] * x + m[1, 1] * y + m[1, 2]) / d


def _table(rng: np.random.Generator, geometry: CameraGeometry) -> np.ndarray:
    """A darker, slightly textured table top around the page."""
    base = int(rng.integers(60, 120))
    small = rng.normal(base, 12, (geometry.frame_h // 32, geometry.frame_w // 32))
    texture = cv2.resize(small.astype(np.float32), (geometry.frame_w, geometry.frame_h))
    return np.clip(texture, 0, 255).astype(np.uint8)


def _light(
    frame: np.ndarray, rng: np.random.Generator, c: Conditions, shade: np.ndarray | None = None
) -> np.ndarray:
    """Multiply by a smooth light field: a gradient from one side and an optional shadow band,
    and ``shade`` (full frame), how a sheet that is not flat reflects the light."""
    h, w = frame.shape
    ys, xs = np.mgrid[0:h:8, 0:w:8].astype(np.float32)
    theta = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(theta) * xs / w + np.sin(theta) * ys / h + 1) / 2  # 0..1
    gain = 1.0 - c.light_gradient * ramp
    if c.shadow > 0:
        centre = rng.uniform(0.2, 0.8) * w
        width = rng.uniform(0.05, 0.2) * w
        gain *= 1.0 - c.shadow * np.exp(-(((xs - centre) / width) ** 2))
    gain = cv2.resize(gain, (w, h), interpolation=cv2.INTER_LINEAR)
    if shade is not None:
        gain *= shade
    return np.clip(frame.astype(np.float32) * gain, 0, 255).astype(np.uint8)
