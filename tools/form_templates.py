# ruff: noqa: E501  (label and narrative strings are kept whole, one printed line per source line)
"""How protocol/forms/templates/*.json were first written: the measured geometry of the
2024 forms, with where each number comes from. A development tool, not shipped.

The JSON files are the source of truth (the kit, the printer and the hub load them; the
schema and geometry tests check them): to change a form, edit its JSON and bump its
version. ``python tools/form_templates.py OUT_DIR`` writes this tool's version of every
template into OUT_DIR, to compare with the shipped files (``diff -r``) after a measurement
here is redone.

Sources of the numbers (mm, origin top-left):
- PPWP plano: KPU's vector PDF C.HASIL-PPWP (600 x 900 mm), read with pdfplumber. Its boxes,
  bubbles, tables, corner marks and tag block are reproduced exactly, and printed as KPU
  prints them: corner marks are 2 x 2 checkerboards of 7.2 mm cells (black top-left and
  bottom-right), digit boxes have 1.06 mm borders (page 2's also a light grey dotted "8" inside),
  a light grey frame (14 % black, 1.2 mm) runs between the marks and a dashed fold line (38 %)
  crosses the top. Its tag block is an AprilTag of family 36h10 (not 36h11) with ids
  101/102/103, printed turned 180 degrees: KPU's own ids, so the kit names a genuine KPU sheet's
  page by them. There is no QR code on KPU's sheet; ours (optional) goes in the empty right
  margin beside the tables.
- PPWP salinan: KPU's A4 scan (Lampiran XVI PKPU 25/2023), measured on its 1610 x 2277 px
  image; the content is scaled by 0.92 about the page centre to make room for the corner marks,
  tag and QR that the real copy lacks.
- Pilkada (C.HASIL-KWK) and the DPRD example: no printed 2024 sheet was available; pages 1 and 3
  are the PPWP ones (FORMS.md section 3: the same sections), page 2 is our layout for 2-6
  options (boxes and bubbles as on PPWP, no tally grid: 600 voters do not fit the PPWP grid).
  The print style is KPU's plano style (an inference: the same printer's 2024 series); the tag
  ids are ours (``assigned_by: project``), since KPU's are not known, so on a KPU sheet the kit
  names the page by its layout.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from protocol.forms.loader import templates_dir

W, H = 600.0, 900.0  # the PPWP plano sheet
BODY = 4.6  # font size (em, mm) of the plano's body text
J = dict[str, Any]


@dataclass(frozen=True)
class Frame:
    """Maps a layout's own mm to page mm (identity on plano, a scale on the salinan)."""

    s: float = 1.0
    ox: float = 0.0
    oy: float = 0.0

    def x(self, v: float) -> float:
        return round(self.ox + v * self.s, 2)

    def y(self, v: float) -> float:
        return round(self.oy + v * self.s, 2)

    def d(self, v: float) -> float:
        return round(v * self.s, 2)


ID = Frame()


# --- primitives --------------------------------------------------------------------------


def text(f: Frame, x: float, y: float, s: str, size: float = BODY, **kw: Any) -> J:
    out: J = {"kind": "text", "x": f.x(x), "y": f.y(y), "text": s, "size": f.d(size)}
    out.update(kw)
    return out


def box(f: Frame, x: float, y: float, w: float, h: float, stroke: float = 0.5, fill: int = 0) -> J:
    out: J = {"kind": "box", "x": f.x(x), "y": f.y(y), "w": f.d(w), "h": f.d(h)}
    out["stroke"] = round(max(stroke * f.s, 0.1), 2)
    if fill:
        out["fill"] = fill
    return out


def line(f: Frame, x1: float, y1: float, x2: float, y2: float, dotted: bool = False) -> J:
    out: J = {"kind": "line", "x1": f.x(x1), "y1": f.y(y1), "x2": f.x(x2), "y2": f.y(y2)}
    out["stroke"] = round(0.35 * f.s, 2)
    if dotted:
        out["dotted"] = True
    return out


def grid(
    f: Frame, x: float, y: float, cols: list[float], rows: list[float], stroke: float = 0.3
) -> J:
    return {
        "kind": "grid",
        "x": f.x(x),
        "y": f.y(y),
        "cols": [f.d(c) for c in cols],
        "rows": [f.d(r) for r in rows],
        "stroke": round(stroke * f.s, 2),
    }


def rect(f: Frame, x: float, y: float, w: float, h: float) -> J:
    return {"x": f.x(x), "y": f.y(y), "w": f.d(w), "h": f.d(h)}


def field(
    f: Frame,
    fid: str,
    label: str,
    xs: list[float],
    y: float,
    w: float,
    h: float,
    alias: str | None = None,
    bubbles: tuple[float, float, float] | None = None,
) -> J:
    """A 3-box number; ``bubbles`` = (cy0, pitch, r) puts a column 0-9 under every box."""
    out: J = {"id": fid, "label": label, "digits": len(xs)}
    if alias:
        out["alias"] = alias
    out["boxes"] = [rect(f, x, y, w, h) for x in xs]
    if bubbles:
        cy0, pitch, r = bubbles
        out["bubbles"] = [
            {"cx": f.x(x + w / 2), "cy0": f.y(cy0), "pitch": f.d(pitch), "r": f.d(r)} for x in xs
        ]
    return out


# --- page furniture (marks, tag block, QR) ------------------------------------------------


# A page tag: (family, id, rotation, assigned_by).
TagSpec = tuple[str, int, int, str]
KPU_BOX_STROKE = 1.06  # measured on KPU's plano PDF: every digit box's border


def plano_furniture(number: int, count: int, code: str, tag: TagSpec, guides: str = "none") -> J:
    family, tag_id, rotation, assigned_by = tag
    marks = [(40.0, 57.8), (545.6, 57.8), (545.6, 867.8), (40.0, 867.8)]
    return {
        "number": number,
        "width": W,
        "height": H,
        "marks": [
            {"x": x, "y": y, "size": 14.4, "quiet": 5.0, "pattern": "checker"} for x, y in marks
        ],
        "tag": {
            "family": family,
            "id": tag_id,
            "x": 494.1,
            "y": 107.3,
            "size": 32.0,
            "rotation": rotation,
            "quiet": 2.5,
            "assigned_by": assigned_by,
        },
        # Between the tables (to x 527) and KPU's frame line (from x 559.2).
        "qr": {"x": 532.0, "y": 150.0, "size": 22.0, "quiet": 4.0},
        "box_style": {"stroke": KPU_BOX_STROKE, "guides": guides},
        "page_label": text(
            ID, 505.0, 104.9, f"Halaman {number} dari {count}", 4.7, bold=True, align="centre"
        ),
        "decor": [
            box(ID, 483.0, 78.1, 44.0, 20.0, 0.71),
            text(ID, 505.0, 86.9, "MODEL", 4.7, bold=True, align="centre"),
            text(ID, 505.0, 92.8, code, 4.7, bold=True, align="centre"),
            text(ID, 490.0, 123.3, str(tag_id), 4.2, align="centre", rotate=90),
            text(ID, 40.0, 893.0, f"{code} - Halaman {number} dari {count}", 3.0),
            text(ID, 527.0, 864.0, "*) Coret yang tidak perlu", 3.2, align="right"),
            *kpu_frame(),
        ],
    }


