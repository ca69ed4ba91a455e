"""The boom: where the kit's camera sits over the table, and what follows from it.

The kit's camera is a Raspberry Pi Camera Module 3 (Sony IMX708: 4608 x 2592 px, 66 degrees
across on the standard lens, a motorised lens whose position libcamera takes in dioptres).
The boom holds the lens 912 mm above the table, the height the form synthesizer photographs
from (``provisioning.synth.photo.CameraGeometry``): the lens then sees 2 x 912 x tan 33 =
1,184 mm of table across the frame, so the 900 mm long side of the 2024 plano sheet spans
76 % of it at 3.9 px/mm (a 10 mm box is about 39 px), and the 600 mm side 90 % of the
666 mm the frame sees the other way.

Focus is fixed at the table: a lens at distance d metres focuses with 1/d dioptres. The
exposure is fixed at a whole number of the lamp's flicker periods: a lamp on 50 Hz mains
(Indonesia's) flickers at 100 Hz, and a rolling shutter exposed for anything else draws its
flicker as bands across the sheet.

kit.toml's [camera] takes the boom's height and the lens; everything here derives from them.
"""

from __future__ import annotations

import math

SENSOR_PX = (4608, 2592)  # Camera Module 3, full resolution
LENS_HFOV_DEG = 66.0  # Camera Module 3, standard lens (the wide one is 102)
BOOM_HEIGHT_MM = 912.0  # lens above the table
MAINS_HZ = 50  # Indonesia's mains; a lamp flickers at twice this
FLICKER_PERIODS = 2  # 20 ms at 50 Hz: enough light at night without a moving-paper blur


def focus_dioptres(height_mm: float) -> float:
    """The lens position that focuses on the table ``height_mm`` below the lens."""
    return round(1000.0 / height_mm, 3)


def flicker_period_us(mains_hz: int) -> int:
    """One period of a lamp's flicker on ``mains_hz`` mains (it peaks twice a cycle)."""
    return round(1_000_000 / (2 * mains_hz))


def table_view_mm(
    height_mm: float, hfov_deg: float, size_px: tuple[int, int]
) -> tuple[float, float]:
    """How much of the table (width, height in mm) one frame of ``size_px`` sees."""
    across = 2 * height_mm * math.tan(math.radians(hfov_deg) / 2)
    return across, across * size_px[1] / size_px[0]


def sheet_in_frame(
    sheet_mm: tuple[float, float],
    height_mm: float,
    hfov_deg: float,
    size_px: tuple[int, int],
) -> tuple[float, float, float]:
    """(px per mm, share of the frame's width, share of its height) of a sheet laid with its
    long side along the frame's long side."""
    view_w, view_h = table_view_mm(height_mm, hfov_deg, size_px)
    long, short = max(sheet_mm), min(sheet_mm)
    return size_px[0] / view_w, long / view_w, short / view_h
