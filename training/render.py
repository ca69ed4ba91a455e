"""Rendering digit boxes as the kit's camera sees them, for training, evaluation and tests.

A *glyph* is a 28x28 float32 ink image (1 = ink, 0 = nothing), like an MNIST digit. MNIST
digits, synthetic X's and blanks (an empty glyph) all go through the same ``render_box``,
which writes the glyph into a printed box on paper and photographs it: random size and
placement in the box, slant, stroke thickness, pen darkness, slivers of the printed border,
a faint dotted guide, stray marks and smudges, uneven light and shadow, blur, sensor noise
and JPEG. Only numpy and OpenCV: the test suite uses this without torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

GLYPH = 28
_HI = 4 * GLYPH  # X's are drawn at four times the glyph size, then reduced (anti-aliasing)


@dataclass(frozen=True)
class Profile:
    """How varied the writing and how hard the photograph: ranges the renderer draws from."""

    size_median: float  # box crop side, px
    size_spread: float  # log-normal sigma of the side
    size_range: tuple[int, int]
    height: tuple[float, float]  # glyph height / box side
    rotation_deg: float
    shear: float
    aspect: tuple[float, float]
    elastic: float  # probability of an elastic wobble
    blur: tuple[float, float]  # Gaussian sigma at a 34 px box
    noise: tuple[float, float]  # sensor noise sigma, grey levels
    jpeg: tuple[int, int]
    paper: tuple[float, float]  # paper grey level
    gradient: float  # strongest light fall-off across the box
    shadow: float  # probability of a shadow edge
    shadow_sharpness: tuple[float, float]  # slope of the shadow edge, per box width
    overflow: float  # probability that the writing runs over the box's edge
    border: float  # probability of a border sliver, per edge
    guide: float  # probability of a dotted guide


# Training: deliberately wider and harsher than the kit will see, so the model generalises.
TRAIN = Profile(
    size_median=36, size_spread=0.3, size_range=(20, 84), height=(0.45, 0.92),
    rotation_deg=12, shear=0.3, aspect=(0.8, 1.2), elastic=0.5, blur=(0.25, 1.3),
    noise=(0.5, 7.0), jpeg=(40, 95), paper=(110, 250), gradient=0.4, shadow=0.2,
    shadow_sharpness=(2, 25), overflow=0.08, border=0.35, guide=0.15,
)  # fmt: skip
# The kit: the plano form's ~34 px boxes photographed as provisioning.synth.photo simulates
# (blur 0.3-1.2 px, noise 1-5, JPEG 75-93, light gradient up to 0.35, shadows), writing as
# MNIST's writers wrote it, within a few degrees, inside the box; border slivers and guides
# as in training. A shadow's penumbra is centimetres wide: a soft gradient across one box.
KIT = Profile(
    size_median=34, size_spread=0.08, size_range=(26, 44), height=(0.5, 0.9),
    rotation_deg=5, shear=0.1, aspect=(0.9, 1.1), elastic=0.0, blur=(0.3, 1.2),
    noise=(1.0, 5.0), jpeg=(75, 93), paper=(130, 245), gradient=0.35, shadow=0.4,
    shadow_sharpness=(1, 4), overflow=0.0, border=0.35, guide=0.15,
)  # fmt: skip


def mnist_glyph(image: np.ndarray) -> np.ndarray:
    """An MNIST image (28x28 uint8, white on black) as a float32 glyph."""
    return image.astype(np.float32) / 255.0


def x_glyph(rng: np.random.Generator) -> np.ndarray:
    """A handwritten-looking X: two strokes, each slightly curved, of varying length and slant."""
    canvas = np.zeros((_HI, _HI), dtype=np.uint8)
    thick = int(rng.integers(6, 16))
    lo, hi = 0.08 * _HI, 0.92 * _HI
    # Stroke 1 from top-left to bottom-right, stroke 2 from top-right to bottom-left; the
    # corners wander so the strokes cross off-centre, at different angles, one shorter.
    strokes = [
        (_corner(rng, lo, lo), _corner(rng, hi, hi)),
        (_corner(rng, hi, lo), _corner(rng, lo, hi)),
    ]
    for start, end in strokes:
        _draw_stroke(canvas, rng, start, end, thick)
    glyph = cv2.resize(canvas, (GLYPH, GLYPH), interpolation=cv2.INTER_AREA)
    return glyph.astype(np.float32) / 255.0


def blank_glyph() -> np.ndarray:
    """No ink at all: ``render_box`` adds the paper, border, guide and stray marks."""
    return np.zeros((GLYPH, GLYPH), dtype=np.float32)


def _corner(rng: np.random.Generator, x: float, y: float) -> np.ndarray:
    spread = 0.16 * _HI
    return np.array([x + rng.normal(0, spread / 2), y + rng.normal(0, spread / 2)])


def _draw_stroke(
    canvas: np.ndarray, rng: np.random.Generator, start: np.ndarray, end: np.ndarray, thick: int
) -> None:
    """A quadratic curve from start to end with a little bow, jitter and an optional hook."""
    if rng.random() < 0.3:  # one stroke a little shorter than the other
        end = start + (end - start) * rng.uniform(0.7, 0.95)
    normal = np.array([start[1] - end[1], end[0] - start[0]]) / (np.linalg.norm(end - start) + 1)
    control = (start + end) / 2 + normal * rng.normal(0, 0.12 * _HI)
    t = np.linspace(0, 1, 24)[:, None]
    pts = (1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * end
    pts += rng.normal(0, 0.6, pts.shape)
    if rng.random() < 0.25:  # a pen hook where the stroke ends
        hook = pts[-1] + rng.normal(0, 0.06 * _HI, 2)
        pts = np.vstack([pts, hook])
    stroke_thick = max(3, thick + int(rng.integers(-2, 3)))
    poly = np.round(pts).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [poly], False, 255, stroke_thick, cv2.LINE_AA)


def render_box(
    glyph: np.ndarray,
    rng: np.random.Generator,
    *,
    profile: Profile = TRAIN,
    size: int | None = None,
    clean: bool = False,
) -> np.ndarray:
    """A grey uint8 crop of one box's interior with ``glyph`` written in it, as photographed.

    ``clean`` renders it with even light, no border, no noise (a best-case reference).
    """
    size = size or _box_size(rng, profile)
    if glyph.any():
        ink = _place_glyph(glyph, rng, size, profile)
    else:
        ink = np.zeros((size, size), np.float32)
    if clean:
        return np.clip(235.0 - 205.0 * ink, 0, 255).astype(np.uint8)
    reflect = np.ones((size, size), dtype=np.float32)  # paper = 1, black = 0
    if rng.random() < profile.guide:
        reflect *= 1.0 - _dotted_guide(rng, size)
    reflect *= 1.0 - _stray_marks(rng, size, blank=not glyph.any())
    pen = rng.uniform(0.45, 0.97)
    reflect *= 1.0 - pen * ink * _pressure(rng, size)
    reflect = _border_slivers(reflect, rng, profile.border)
    return _photograph(reflect, rng, profile)


def _box_size(rng: np.random.Generator, p: Profile) -> int:
    # Log-normal: mostly near the median, in training sometimes far smaller or larger
    # (other cameras, the A4 copy, a crop that includes a margin).
    side = np.exp(rng.normal(np.log(p.size_median), p.size_spread))
    return int(np.clip(side, *p.size_range))


def _place_glyph(glyph: np.ndarray, rng: np.random.Generator, size: int, p: Profile) -> np.ndarray:
    """Warp the glyph into the box: scale, aspect, slant, rotation, position, elastic wobble."""
    if rng.random() < p.elastic:
        glyph = _elastic(glyph, rng)
    ys, xs = np.nonzero(glyph > 0.1)
    if ys.size == 0:
        return np.zeros((size, size), np.float32)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    height = rng.uniform(*p.height) * size
    s = height / max(y1 - y0, 1)
    sx = s * rng.uniform(*p.aspect)
    shear = rng.uniform(-p.shear, p.shear)
    angle = np.deg2rad(rng.uniform(-p.rotation_deg, p.rotation_deg))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    a = rot @ np.array([[sx, shear * s], [0.0, s]])
    gc = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    extent = np.array(
        [
            abs(a[0, 0]) * (x1 - x0) + abs(a[0, 1]) * (y1 - y0),
            abs(a[1, 0]) * (x1 - x0) + abs(a[1, 1]) * (y1 - y0),
        ]
    )
    if rng.random() < p.overflow:  # written across the line: the crop cuts a little off
        slack = np.maximum((size - extent) / 2, 0) + 0.06 * size
    else:  # inside the box, clear of its printed line: shrink to fit if need be
        room = size - 2.0 * max(1.0, 0.04 * size)
        shrink = min(1.0, room / max(extent.max(), 1.0))
        a, s, extent = a * shrink, s * shrink, extent * shrink
        slack = np.maximum((room - extent) / 2, 0)
    centre = size / 2 + rng.uniform(-slack, slack)
    m = np.hstack([a, (centre - a @ gc)[:, None]])
    ink = cv2.warpAffine(glyph, m, (size, size), flags=cv2.INTER_LINEAR)
    return _thickness(ink, rng, s)


def _elastic(glyph: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A smooth random displacement field: the hand's wobble (Simard et al.'s augmentation)."""
    alpha, sigma = rng.uniform(1.0, 2.6), rng.uniform(3.0, 4.5)
    dx = cv2.GaussianBlur(rng.uniform(-1, 1, glyph.shape).astype(np.float32), (0, 0), sigma)
    dy = cv2.GaussianBlur(rng.uniform(-1, 1, glyph.shape).astype(np.float32), (0, 0), sigma)
    dx *= alpha / (np.abs(dx).max() + 1e-6)
    dy *= alpha / (np.abs(dy).max() + 1e-6)
    grid_y, grid_x = np.mgrid[0 : glyph.shape[0], 0 : glyph.shape[1]].astype(np.float32)
    return cv2.remap(glyph, grid_x + dx, grid_y + dy, cv2.INTER_LINEAR)