def kpu_frame() -> list[J]:
    """KPU's light grey frame between the corner marks and the dashed fold line above it."""
    grey = {"stroke": 1.2, "grey": 14}
    return [
        {"kind": "line", "x1": 60.5, "y1": 57.0, "x2": 539.1, "y2": 57.0, **grey},
        {"kind": "line", "x1": 60.5, "y1": 882.0, "x2": 539.1, "y2": 882.0, **grey},
        {"kind": "line", "x1": 39.9, "y1": 80.5, "x2": 39.9, "y2": 859.1, **grey},
        {"kind": "line", "x1": 559.8, "y1": 80.5, "x2": 559.8, "y2": 859.1, **grey},
        {
            "kind": "line",
            "x1": 40.0,
            "y1": 49.85,
            "x2": 560.0,
            "y2": 49.85,
            "stroke": 0.5,
            "dashed": True,
            "grey": 38,
        },
    ]


def logo(f: Frame, cx: float, cy: float, r: float) -> list[J]:
    # A plain stand-in for KPU's emblem: the kit does not read it.
    return [
        {
            "kind": "circle",
            "cx": f.x(cx),
            "cy": f.y(cy),
            "r": f.d(r),
            "stroke": round(0.5 * f.s, 2),
        },
        text(f, cx, cy + r * 0.3, "KPU", r * 0.8, bold=True, align="centre"),
    ]


def location_rows(
    f: Frame, y: float, xl: float, xr: float, colon_l: float, colon_r: float
) -> list[J]:
    """Provinsi / Kabupaten / Kecamatan / Kelurahan / Nomor TPS write-in lines."""
    out: list[J] = []
    left = [("Provinsi", 0), ("Kabupaten / Kota", 12)]
    right = [("Kecamatan", 0), ("Kelurahan / Desa *)", 12), ("Nomor TPS", 24)]
    for label, dy in left:
        out += [text(f, xl, y + dy, label, BODY, bold=True), text(f, colon_l, y + dy, ":", BODY)]
        out.append(line(f, colon_l + 4, y + dy + 1, colon_l + 104, y + dy + 1, dotted=True))
    for label, dy in right:
        out += [text(f, xr, y + dy, label, BODY, bold=True), text(f, colon_r, y + dy, ":", BODY)]
        out.append(line(f, colon_r + 4, y + dy + 1, colon_r + 104, y + dy + 1, dotted=True))
    return out


def signatures(f: Frame, y0: float, kpps_h: float, saksi: list[str], saksi_h: float) -> list[J]:
    """Signature block: KPPS 1-7, then one column per witness."""
    total = 10.4 + kpps_h + 9.7 + saksi_h
    out = [
        box(f, 70, y0, 460, total, 1.06),
        box(f, 70, y0, 460, 10.4, 0.35),
        text(
            f,
            300,
            y0 + 7,
            "NAMA DAN TANDA TANGAN KELOMPOK PENYELENGGARA PEMUNGUTAN SUARA",
            3.8,
            bold=True,
            align="centre",
        ),
        grid(f, 70, y0 + 10.4, [460 / 7] * 7, [kpps_h], 0.35),
    ]
    for i in range(7):
        x = 70 + i * 460 / 7
        out.append(text(f, x + 3, y0 + 22, f"{i + 1}.", 5.5, bold=True))
        out.append(
            line(f, x + 8, y0 + 10.4 + kpps_h - 4, x + 58, y0 + 10.4 + kpps_h - 4, dotted=True)
        )
    ys = y0 + 10.4 + kpps_h
    out += [
        box(f, 70, ys, 460, 9.7, 0.35),
        text(
            f,
            300,
            ys + 6.8,
            "NAMA DAN TANDA TANGAN SAKSI PASANGAN CALON",
            3.8,
            bold=True,
            align="centre",
        ),
    ]
    w = 460 / len(saksi)
    out.append(grid(f, 70, ys + 9.7, [w] * len(saksi), [saksi_h], 0.5))
    for i, name in enumerate(saksi):
        x = 70 + i * w
        out.append(text(f, x + 3, ys + 22, f"{i + 1}.", 7.0, bold=True))
        out.append(text(f, x + 13, ys + 19, name, 3.8, bold=True))
        out.append(
            line(
                f,
                x + w * 0.2,
                ys + 9.7 + saksi_h - 6,
                x + w * 0.8,
                ys + 9.7 + saksi_h - 6,
                dotted=True,
            )
        )
    return out


def section_title(f: Frame, y: float, number: str, title: str, size: float = 6.5) -> list[J]:
    return [text(f, 75, y, number, size, bold=True), text(f, 89, y, title, size, bold=True)]


# --- page 1: sections I, II, III (PPWP and Pilkada) ---------------------------------------

L_X = [307.5, 330.5, 353.5]
P_X = [382.5, 405.5, 428.5]
J_X = [457.5, 480.5, 503.5]
SPLIT = (("L", L_X, "l"), ("P", P_X, "p"), ("JML", J_X, "j"))

ROWS_I = [
    ("I.A", "Jumlah Pemilih dalam Daftar Pemilih Tetap (DPT)", "pemilih_dpt", 386.4),
    (
        "I.B.1",
        "1. Jumlah pengguna hak pilih dalam Daftar Pemilih Tetap (DPT)",
        "pengguna_dpt",
        429.4,
    ),
    (
        "I.B.2",
        "2. Jumlah pengguna hak pilih dalam Daftar Pemilih Tambahan (DPTb)",
        "pengguna_dptb",
        452.4,
    ),
    (
        "I.B.3",
        "3. Jumlah pengguna hak pilih dalam Daftar Pemilih Khusus (DPK)",
        "pengguna_non_dpt",
        475.4,
    ),
    ("I.B.4", "4. Jumlah Pengguna Hak Pilih (B.1 + B.2 + B.3)", "pengguna_total", 498.4),
]


def rows_ii(reserve: str) -> list[tuple[str, str, str, float]]:
    return [
        (
            "II.1",
            f"1. Jumlah surat suara yang diterima, termasuk surat suara cadangan {reserve} dari DPT",
            "surat_diterima",
            571.5,
        ),
        ("II.2", "2. Jumlah surat suara yang digunakan", "surat_digunakan", 594.5),
        (
            "II.3",
            "3. Jumlah surat suara yang dikembalikan oleh pemilih (karena rusak atau keliru coblos)",
            "surat_dikembalikan",
            617.5,
        ),
        (
            "II.4",
            "4. Jumlah surat suara yang tidak digunakan/tidak terpakai, termasuk sisa surat suara cadangan",
            "surat_tidak_digunakan",
            640.5,
        ),
    ]


def split_fields(fid: str, label: str, alias: str, y: float) -> list[J]:
    return [
        field(ID, f"{fid}.{col}", f"{label} ({col})", xs, y, 18.0, 18.0, alias=f"{alias}_{sfx}")
        for col, xs, sfx in SPLIT
    ]


