"""The sheet's height above the table: a fold crease and a curl, as a folded sheet lies.

KPU's plano sheet (600 x 900 mm) reaches the TPS folded and never lies quite flat under the
boom. Where it was folded a crease stands up as a ridge, or, lying crease down, touches the
table with its flanks lifted; and the sheet curls up at its ends, its long edges or a corner.
``Surface`` is that shape, z(x, y) in mm over the page, and the light it reflects;
``provisioning.synth.photo`` turns it into what the camera sees.

``Surface.draw`` picks from these ranges:

- the crease crosses the long side (85 %) at a third, half or two thirds of it, +-2 % (the
  sheet folded in half or in three to fit KPU's box), or runs along the long side at its middle;
  hand folding leaves it up to 3 degrees off square;
- it stands 1-6 mm high, a ridge (60 %) or a valley, its flanks falling off over 10-30 mm (a
  band 3-8 cm wide), wider where that would be steeper than 0.3 (17 degrees; a deep valley's
  flanks reach up to 55 mm): a crease somebody has pressed flat with a hand, not a sheet
  just unfolded;
- the curl lifts both ends, both long edges or one corner 2-8 mm, rising with constant
  curvature (as a bent sheet does) from 20-45 % of the short side in from the edge;
- the light comes from 10-40 degrees off vertical, from any side: the boom lamp, ceiling
  lights, a window. It changes nothing on a flat sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CREASE_ROUND_MM = 1.5  # a pressed crease is no knife edge: its top rounds over about this
MAX_CREASE_SLOPE = 0.3
CURLS = ("ends", "sides", "tl", "tr", "br", "bl")  # both short edges, both long edges, a corner
CURL_ODDS = (0.35, 0.15, 0.125, 0.125, 0.125, 0.125)


@dataclass(frozen=True)
class Surface:
    """A sheet's shape on the table and the light on it; the default lies flat."""

    crease_mm: float = 0.0  # > 0: a ridge that high; < 0: a valley, its flanks lifted that much
    crease_width_mm: float = 20.0  # how far the flanks reach (the profile's length scale)
    crease_at: float = 0.5  # where the crease crosses, as a fraction of the side it crosses
    crease_lengthwise: bool = False  # False: across the long side; True: along it
    crease_tilt_deg: float = 0.0  # off square
    curl_mm: float = 0.0  # height of the lifted edges or corner
    curl_at: str = "ends"  # one of CURLS
    curl_reach: float = 0.3  # how far in the curl starts, as a fraction of the short side
    light_zenith_deg: float = 25.0  # the light's angle from vertical
    light_azimuth_deg: float = 0.0  # where it comes from: 0 = from +x (right), 90 = from +y

    def __post_init__(self) -> None:
        if self.curl_at not in CURLS:
            raise ValueError(f"curl_at {self.curl_at!r} is none of {CURLS}")

    @classmethod
    def flat(cls) -> Surface:
        return cls()

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Surface:
        """A plausible folded, curled sheet and its light (ranges in the module docstring)."""
        lengthwise = bool(rng.random() < 0.15)
        at = 0.5 if lengthwise else float(rng.choice([1 / 3, 1 / 2, 2 / 3], p=[0.3, 0.4, 0.3]))
        at += float(rng.normal(0.0, 0.02))
        height = float(rng.uniform(1.0, 6.0))
        ridge = bool(rng.random() < 0.6)
        # The valley's flank peaks at e times the slope a ridge of the same width has.
        steepness = height if ridge else height * np.e
        width = max(float(rng.uniform(10.0, 30.0)), steepness / MAX_CREASE_SLOPE)
        return cls(
            crease_mm=height if ridge else -height,
            crease_width_mm=width,
            crease_at=at,
            crease_lengthwise=lengthwise,
            crease_tilt_deg=float(rng.uniform(-3.0, 3.0)),
            curl_mm=float(rng.uniform(2.0, 8.0)),
            curl_at=str(rng.choice(CURLS, p=CURL_ODDS)),
            curl_reach=float(rng.uniform(0.2, 0.45)),
            light_zenith_deg=float(rng.uniform(10.0, 40.0)),
            light_azimuth_deg=float(rng.uniform(0.0, 360.0)),
        )

    @property
    def is_flat(self) -> bool:
        return self.crease_mm == 0 and self.curl_mm == 0

    def height(
        self, x: np.ndarray, y: np.ndarray, size_mm: tuple[float, float]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(z, dz/dx, dz/dy) at page points (mm) of a page ``size_mm`` (width, height).

        Points off the page take the height of the nearest point on its edge."""
        w, h = size_mm
        x, y = np.clip(x, 0.0, w), np.clip(y, 0.0, h)
        z, gx, gy = self._crease(x, y, w, h)
        curl = self._curl(x, y, w, h)
        return z + curl[0], gx + curl[1], gy + curl[2]

    def brightness(self, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
        """Lambert: the cosine between the surface normal and the light, 0 where unlit."""
        zen, azi = np.deg2rad(self.light_zenith_deg), np.deg2rad(self.light_azimuth_deg)
        lx, ly, lz = np.sin(zen) * np.cos(azi), np.sin(zen) * np.sin(azi), np.cos(zen)
        return np.maximum(0.0, (lz - gx * lx - gy * ly) / np.sqrt(1.0 + gx * gx + gy * gy))

    def _crease(
        self, x: np.ndarray, y: np.ndarray, w: float, h: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.crease_mm == 0:
            return np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
        # The crease crosses the long side, or runs along it: its unit normal (nx, ny).
        tilt = np.deg2rad(self.crease_tilt_deg)
        across_y = (h >= w) != self.crease_lengthwise  # the normal lies mostly along y
        if across_y:
            nx, ny, c = -np.sin(tilt), np.cos(tilt), (w / 2, self.crease_at * h)
        else:
            nx, ny, c = np.cos(tilt), -np.sin(tilt), (self.crease_at * w, h / 2)
        d = (x - c[0]) * nx + (y - c[1]) * ny
        r = np.sqrt(d * d + CREASE_ROUND_MM**2)
        rho, drho = (r - CREASE_ROUND_MM) / self.crease_width_mm, d / r / self.crease_width_mm
        a = abs(self.crease_mm)
        if self.crease_mm > 0:  # a tent falling off on both sides
            z = a * np.exp(-rho)
            slope = -z * drho
        else:  # on the table at the crease, the flanks lifted to ``a`` one width out
            fall = np.exp(1.0 - rho)
            z = a * rho * fall
            slope = a * (1.0 - rho) * fall * drho
        return z, slope * nx, slope * ny

    def _curl(
        self, x: np.ndarray, y: np.ndarray, w: float, h: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z, gx, gy = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
        if self.curl_mm == 0:
            return z, gx, gy
        reach = self.curl_reach * min(w, h)
        # Each lift bends about a line: (distance in from the lifted edge or corner, its
        # gradient along x and y).
        ends_on_y = h >= w
        lifts: list[tuple[np.ndarray, float, float]]
        if self.curl_at in ("ends", "sides"):
            on_y = ends_on_y == (self.curl_at == "ends")
            lifts = (
                [(y, 0.0, 1.0), (h - y, 0.0, -1.0)] if on_y else [(x, 1.0, 0.0), (w - x, -1.0, 0.0)]
            )
        else:
            sx = 1.0 if self.curl_at in ("tl", "bl") else -1.0
            sy = 1.0 if self.curl_at in ("tl", "tr") else -1.0
            x0, y0 = (0.0 if sx > 0 else w), (0.0 if sy > 0 else h)
            k = np.sqrt(0.5)
            lifts = [((x - x0) * sx * k + (y - y0) * sy * k, sx * k, sy * k)]
        for s, ds_dx, ds_dy in lifts:
            t = np.maximum(0.0, 1.0 - s / reach)
            z += self.curl_mm * t * t
            slope = -2.0 * self.curl_mm * t / reach
            gx += slope * ds_dx
            gy += slope * ds_dy
        return z, gx, gy