def _thickness(ink: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    """Thinner or bolder strokes: re-threshold the soft ink, sometimes dilate or erode."""
    soft = cv2.GaussianBlur(ink, (0, 0), max(0.4, 0.35 * scale))
    threshold = rng.uniform(0.12, 0.55)
    ink = np.clip((soft - threshold) / 0.3 + 0.5, 0.0, 1.0)
    pick = rng.random()
    k = max(2, round(scale * 0.6))
    if pick < 0.2:  # a felt-tip marker
        ink = cv2.dilate(ink, np.ones((k, k), np.uint8))
    elif pick < 0.35 and scale > 1.6:  # a fine ballpoint on a large box
        ink = cv2.erode(ink, np.ones((2, 2), np.uint8))
    return ink


def _pressure(rng: np.random.Generator, size: int) -> np.ndarray:
    """Pen pressure and ballpoint skips: a smooth field of ink strength."""
    low = rng.uniform(0.55, 1.0)
    coarse = rng.uniform(low, 1.0, (3, 3)).astype(np.float32)
    return cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC).clip(0.3, 1.0)


def _dotted_guide(rng: np.random.Generator, size: int) -> np.ndarray:
    """A faint printed dotted '8' (seven segments) that some forms put in each box."""
    guide = np.zeros((size, size), dtype=np.float32)
    x0, x1 = rng.uniform(0.25, 0.35) * size, rng.uniform(0.65, 0.75) * size
    y0, ym, y1 = 0.18 * size, 0.5 * size, 0.82 * size
    segments = [
        ((x0, y0), (x1, y0)), ((x0, ym), (x1, ym)), ((x0, y1), (x1, y1)),
        ((x0, y0), (x0, ym)), ((x1, y0), (x1, ym)), ((x0, ym), (x0, y1)), ((x1, ym), (x1, y1)),
    ]  # fmt: skip
    step = max(2.0, size / 12)
    radius = max(1, round(size / 40))
    for (ax, ay), (bx, by) in segments:
        n = max(2, int(np.hypot(bx - ax, by - ay) / step))
        for t in np.linspace(0, 1, n):
            cv2.circle(
                guide, (round(ax + t * (bx - ax)), round(ay + t * (by - ay))), radius, 1.0, -1
            )
    return guide * rng.uniform(0.08, 0.3)