def split_header(y: float, label_w: float = 229.0) -> list[J]:
    cols = [
        ("URAIAN", 73 + label_w / 2),
        ("LAKI-LAKI (L)", 339.5),
        ("PEREMPUAN (P)", 414.5),
        ("JUMLAH (L+P)", 489.5),
    ]
    out = [grid(ID, 73, y, [label_w, 75, 75, 75], [15, 7.5], 0.53)]
    for i, (label, cx) in enumerate(cols):
        out.append(text(ID, cx, y + 9.5, label, 3.8, bold=True, align="centre"))
        out.append(text(ID, cx, y + 13.7, f"({i + 1})", 3.2, align="centre"))
    return out


def page1(title: list[str], reserve: str, code: str, count: int, tag: TagSpec) -> J:
    page = plano_furniture(1, count, code, tag)
    d: list[J] = page["decor"]
    d += logo(ID, 90.3, 99.3, 7.0)
    for (s, size), base in zip(title, (97.0, 105.1, 114.8, 125.0, 133.9), strict=False):
        d.append(text(ID, 300, base, s, size, bold=True, align="centre"))
    narrative = [
        (
            169.5,
            "Pada hari ini .................. tanggal .......................... bulan ....................... tahun ......................................................",
        ),
        (
            180.9,
            "Kelompok Penyelenggara Pemungutan Suara (KPPS) mengadakan Rapat Pemungutan dan Penghitungan Suara, yang dihadiri oleh Saksi",
        ),
        (192.3, "dan/atau Panwaslu Kelurahan/Desa / Pengawas TPS, bertempat di:"),
        (
            257.5,
            "Pemungutan dan Penghitungan Suara dipimpin oleh Ketua KPPS dengan kegiatan membuka Rapat Pemungutan Suara, membuka kotak suara",
        ),
        (
            268.9,
            "dan mengeluarkan seluruh isi kotak suara, mengidentifikasi dan menghitung jenis serta jumlah dokumen dan peralatan pemungutan",
        ),
        (
            280.8,
            "dan penghitungan suara, memeriksa dan menandatangani surat suara, dimulai pada pukul ..... : ..... s.d. ..... : ..... waktu setempat.",
        ),
        (
            292.2,
            "Selanjutnya Rapat Penghitungan Suara dimulai pukul ..... : ..... s.d. ..... : ..... waktu setempat. Adapun data pemilih dan pengguna",
        ),
        (
            303.7,
            "hak pilih, penggunaan surat suara, dan hasil penghitungan suara terinci sebagai berikut:",
        ),
    ]
    d += [text(ID, 100, y, s, BODY) for y, s in narrative]
    d += location_rows(ID, 210.0, 100.0, 251.0, 124.6, 319.7)
    fields: list[J] = []
    # I. DATA PEMILIH DAN PENGGUNA HAK PILIH
    d += section_title(ID, 338.4, "I.", "DATA PEMILIH DAN PENGGUNA HAK PILIH")
    d += [box(ID, 73, 343.9, 454, 177.5, 0.88), *split_header(343.9)]
    d += [
        box(ID, 73, 366.4, 454, 15, 0.53),
        text(ID, 77, 376.5, "A.", BODY, bold=True),
        text(ID, 96, 376.5, "DATA PEMILIH", BODY, bold=True),
    ]
    d += [grid(ID, 91.3, 381.4, [210.7, 75, 75, 75], [28.0], 0.53)]
    d += [
        text(ID, 96, 393.5, ROWS_I[0][1], BODY),
        text(ID, 96, 400.5, "(Terdapat dalam Model A-Kabko Daftar Pemilih)", 4.0),
    ]
    d += [
        box(ID, 73, 409.4, 454, 15, 0.53),
        text(ID, 77, 419.5, "B.", BODY, bold=True),
        text(ID, 96, 419.5, "PENGGUNA HAK PILIH", BODY, bold=True),
    ]
    d += [grid(ID, 91.3, 424.4, [210.7, 75, 75, 75], [25.5, 23.0, 23.0, 25.5], 0.53)]
    for fid, label, alias, y in ROWS_I:
        if fid != "I.A":
            d.append(text(ID, 96, y + 10.5, label, BODY, bold=fid == "I.B.4"))
        fields += split_fields(fid, label, alias, y)
    # II. DATA PENGGUNAAN SURAT SUARA
    d += section_title(ID, 538.5, "II.", "DATA PENGGUNAAN SURAT SUARA")
    d += [
        box(ID, 73, 544.0, 454, 119.5, 0.88),
        grid(ID, 73, 544.0, [379, 75], [15, 7.5, 25.5, 23, 23, 25.5], 0.53),
    ]
    d += [
        text(ID, 262.5, 553.5, "URAIAN", 3.8, bold=True, align="centre"),
        text(ID, 489.5, 553.5, "JUMLAH", 3.8, bold=True, align="centre"),
    ]
    d += [
        text(ID, 262.5, 564.0, "(1)", 3.2, align="centre"),
        text(ID, 489.5, 564.0, "(2)", 3.2, align="centre"),
    ]
    for fid, label, alias, y in rows_ii(reserve):
        d.append(text(ID, 78, y + 10.5, label, BODY))
        fields.append(field(ID, fid, label, J_X, y, 18.0, 18.0, alias=alias))
    # III. DATA PEMILIH DISABILITAS
    d += section_title(ID, 677.5, "III.", "DATA PEMILIH DISABILITAS")
    d += [
        box(ID, 73, 683.2, 454, 49.9, 0.88),
        *split_header(683.2),
        grid(ID, 73, 705.7, [229, 75, 75, 75], [27.4], 0.53),
    ]
    label = "Jumlah seluruh Pemilih disabilitas yang menggunakan hak pilih"
    d.append(text(ID, 78, 721.0, label, BODY))
    fields += split_fields("III", label, "pemilih_disabilitas", 710.5)
    page["fields"] = fields
    return page


# --- page 3: section V (PPWP and Pilkada) ------------------------------------------------


def total_row(
    y: float, letter: str, lines: list[str], fid: str, alias: str, label: str
) -> tuple[list[J], J]:
    d = [
        box(ID, 73, y, 15, 36, 0.88),
        box(ID, 88, y, 93, 36, 0.88),
        box(ID, 181, y, 269, 36, 0.88),
        box(ID, 450, y, 77, 36, 0.88),
        text(ID, 80.5, y + 20, f"{letter}.", BODY, bold=True, align="centre"),
        text(ID, 445, y + 32, "(ditulis menggunakan huruf kapital)", 3.0, align="right"),
    ]
    top = y + 18 - 3.2 * len(lines)
    d += [
        text(ID, 134.5, top + 6.4 * (i + 1), s, BODY, bold=True, align="centre")
        for i, s in enumerate(lines)
    ]
    return d, field(ID, fid, label, [455.0, 478.5, 502.0], y + 8.0, 20.0, 20.0, alias=alias)


