"""KPU's own printed sheet as the blank page the form synthesizer writes on (benchmarks only).

    python benchmarks/kpu_sheet.py ../shared/data/forms-reference/C.HASIL-PPWP-2024-plano.pdf

``kpu_blank(pdf)`` is a ``blank`` provider for ``synthesize_form``: the reading benchmark can
then photograph KPU's real print of the PPWP form (its typography, tally grids, shading)
instead of ours. Run as a script it checks that the sheet lands where the template says:
every corner mark's (KPU's 2 x 2 checkerboard's) centre and outer edges are measured on the
rasterized page and printed against the template's, in mm.
"""

from __future__ import annotations

import argparse
import ctypes
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from protocol.forms.loader import load_template

MM_PER_POINT = 25.4 / 72
SHEET_MM = (600.0, 900.0)  # the plano sheet, width x height


def kpu_blank(pdf_path: Path) -> Callable[[int, float], np.ndarray]:
    """``blank(page, px_per_mm)``: page ``page`` (1-based) of KPU's PDF as a grey uint8 image
    of round(900 k) x round(600 k) px at exactly k px/mm, white 255; cached per (page, k)."""
    import pypdfium2 as pdfium  # the dev extra only: nothing but this benchmark needs it

    pdf = pdfium.PdfDocument(str(pdf_path), password="")  # RC4, with an empty user password
    for index in range(len(pdf)):
        size = tuple(v * MM_PER_POINT for v in pdf[index].get_size())
        if any(abs(a - b) > 0.1 for a, b in zip(size, SHEET_MM, strict=True)):
            raise ValueError(f"{pdf_path} page {index + 1} is {size} mm, not {SHEET_MM}")
    cache: dict[tuple[int, float], np.ndarray] = {}

    def blank(page: int, px_per_mm: float) -> np.ndarray:
        if (page, px_per_mm) not in cache:
            cache[(page, px_per_mm)] = _rasterize(pdf[page - 1], px_per_mm)
        return cache[(page, px_per_mm)]

    return blank


def _rasterize(page: object, px_per_mm: float) -> np.ndarray:
    """The page at exactly ``px_per_mm``, grey, into an image of the template's rounded size.

    PdfPage.render stretches the page to whole pixels, up to a pixel off the exact scale at the
    far edge; rendering through a matrix keeps the scale exact and needs no resampling. PDFium
    renders into a grey bitmap itself (within one level of BGR converted by luma)."""
    import pypdfium2.raw as raw

    width, height = (round(v * px_per_mm) for v in SHEET_MM)
    bitmap = raw.FPDFBitmap_CreateEx(width, height, raw.FPDFBitmap_Gray, None, 0)
    try:
        raw.FPDFBitmap_FillRect(bitmap, 0, 0, width, height, 0xFFFFFFFF)
        scale = px_per_mm * MM_PER_POINT  # px per PDF point
        matrix = raw.FS_MATRIX(scale, 0, 0, scale, 0, 0)
        clip = raw.FS_RECTF(0, 0, width, height)
        raw.FPDF_RenderPageBitmapWithMatrix(
            bitmap, page, ctypes.byref(matrix), ctypes.byref(clip), raw.FPDF_ANNOT
        )
        stride = raw.FPDFBitmap_GetStride(bitmap)
        buffer = ctypes.cast(
            raw.FPDFBitmap_GetBuffer(bitmap), ctypes.POINTER(ctypes.c_ubyte * (stride * height))
        )
        return np.frombuffer(buffer.contents, np.uint8).reshape(height, stride)[:, :width].copy()
    finally:
        raw.FPDFBitmap_Destroy(bitmap)


def mark_offsets(
    blank: Callable[[int, float], np.ndarray], k: float, form: str = "ppwp-plano"
) -> list:
    """For every corner mark: (page, mark, centre error (dx, dy), edge errors (left, top,
    right, bottom)), in mm, of the rasterized sheet against the template.

    Within the mark's quiet margin only the checkerboard prints, so its darkness, taken
    relative to the cells' own black (KPU's is grey 28, not 0), has its centroid at the mark's
    centre; an outer edge lies as far out from the centre as the darkness summed along the
    middle row or column of its cell, to a fraction of a pixel."""
    template = load_template(form)
    found = []
    for page in template.pages:
        image = blank(page.number, k)
        for index, mark in enumerate(page.marks):
            margin = mark.quiet * 0.8
            x0, y0 = round((mark.x - margin) * k), round((mark.y - margin) * k)
            x1 = round((mark.x + mark.size + margin) * k)
            y1 = round((mark.y + mark.size + margin) * k)
            window = image[y0:y1, x0:x1].astype(np.float64)
            ink = (255 - window) / max(255 - window.min(), 1.0)
            xs, ys = np.arange(x0, x1) + 0.5, np.arange(y0, y1) + 0.5  # pixel i is [i, i + 1)
            area = ink.sum()
            cx, cy = (ink.sum(axis=0) @ xs) / area / k, (ink.sum(axis=1) @ ys) / area / k
            mx, my = mark.centre
            quarter = mark.size / 4
            # The top-left and bottom-right cells are black: rows and columns through them.
            top_row, bottom_row = (round((my + d) * k) - y0 for d in (-quarter, quarter))
            left_col, right_col = (round((mx + d) * k) - x0 for d in (-quarter, quarter))
            left_of, above = xs < mx * k, ys < my * k
            edges = (
                mx - ink[top_row, left_of].sum() / k - mark.x,
                my - ink[above, left_col].sum() / k - mark.y,
                mx + ink[bottom_row, ~left_of].sum() / k - (mark.x + mark.size),
                my + ink[~above, right_col].sum() / k - (mark.y + mark.size),
            )
            found.append((page.number, index, (cx - mx, cy - my), edges))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pdf", type=Path, help="KPU's C.HASIL-PPWP-2024-plano.pdf")
    parser.add_argument(
        "--px-per-mm", type=float, default=10.0, help="scale to rasterize at for the check"
    )
    args = parser.parse_args()
    worst = 0.0
    for page, index, (dx, dy), edges in mark_offsets(kpu_blank(args.pdf), args.px_per_mm):
        worst = max(worst, abs(dx), abs(dy), *(abs(e) for e in edges))
        sides = " ".join(f"{e:+.3f}" for e in edges)
        print(f"page {page} mark {index}: centre {dx:+.3f} {dy:+.3f}, edges l t r b {sides} mm")
    print(f"worst {worst:.3f} mm")


if __name__ == "__main__":
    main()