def _stray_marks(rng: np.random.Generator, size: int, *, blank: bool) -> np.ndarray:
    """Dots, a short faint stroke, a smudge: what an unused box collects. Returns darkness."""
    marks = np.zeros((size, size), dtype=np.float32)
    chance = 0.6 if blank else 0.12
    if rng.random() < chance / 2:  # a pen dot
        centre = tuple(int(v) for v in rng.integers(2, size - 2, 2))
        cv2.circle(marks, centre, int(rng.integers(0, max(1, size // 20) + 1)), 1.0, -1)
        marks *= rng.uniform(0.3, 0.9)
    if rng.random() < chance / 3:  # a short faint stroke, much shorter than a digit
        p = rng.uniform(0.15, 0.85, 2) * size
        q = p + rng.normal(0, 0.08 * size, 2)
        line = np.zeros_like(marks)
        cv2.line(line, tuple(p.astype(int)), tuple(q.astype(int)), 1.0, 1, cv2.LINE_AA)
        marks = np.maximum(marks, line * rng.uniform(0.15, 0.45))
    if rng.random() < chance / 2:  # a smudge
        blob = np.zeros_like(marks)
        centre = tuple(int(v) for v in rng.integers(0, size, 2))
        cv2.circle(blob, centre, int(rng.integers(2, max(3, size // 5))), 1.0, -1)
        blob = cv2.GaussianBlur(blob, (0, 0), rng.uniform(1.5, 4.0))
        marks = np.maximum(marks, blob * rng.uniform(0.05, 0.25))
    return marks


def _border_slivers(reflect: np.ndarray, rng: np.random.Generator, chance: float) -> np.ndarray:
    """Printed box lines along some edges, where the rectified crop is a pixel or two off."""
    size = reflect.shape[0]
    scale = size / 34.0
    for edge in range(4):
        if rng.random() >= chance:
            continue
        thick = max(1, round(rng.uniform(0.6, 2.5) * scale))
        offset = int(rng.integers(0, max(1, round(2 * scale)) + 1))
        dark = rng.uniform(0.5, 0.92)
        tilt = int(rng.integers(-1, 2))
        line = np.zeros((size, size), dtype=np.float32)
        a, b = offset + thick // 2, offset + thick // 2 + tilt
        cv2.line(line, (0, a), (size - 1, b), 1.0, thick)
        line = np.rot90(line, edge)
        # Beyond the printed line lies the next cell's paper; only the line matters.
        reflect = reflect * (1.0 - dark * line)
    return np.ascontiguousarray(reflect)


def _photograph(reflect: np.ndarray, rng: np.random.Generator, p: Profile) -> np.ndarray:
    """Light, shadow, blur, noise and JPEG over a reflectance image; grey uint8 out."""
    size = reflect.shape[0]
    paper = rng.uniform(*p.paper)  # dim room .. bright lamp
    black = rng.uniform(0.03, 0.18) * paper  # glare and flare lift the black
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    theta = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(theta) * xx + np.sin(theta) * yy + 1.0) / 2.0
    light = 1.0 - rng.uniform(0.0, p.gradient) * ramp
    if rng.random() < p.shadow:  # the edge of a shadow (a hand, the boom) crossing the box
        edge = np.cos(theta + 1.3) * (xx - 0.5) + np.sin(theta + 1.3) * (yy - 0.5)
        sharp = rng.uniform(*p.shadow_sharpness)
        light *= 1.0 - rng.uniform(0.1, 0.45) / (1.0 + np.exp(-edge * sharp))
    grey = (black + (paper - black) * reflect) * light
    grey = cv2.GaussianBlur(grey, (0, 0), rng.uniform(*p.blur) * size / 34.0)
    grey += rng.normal(0.0, rng.uniform(*p.noise), grey.shape).astype(np.float32)
    img = np.clip(grey, 0, 255).astype(np.uint8)
    quality = int(rng.integers(p.jpeg[0], p.jpeg[1] + 1))
    ok, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE) if ok else img