def tally(y: float, header: str, rows: int, row_h: float) -> list[J]:
    """The 12 x 5 tally grid with its JUMLAH TIAP BARIS column: decoration, never read."""
    cw = 235 / 12
    d = [
        box(ID, 181, y, 235, 20, 0.88),
        text(ID, 298.5, y + 8.5, header, 3.8, bold=True, align="centre"),
        grid(ID, 181, y + 13, [cw] * 12, [7.0], 0.35),
        grid(ID, 181, y + 20, [cw] * 12, [row_h] * rows, 0.3),
        box(ID, 416, y, 34, 20, 0.88),
        text(ID, 433, y + 8.5, "JUMLAH", 3.4, bold=True, align="centre"),
        text(ID, 433, y + 13, "TIAP BARIS", 3.4, bold=True, align="centre"),
        grid(ID, 421, y + 20, [12, 12], [row_h] * rows, 0.3),
        box(ID, 416, y + 20, 34, row_h * rows, 0.88),
    ]
    d += [
        text(ID, 181 + cw * (i + 0.5), y + 18.3, str(i + 1), 3.0, align="centre") for i in range(12)
    ]
    return d


def page3(count: int, number: int, code: str, tag: TagSpec, sum_label: str, saksi: list[str]) -> J:
    page = plano_furniture(number, count, code, tag)
    d: list[J] = page["decor"]
    d += logo(ID, 84.0, 93.0, 5.0) + location_rows(ID, 88.5, 106.0, 283.8, 157.6, 352.5)
    d += section_title(ID, 138.9, "V.", "DATA SUARA SAH DAN SUARA TIDAK SAH")
    fields: list[J] = []
    dd, fa = total_row(
        158.0,
        "A",
        ["JUMLAH SELURUH", "SUARA SAH", f"( {sum_label} )"],
        "V.A",
        "suara_sah",
        "JUMLAH SELURUH SUARA SAH",
    )
    d += dd
    fields.append(fa)
    # B: invalid votes, with its own tally grid
    d += [
        box(ID, 73, 209, 15, 82.3, 0.88),
        box(ID, 88, 209, 93, 82.3, 0.88),
        text(ID, 80.5, 252, "B.", BODY, bold=True, align="centre"),
        text(ID, 134.5, 248, "JUMLAH SUARA", 5.5, bold=True, align="centre"),
        text(ID, 134.5, 255, "TIDAK SAH", 5.5, bold=True, align="centre"),
        *tally(209.0, "RINCIAN PEROLEHAN SUARA TIDAK SAH", 5, 12.46),
        box(ID, 450, 209, 77, 20, 0.88),
        box(ID, 450, 229, 77, 62.3, 0.88),
        text(ID, 488.5, 221, "JUMLAH SUARA TIDAK SAH", 3.4, bold=True, align="centre"),
        text(ID, 488.5, 286, "(ditulis menggunakan huruf kapital)", 3.0, align="centre"),
    ]
    fields.append(
        field(
            ID,
            "V.B",
            "JUMLAH SUARA TIDAK SAH",
            [455.0, 478.5, 502.0],
            237.2,
            20.0,
            20.0,
            alias="suara_tidak_sah",
        )
    )
    dd, fc = total_row(
        304.0,
        "C",
        ["JUMLAH SELURUH", "SUARA SAH DAN", "SUARA TIDAK SAH", "( V.A + V.B )"],
        "V.C",
        "suara_total",
        "JUMLAH SELURUH SUARA SAH DAN SUARA TIDAK SAH",
    )
    d += dd
    fields.append(fc)
    # DITETAPKAN DI ... TANGGAL [2] BULAN [2] TAHUN [4]: printed, not read by the kit
    d += [
        text(ID, 130, 369.5, "DITETAPKAN DI :", 5.5, bold=True),
        line(ID, 190, 370, 262, 370, dotted=True),
    ]
    for label, xs, right in (
        ("TANGGAL :", [322.0, 338.0], 320.0),
        ("BULAN :", [392.4, 408.4], 390.4),
        ("TAHUN :", [463.0, 479.0, 495.0, 511.0], 461.0),
    ):
        d.append(text(ID, right, 369.5, label, 5.5, bold=True, align="right"))
        d += [box(ID, x, 358.5, 16.0, 16.0, 0.71) for x in xs]
    d += signatures(ID, 412.5, 34.6, saksi, 81.5)
    page["fields"] = fields
    return page


# --- PPWP page 2: three pairs with tally grids, boxes and bubbles ------------------------


def ppwp_page2(tag: TagSpec) -> J:
    page = plano_furniture(2, 3, "C.HASIL-PPWP", tag, guides="dots")
    d: list[J] = page["decor"]
    d += logo(ID, 84.0, 93.0, 5.0) + location_rows(ID, 88.5, 106.0, 283.8, 157.6, 352.5)
    d += section_title(
        ID, 138.9, "IV.", "DATA RINCIAN PEROLEHAN SUARA PASANGAN CALON PRESIDEN DAN WAKIL PRESIDEN"
    )
    d += [
        box(ID, 73, 158, 108, 20, 0.88),
        text(ID, 127, 166, "NOMOR DAN NAMA", 3.4, bold=True, align="centre"),
        text(ID, 127, 171, "PASANGAN CALON", 3.4, bold=True, align="centre"),
        box(ID, 450, 158, 77, 20, 0.88),
        text(ID, 488.5, 169.5, "JUMLAH SUARA SAH", 3.4, bold=True, align="centre"),
    ]
    fields: list[J] = []
    for k in range(3):
        top = 178.0 + 152.0 * k
        d += block_ppwp(top, k + 1, header=k == 0)
        fields.append(
            field(
                ID,
                f"IV.{k + 1}",
                f"JUMLAH SUARA SAH PASANGAN CALON NOMOR URUT {k + 1}",
                [455.0, 478.5, 502.0],
                top + 6.6,
                20.0,
                20.0,
                bubbles=(top + 36.1, 10.5, 4.0),
            )
        )
    d += signatures(ID, 744.0, 34.6, ["NAMA CALON PRESIDEN"] * 3, 57.9)
    page["fields"] = fields
    return page


def block_ppwp(top: float, n: int, header: bool) -> list[J]:
    d = (
        tally(top - 20, "RINCIAN PEROLEHAN SUARA SAH", 5, 16.0)
        if header
        else [
            grid(ID, 181, top, [235 / 12] * 12, [16.0] * 5, 0.3),
            grid(ID, 421, top, [12, 12], [16.0] * 5, 0.3),
            box(ID, 416, top, 34, 80, 0.88),
        ]
    )
    d += [
        box(ID, 73, top, 108, 80, 0.88),
        text(ID, 127, top + 17, str(n), 12.0, bold=True, align="centre"),
        text(ID, 127, top + 33, "NAMA CALON PRESIDEN", BODY, bold=True, align="centre"),
        text(ID, 127, top + 39.5, "NAMA CALON WAKIL PRESIDEN", BODY, bold=True, align="centre"),
        box(ID, 73, top + 80, 377, 62, 0.88),
        box(ID, 450, top, 77, 142, 0.88),
        text(ID, 185, top + 134, "( ditulis menggunakan huruf kapital )", 3.0),
        *instruction(445.0, top + 108.0),
        box(ID, 73, top + 142, 454, 10, 1.06),
    ]
    return d


def instruction(right: float, y: float) -> list[J]:
    """'Hitamkan bulatan ini...' with an empty and a filled example bubble."""
    return [
        text(ID, right, y, "Hitamkan bulatan ini sesuai dengan", 4.0, align="right"),
        text(ID, right - 10, y + 5.5, "isian angka pada kotak", 4.0, align="right"),
        {"kind": "circle", "cx": right - 53.3, "cy": y + 12.9, "r": 4.0, "stroke": 0.35},
        text(ID, right - 53.3, y + 14.3, "0", 3.8, align="centre"),
        line(ID, right - 47.5, y + 12.9, right - 43.5, y + 12.9),
        {
            "kind": "circle",
            "cx": right - 35.3,
            "cy": y + 12.9,
            "r": 4.0,
            "stroke": 0.35,
            "fill": 90,
        },
    ]


# --- Pilkada page 2: 2-6 options, boxes and bubbles, no tally grid -----------------------


def pilkada_page2(options: list[J], tag: TagSpec, code: str) -> J:
    page = plano_furniture(2, 3, code, tag, guides="dots")
    d: list[J] = page["decor"]
    d += logo(ID, 84.0, 93.0, 5.0) + location_rows(ID, 88.5, 106.0, 283.8, 157.6, 352.5)
    d += section_title(ID, 138.9, "IV.", "DATA PEROLEHAN SUARA PASANGAN CALON")
    fields: list[J] = []
    bw, bh = 454 / 3, 180.0
    for i, opt in enumerate(options):
        x0, y0 = 73 + bw * (i % 3), 158.0 + (bh + 8) * (i // 3)
        d += [
            box(ID, x0, y0, bw, bh, 0.88),
            box(ID, x0, y0, bw, 30, 0.53),
            text(ID, x0 + bw / 2, y0 + 12, str(opt["number"]), 9.0, bold=True, align="centre"),
            text(ID, x0 + bw / 2, y0 + 22, opt["label"], BODY, bold=True, align="centre"),
            text(ID, x0 + bw / 2, y0 + 37, "JUMLAH SUARA SAH", 3.6, bold=True, align="centre"),
            line(ID, x0 + 8, y0 + 172, x0 + bw - 8, y0 + 172, dotted=True),
            text(
                ID,
                x0 + bw / 2,
                y0 + 177,
                "( ditulis menggunakan huruf kapital )",
                3.0,
                align="centre",
            ),
        ]
        xs = [x0 + bw / 2 - 33.5, x0 + bw / 2 - 10.0, x0 + bw / 2 + 13.5]
        fields.append(
            field(
                ID,
                opt["field"],
                f"JUMLAH SUARA SAH {opt['label']} (NOMOR URUT {opt['number']})",
                [round(x, 2) for x in xs],
                y0 + 41.0,
                20.0,
                20.0,
                bubbles=(y0 + 70.5, 10.5, 4.0),
            )
        )
    d += instruction(527.0, 158.0 + (bh + 8) * ((len(options) + 2) // 3) + 6)
    saksi = [o["label"] for o in options if not o.get("kolom_kosong")]
    d += signatures(ID, 744.0, 34.6, saksi, 57.9)
    page["fields"] = fields
    return page


# --- rules --------------------------------------------------------------------------------


def admin_rules(reserve: str) -> list[J]:
    rules: list[J] = []
    for row in ("I.A", "I.B.1", "I.B.2", "I.B.3", "I.B.4", "III"):
        rules.append(
            {
                "id": f"{row}.sum",
                "description": f"{row}: L + P = JML",
                "expr": f"{row}.L + {row}.P = {row}.JML",
            }
        )
    for col in ("L", "P", "JML"):
        rules.append(
            {
                "id": f"I.B.4.{col}.sum",
                "description": f"users = DPT + DPTb + DPK users ({col})",
                "eq": [f"I.B.4.{col}", [f"I.B.1.{col}", f"I.B.2.{col}", f"I.B.3.{col}"]],
            }
        )
    for col in ("L", "P", "JML"):
        rules.append(
            {
                "id": f"I.B.1.{col}.le",
                "description": f"DPT users cannot exceed the DPT ({col})",
                "le": [f"I.B.1.{col}", f"I.A.{col}"],
            }
        )
    rules += [
        {
            "id": "II.1.sum",
            "description": f"ballots received (with {reserve} reserve) = used + returned + unused",
            "eq": ["II.1", ["II.2", "II.3", "II.4"]],
        },
        {
            "id": "II.2.users",
            "description": "ballots used = voters who voted",
            "eq": ["II.2", "I.B.4.JML"],
        },
        {
            "id": "II.3.le",
            "description": "ballots returned cannot exceed ballots received",
            "le": ["II.3", "II.1"],
        },
        {
            "id": "II.4.le",
            "description": "ballots unused cannot exceed ballots received",
            "le": ["II.4", "II.1"],
        },
        {
            "id": "III.le",
            "description": "voters with disabilities who voted cannot exceed all who voted",
            "le": ["III.JML", "I.B.4.JML"],
        },
    ]
    return rules


def vote_rules(option_fields: list[str]) -> list[J]:
    return [
        {
            "id": "V.A.sum",
            "description": "total valid votes = sum of the options' votes",
            "eq": ["V.A", option_fields],
        },
        {
            "id": "V.C.sum",
            "description": "total votes = valid + invalid",
            "expr": "V.C = V.A + V.B",
        },
        {"id": "V.C.used", "description": "total votes = ballots used", "eq": ["V.C", "II.2"]},
        {
            "id": "cap",
            "description": "no count exceeds the TPS size plus its reserve ballots",
            "cap": "*",
        },
    ]


# --- templates ---------------------------------------------------------------------------


# Bumped whenever a template's content changes (ids not listed are at version 2).
# 2 (all): the print described as data (mark pattern, box style, who assigned the tag id), and
# KPU's frame and fold line on plano pages.
# ppwp-salinan 2: section II boxes inside the table's rows; QR clear of the tables; section III
# header labelled. 3: as every template's 2.
VERSIONS = {"ppwp-salinan": 3}


def template(
    tid: str,
    title: str,
    description: str,
    kind: str,
    contest: str,
    sheet: str,
    pages: list[J],
    rules: list[J],
    options: list[J],
    voters: int,
    reserve: int,
    example: bool = False,
) -> J:
    out: J = {
        "format": "tps-form-template/1",
        "id": tid,
        "version": VERSIONS.get(tid, 2),
        "title": title,
        "description": description,
        "election_kind": kind,
        "contest": contest,
        "sheet": sheet,
    }
    if example:
        out["example"] = True
    out.update(
        page_count=len(pages),
        max_voters=voters,
        reserve_permille=reserve,
        options=options,
        pages=pages,
        rules=rules,
    )
    return out


PPWP_TITLE = [
    ("BERITA ACARA, SERTIFIKAT DAN CATATAN HASIL PENGHITUNGAN PEROLEHAN SUARA", 7.2),
    ("DI TEMPAT PEMUNGUTAN SUARA DALAM PEMILIHAN UMUM", 7.0),
    ("PRESIDEN DAN WAKIL PRESIDEN", 8.2),
    ("REPUBLIK INDONESIA", 8.2),
    ("TAHUN 2024", 7.0),
]


def ppwp_plano() -> J:
    tags = [("apriltag_36h10", 100 + p, 180, "kpu") for p in (1, 2, 3)]
    options = [{"number": n, "label": f"PASANGAN CALON {n}", "field": f"IV.{n}"} for n in (1, 2, 3)]
    pages = [
        page1(PPWP_TITLE, "2%", "C.HASIL-PPWP", 3, tags[0]),
        ppwp_page2(tags[1]),
        page3(3, 3, "C.HASIL-PPWP", tags[2], "IV.1 + IV.2 + IV.3", ["NAMA CALON PRESIDEN"] * 3),
    ]
    return template(
        "ppwp-plano",
        "MODEL C.HASIL-PPWP",
        "2024 presidential tally form, plano 600 x 900 mm, 3 pages (KPU PKPU 25/2023)",
        "pemilu",
        "ppwp",
        "plano",
        pages,
        admin_rules("2%") + vote_rules(["IV.1", "IV.2", "IV.3"]),
        options,
        300,
        20,
    )


def pilkada(contest: str, n: int, kk: int | None) -> J:
    """Governor (pkwkp) or regent/mayor (pkwkk) with ``n`` options; ``kk`` = kolom kosong's number."""
    office = (
        "GUBERNUR DAN WAKIL GUBERNUR"
        if contest == "pkwkp"
        else "BUPATI DAN WAKIL BUPATI/WALIKOTA DAN WAKIL WALIKOTA *)"
    )
    base = 200 if contest == "pkwkp" else 300
    slot = n if kk is None else 6 + kk  # tag ids: base + 10 * slot + page
    tags = [("apriltag_36h11", base + 10 * slot + p, 0, "project") for p in (1, 2, 3)]
    options = []
    for i in range(1, n + 1):
        opt: J = {"number": i, "label": f"PASANGAN CALON {i}", "field": f"IV.{i}"}
        if kk == i:
            opt = {"number": i, "label": "KOLOM KOSONG", "field": f"IV.{i}", "kolom_kosong": True}
        options.append(opt)
    code = "C.HASIL-KWK"
    title = [
        ("BERITA ACARA, SERTIFIKAT DAN CATATAN HASIL PENGHITUNGAN PEROLEHAN SUARA", 7.2),
        ("DI TEMPAT PEMUNGUTAN SUARA DALAM PEMILIHAN", 7.0),
        (office, 8.2 if contest == "pkwkp" else 6.6),
        ("TAHUN 2024", 7.0),
    ]
    ids = [o["field"] for o in options]
    pages = [
        page1(title, "2,5%", code, 3, tags[0]),
        pilkada_page2(options, tags[1], code),
        page3(
            3,
            3,
            code,
            tags[2],
            " + ".join(ids),
            [o["label"] for o in options if not o.get("kolom_kosong")],
        ),
    ]
    what = "governor" if contest == "pkwkp" else "regent/mayor"
    suffix = f"{n}" if kk is None else f"kk{kk}"
    desc = f"Pilkada 2024 {what} tally form, {n} options" + (
        f", KOLOM KOSONG as option {kk} (single candidate)" if kk else ""
    )
    return template(
        f"{contest}-{suffix}",
        f"MODEL {code}",
        desc,
        "pilkada",
        contest,
        "plano",
        pages,
        admin_rules("2,5%") + vote_rules(ids),
        options,
        600,
        25,
    )


def dprd_example() -> J:
    """Two pages of parties x candidates: shows the schema fits legislative forms."""
    parties = {1: "PARTAI A", 2: "PARTAI B", 3: "PARTAI C", 4: "PARTAI D"}
    pages, rules = [], []
    for number, chunk in ((1, [1, 2]), (2, [3, 4])):
        page = plano_furniture(
            number, 2, "C.HASIL-DPRD KAB/KOTA", ("apriltag_36h11", 500 + number, 0, "project")
        )
        d: list[J] = page["decor"]
        d += section_title(
            ID,
            150,
            "IV.",
            "DATA PEROLEHAN SUARA PARTAI POLITIK DAN SUARA CALON" if number == 1 else "(lanjutan)",
        )
        fields: list[J] = []
        for k, party in enumerate(chunk):
            y0 = 160 + 230 * k
            d += [
                box(ID, 73, y0, 454, 15, 0.88, fill=10),
                text(ID, 78, y0 + 10, f"{party}. {parties[party]}", 5.5, bold=True),
            ]
            rows = (
                [(f"IV.{party}.0", "Suara Partai Politik")]
                + [(f"IV.{party}.{c}", f"{c}. NAMA CALON {c}") for c in (1, 2, 3)]
                + [(f"IV.{party}.J", "Jumlah suara sah partai politik dan calon")]
            )
            d.append(grid(ID, 73, y0 + 15, [379, 75], [26.0] * len(rows), 0.53))
            for r, (fid, label) in enumerate(rows):
                y = y0 + 15 + 26 * r
                d.append(text(ID, 78, y + 15, label, BODY, bold=fid.endswith(".J")))
                fields.append(field(ID, fid, f"{parties[party]}: {label}", J_X, y + 4, 18.0, 18.0))
            rules.append(
                {
                    "id": f"IV.{party}.sum",
                    "description": f"party {party} total = party votes + candidates' votes",
                    "eq": [f"IV.{party}.J", [r[0] for r in rows[:-1]]],
                }
            )
        if number == 2:
            for i, (fid, label) in enumerate(
                (
                    ("V.A", "JUMLAH SELURUH SUARA SAH"),
                    ("V.B", "JUMLAH SUARA TIDAK SAH"),
                    ("V.C", "JUMLAH SELURUH SUARA SAH DAN SUARA TIDAK SAH"),
                )
            ):
                y = 640 + 30 * i
                d += [
                    grid(ID, 73, y, [379, 75], [26.0], 0.53),
                    text(ID, 78, y + 15, f"{fid}. {label}", BODY, bold=True),
                ]
                fields.append(field(ID, fid, label, J_X, y + 4, 18.0, 18.0))
        page["fields"] = fields
        pages.append(page)
    rules += [
        {
            "id": "V.A.sum",
            "description": "total valid = sum of the parties' totals",
            "eq": ["V.A", [f"IV.{p}.J" for p in parties]],
        },
        {"id": "V.C.sum", "description": "total = valid + invalid", "expr": "V.C = V.A + V.B"},
        {
            "id": "cap",
            "description": "no count exceeds the TPS size plus its reserve ballots",
            "cap": "*",
        },
    ]
    return template(
        "dprd-kabko-example",
        "MODEL C.HASIL-DPRD KAB/KOTA (EXAMPLE)",
        "Schema example, not a real form: a legislative form with 4 parties x 3 candidates over 2 pages",
        "pemilu",
        "dprd-kabko",
        "plano",
        pages,
        rules,
        [],
        300,
        20,
        example=True,
    )


# --- PPWP salinan (A4) ---------------------------------------------------------------------

A4W, A4H = 210.0, 297.0
SAL = Frame(s=0.92, ox=A4W / 2 * (1 - 0.92), oy=A4H / 2 * (1 - 0.92))  # shrink about the centre


# Where each salinan page has room for the QR code and its quiet zone and caption: right-aligned
# with the tables, in the gap above section I (page 1) and between sections IV and V (page 2).
# (The page's right margin is too narrow: a QR there touched the tables and the paper's edge.)
SAL_QR_Y = {1: 66.0, 2: 136.0}


def a4_furniture(number: int, tag_id: int) -> J:
    f = SAL
    marks = [(5.0, 5.0), (A4W - 13.0, 5.0), (A4W - 13.0, A4H - 13.0), (5.0, A4H - 13.0)]
    return {
        "number": number,
        "width": A4W,
        "height": A4H,
        "marks": [
            {"x": x, "y": y, "size": 8.0, "quiet": 2.5, "pattern": "solid"} for x, y in marks
        ],
        "tag": {
            "family": "apriltag_36h11",
            "id": tag_id,
            "x": f.x(182.8),
            "y": f.y(22.8),
            "size": 10.0,
            "rotation": 0,
            "quiet": 1.5,
            "assigned_by": "project",
        },
        "qr": {"x": 177.8, "y": SAL_QR_Y[number], "size": 14.0, "quiet": 2.0},
        "box_style": {"stroke": 0.5, "guides": "none"},
        "page_label": text(f, 187.7, 20.9, f"Hal {number} dari 2", 2.2, bold=True, align="centre"),
        "decor": [
            box(f, 178.4, 10.3, 18.7, 7.8, 0.35),
            text(f, 187.7, 13.5, "MODEL C.HASIL", 1.9, bold=True, align="centre"),
            text(f, 187.7, 16.5, "SALINAN-PPWP", 1.9, bold=True, align="centre"),
            text(f, 10.7, 292.0, "CHS-0102-24", 1.8),
            text(f, 199.3, 292.0, "*) Coret yang tidak perlu", 1.8, align="right"),
        ],
    }


def sal_field(fid: str, label: str, xs: list[float], y: float, h: float, alias: str | None) -> J:
    return field(SAL, fid, label, xs, y, 8.2, h, alias=alias)


SAL_COLS = {"L": [123.7, 132.0, 140.5], "P": [149.0, 157.4, 165.9], "JML": [174.4, 182.7, 191.2]}


def split_header_a4(y: float) -> list[J]:
    """URAIAN / L / P / JML header of sections I and III."""
    d = [grid(SAL, 10.7, y, [113.0, 25.3, 25.4, 25.0], [7.0], 0.4)]
    for label, cx in (
        ("URAIAN", 67.2),
        ("LAKI-LAKI (L)", 136.4),
        ("PEREMPUAN (P)", 161.7),
        ("JUMLAH (L+P)", 186.8),
    ):
        d.append(text(SAL, cx, y + 4.5, label, 2.0, bold=True, align="centre"))
    return d


def salinan_page1() -> J:
    f = SAL
    page = a4_furniture(1, 111)
    d: list[J] = page["decor"]
    d += logo(f, 22.0, 17.0, 4.0)
    for i, s in enumerate(
        [
            "BERITA ACARA, SERTIFIKAT DAN CATATAN HASIL PENGHITUNGAN PEROLEHAN SUARA",
            "DI TEMPAT PEMUNGUTAN SUARA DALAM PEMILIHAN UMUM",
            "PRESIDEN DAN WAKIL PRESIDEN",
            "REPUBLIK INDONESIA",
            "TAHUN 2024",
        ]
    ):
        d.append(text(f, 100.0, 12.0 + 4.0 * i, s, 2.6, bold=True, align="centre"))
    d += [
        text(f, 10.7, 36.0 + 5.0 * i, s, 2.0)
        for i, s in enumerate(
            [
                "Pada hari ini ............ tanggal ............ bulan ............ tahun ............ Kelompok Penyelenggara Pemungutan Suara (KPPS)",
                "mengadakan Rapat Pemungutan dan Penghitungan Suara, bertempat di: Provinsi ............ Kabupaten/Kota ............",
                "Kecamatan ............ Kelurahan/Desa *) ............ Nomor TPS ............",
                "Adapun data pemilih dan pengguna hak pilih, penggunaan surat suara, dan hasil penghitungan suara terinci sebagai berikut:",
            ]
        )
    ]
    fields: list[J] = []
    d.append(text(f, 10.7, 95.5, "I. DATA PEMILIH DAN PENGGUNA HAK PILIH", 2.6, bold=True))
    d += split_header_a4(97.7)
    d += [
        box(f, 10.7, 108.3, 188.6, 56.0, 0.5),
        text(f, 12.0, 113.0, "A.   DATA PEMILIH", 2.1, bold=True),
        text(f, 12.0, 129.0, "B.   PENGGUNA HAK PILIH", 2.1, bold=True),
    ]
    rows = [("I.A", 116.3), ("I.B.1", 132.3), ("I.B.2", 140.2), ("I.B.3", 148.2), ("I.B.4", 156.3)]
    for (fid, y), (_, label, alias, _) in zip(rows, ROWS_I, strict=True):
        d.append(grid(f, 17.7, y, [106.0, *([8.35] * 9)], [7.8], 0.3))
        d.append(text(f, 19.0, y + 5.0, label, 1.9, bold=fid == "I.B.4"))
        fields += [
            sal_field(f"{fid}.{c}", f"{label} ({c})", SAL_COLS[c], y + 0.1, 7.5, f"{alias}_{s}")
            for c, _, s in SPLIT
        ]
    d.append(text(f, 10.7, 170.0, "II. DATA PENGGUNAAN SURAT SUARA", 2.6, bold=True))
    # Header, the "(1) (2)" line, then the four rows, as on KPU's copy. The rows' tops are
    # the digit boxes' (each box 0.1 mm below its row's line); the table's row lines must be
    # the same lines, or they run through the boxes.
    tops = [183.0, 191.0, 198.9, 206.9, 214.8]
    edges = [172.3, 179.3, *tops]
    heights = [round(b - a, 2) for a, b in pairwise(edges)]
    d.append(grid(f, 10.7, 172.3, [163.7, 25.0], heights, 0.4))
    d += [
        text(f, 92.5, 176.8, "URAIAN", 2.0, bold=True, align="centre"),
        text(f, 186.8, 176.8, "JUMLAH", 2.0, bold=True, align="centre"),
        text(f, 92.5, 182.2, "(1)", 1.6, bold=True, align="centre"),
        text(f, 186.8, 182.2, "(2)", 1.6, bold=True, align="centre"),
    ]
    for (fid, label, alias, _), y, h in zip(rows_ii("2%"), tops[:-1], heights[2:], strict=True):
        d += [grid(f, 174.4, y, [8.35] * 3, [h], 0.3), text(f, 12.0, y + 5.0, label, 1.9)]
        fields.append(sal_field(fid, label, SAL_COLS["JML"], y + 0.1, 7.6, alias))
    d.append(text(f, 10.7, 220.5, "III. DATA PEMILIH DISABILITAS", 2.6, bold=True))
    d += split_header_a4(223.0)
    d.append(grid(f, 10.7, 233.6, [113.0, *([8.35] * 9)], [7.8], 0.3))
    label = "Jumlah seluruh Pemilih disabilitas yang menggunakan hak pilih"
    d.append(text(f, 12.0, 238.6, label, 1.9))
    fields += [
        sal_field(f"III.{c}", f"{label} ({c})", SAL_COLS[c], 233.7, 7.6, f"pemilih_disabilitas_{s}")
        for c, _, s in SPLIT
    ]
    d += a4_signatures(245.6)
    page["fields"] = fields
    return page


def a4_signatures(y0: float) -> list[J]:
    f = SAL
    d = [
        box(f, 10.7, y0, 188.7, 42.0, 0.5),
        text(
            f,
            105.0,
            y0 + 3.6,
            "NAMA DAN TANDA TANGAN KELOMPOK PENYELENGGARA PEMUNGUTAN SUARA",
            1.9,
            bold=True,
            align="centre",
        ),
    ]
    d.append(grid(f, 10.7, y0 + 5.1, [27.0] * 6 + [26.7], [10.4], 0.3))
    d += [
        text(
            f,
            24.0 + 27.0 * i,
            y0 + 8.3,
            "1. KETUA" if i == 0 else f"{i + 1}. ANGGOTA",
            1.6,
            bold=True,
            align="centre",
        )
        for i in range(7)
    ]
    d.append(
        text(
            f,
            105.0,
            y0 + 19.4,
            "NAMA DAN TANDA TANGAN SAKSI PASANGAN CALON PRESIDEN DAN WAKIL PRESIDEN",
            1.9,
            bold=True,
            align="centre",
        )
    )
    d.append(grid(f, 10.7, y0 + 21.0, [63.0, 63.0, 62.7], [21.0], 0.3))
    return d


def salinan_page2() -> J:
    f = SAL
    page = a4_furniture(2, 112)
    d: list[J] = page["decor"]
    d += logo(f, 17.0, 17.0, 3.5)
    for i, (label, x) in enumerate((("Provinsi", 31.0), ("Kabupaten / Kota", 31.0))):
        d += [
            text(f, x, 14.0 + 6 * i, label, 2.0),
            line(f, 56.0, 14.5 + 6 * i, 100.0, 14.5 + 6 * i, dotted=True),
        ]
    for i, label in enumerate(("Kecamatan", "Kelurahan / Desa", "Nomor TPS")):
        d += [
            text(f, 103.0, 14.0 + 6 * i, label, 2.0),
            line(f, 128.0, 14.5 + 6 * i, 170.0, 14.5 + 6 * i, dotted=True),
        ]
    d.append(
        text(
            f,
            10.7,
            33.5,
            "IV. DATA PEROLEHAN SUARA PASANGAN CALON PRESIDEN DAN WAKIL PRESIDEN",
            2.6,
            bold=True,
        )
    )
    d.append(grid(f, 10.7, 35.7, [163.6, 25.0], [6.8, 2.8], 0.4))
    d += [
        text(f, 92.5, 40.2, "NOMOR DAN NAMA PASANGAN CALON", 2.0, bold=True, align="centre"),
        text(f, 186.8, 40.2, "SUARA SAH", 2.0, bold=True, align="centre"),
    ]
    fields: list[J] = []
    for k, y in enumerate((45.9, 76.8, 107.7)):
        d += [
            box(f, 10.7, y, 188.6, 23.4, 0.5),
            grid(f, 10.7, y, [19.3, 144.0], [15.5], 0.4),
            line(f, 30.0, y + 15.5, 30.0, y + 23.4),
            text(f, 20.0, y + 12.0, f"{k + 1}.", 4.0, bold=True, align="centre"),
            text(f, 102.0, y + 6.0, "NAMA CALON PRESIDEN", 2.4, bold=True, align="centre"),
            text(f, 102.0, y + 10.0, "NAMA CALON WAKIL PRESIDEN", 2.4, bold=True, align="centre"),
            grid(f, 174.3, y, [8.4, 8.5, 8.1], [15.5], 0.4),
            text(f, 198.5, y + 22.0, "(ditulis dengan huruf kapital)", 1.5, align="right"),
        ]
        fields.append(
            sal_field(
                f"IV.{k + 1}",
                f"SUARA SAH PASANGAN CALON NOMOR URUT {k + 1}",
                [174.3, 182.7, 191.2],
                y + 0.1,
                15.3,
                None,
            )
        )
    d.append(text(f, 10.7, 160.5, "V. DATA SUARA SAH DAN TIDAK SAH", 2.6, bold=True))
    d.append(grid(f, 10.7, 162.5, [163.7, 24.9], [6.6, 2.6], 0.4))
    d += [
        text(f, 92.5, 166.8, "URAIAN", 2.0, bold=True, align="centre"),
        text(f, 186.8, 166.8, "JUMLAH", 2.0, bold=True, align="centre"),
    ]
    totals = [
        ("V.A", "A.", ["JUMLAH SELURUH SUARA SAH", "(IV.1 + IV.2 + IV.3)"], "suara_sah", 172.4),
        ("V.B", "B.", ["JUMLAH SUARA TIDAK SAH"], "suara_tidak_sah", 190.3),
        (
            "V.C",
            "C.",
            ["JUMLAH SELURUH SUARA SAH", "DAN SUARA TIDAK SAH", "(A + B)"],
            "suara_total",
            208.3,
        ),
    ]
    for fid, letter, lines_, alias, y in totals:
        d += [
            grid(f, 10.7, y, [54.3, 109.0, 8.3, 8.5, 8.1], [13.8], 0.4),
            text(f, 12.0, y + 6.0, letter, 2.2, bold=True),
        ]
        d += [text(f, 20.0, y + 4.0 + 3.0 * i, s, 2.0, bold=True) for i, s in enumerate(lines_)]
        d.append(text(f, 172.0, y + 12.5, "(ditulis dengan huruf kapital)", 1.5, align="right"))
        fields.append(sal_field(fid, " ".join(lines_), [174.4, 182.7, 191.2], y + 0.1, 13.5, alias))
    d.append(text(f, 10.7, 235.6, "DITETAPKAN DI : ..............................", 2.2, bold=True))
    for label, right in (("TANGGAL :", 98.0), ("BULAN :", 131.5), ("TAHUN :", 164.5)):
        d.append(text(f, right, 235.6, label, 2.2, bold=True, align="right"))
    d += [
        box(f, x, 230.7, 8.1, 7.0, 0.4)
        for x in (99.1, 107.6, 132.7, 141.1, 165.9, 174.4, 182.9, 191.3)
    ]
    d += a4_signatures(245.6)
    page["fields"] = fields
    return page


def ppwp_salinan() -> J:
    options = [{"number": n, "label": f"PASANGAN CALON {n}", "field": f"IV.{n}"} for n in (1, 2, 3)]
    return template(
        "ppwp-salinan",
        "MODEL C.HASIL SALINAN-PPWP",
        "2024 presidential tally copy (salinan), A4, 2 pages, no bubbles (CHS-0102-24)",
        "pemilu",
        "ppwp",
        "a4",
        [salinan_page1(), salinan_page2()],
        admin_rules("2%") + vote_rules(["IV.1", "IV.2", "IV.3"]),
        options,
        300,
        20,
    )


def all_templates() -> list[J]:
    out = [ppwp_plano(), ppwp_salinan(), dprd_example()]
    out += [pilkada("pkwkp", n, None) for n in range(2, 6)]
    out += [pilkada("pkwkk", n, None) for n in range(2, 7)]
    out += [pilkada(c, 2, kk) for c in ("pkwkp", "pkwkk") for kk in (1, 2)]
    return out


def render(data: J) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def write_all(target: Path) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for data in all_templates():
        path = target / f"{data['id']}.json"
        path.write_text(render(data), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: python {sys.argv[0]} OUT_DIR  (compare with {templates_dir()})")
    for p in write_all(Path(sys.argv[1])):
        print(p)
