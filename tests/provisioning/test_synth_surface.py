"""Folded, curled sheets under the boom camera: where the boxes land, the light, the truth."""

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from protocol.forms.loader import load_template
from protocol.idx import load_digits
from provisioning.forms.raster import render_page
from provisioning.synth.forms import OVERSAMPLE, camera_px_per_mm, synthesize_form
from provisioning.synth.handwriting import DigitBank
from provisioning.synth.photo import (
    CameraGeometry,
    Conditions,
    lifted_maps,
    page_to_frame,
    photograph,
)
from provisioning.synth.surface import Surface

DIGITS = Path(__file__).resolve().parents[1] / "fixtures" / "digits" / "heldout-300"
TPS, ELECTION = "31.71.01.1001.001", "pemilu-2024"
STEADY = Conditions(0.8, 0.01, -0.01, 0.01, 0.0, 1.0, 0.15, 0.0, 0.6, 2.0, 88)
PLANO = (600.0, 900.0)
# A ridge across the middle and both long edges lifted; light straight down, so the shading
# is symmetric and the boxes' positions can be compared without it.
FOLDED = Surface(
    crease_mm=5.0,
    crease_width_mm=20.0,
    crease_at=0.5,
    curl_mm=8.0,
    curl_at="sides",
    curl_reach=0.45,
    light_zenith_deg=0.0,
)


@pytest.fixture(scope="module")
def ppwp():
    return load_template("ppwp-plano")


@pytest.fixture(scope="module")
def bank():
    return DigitBank(*load_digits(DIGITS))


def _frame(jpeg: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)


def _apply(m: np.ndarray, point) -> np.ndarray:
    v = m @ [point[0], point[1], 1.0]
    return v[:2] / v[2]


def _shift(before: np.ndarray, after: np.ndarray, x: int, y: int, half=40, reach=12):
    """How far the patch around (x, y) of ``before`` moved in ``after``, to a tenth of a px."""
    patch = before[y - half : y + half, x - half : x + half].astype(np.float32)
    area = after[y - half - reach : y + half + reach, x - half - reach : x + half + reach]
    score = cv2.matchTemplate(area.astype(np.float32), patch, cv2.TM_CCOEFF_NORMED)
    _, best, _, (i, j) = cv2.minMaxLoc(score)

    def vertex(m, c, p):
        return 0.5 * (m - p) / (m - 2 * c + p)

    dx = vertex(score[j, i - 1], score[j, i], score[j, i + 1])
    dy = vertex(score[j - 1, i], score[j, i], score[j + 1, i])
    return np.array([i + dx - reach, j + dy - reach]), best


def test_flat_draws_take_the_numbers_they_always_took():
    geometry = CameraGeometry()
    for seed in range(5):
        rng = np.random.default_rng(seed)
        old = (  # the draws in their order before sheets could be folded
            rng.uniform(-3, 3),
            rng.uniform(-0.03, 0.03),
            rng.uniform(-0.03, 0.03),
            rng.uniform(-0.03, 0.03),
            rng.uniform(-0.03, 0.03),
            rng.uniform(0.95, 1.03),
            rng.uniform(0.0, 0.35),
            rng.choice([0.0, rng.uniform(0.1, 0.3)], p=[0.6, 0.4]),
            rng.uniform(0.3, 1.2),
            rng.uniform(1.0, 5.0),
            rng.integers(75, 93),
        )
        after_old = rng.random()
        rng = np.random.default_rng(seed)
        drawn = Conditions.draw(rng, geometry)
        assert dataclasses.astuple(drawn)[:11] == pytest.approx(old, abs=0)
        assert drawn.surface == Surface.flat() and drawn.surface.is_flat
        assert rng.random() == after_old  # and nothing more was drawn
        folded = Conditions.draw(np.random.default_rng(seed), geometry, fold=True)
        assert dataclasses.replace(folded, surface=Surface.flat()) == drawn
        assert not folded.surface.is_flat


def test_ideal_and_positional_conditions_lie_flat():
    assert Conditions.ideal().surface.is_flat
    assert Conditions(-1.0, 0.0, 0.01, 0.0, 0.01, 1.0, 0.1, 0.0, 0.5, 2.0, 90).surface.is_flat


def test_max_blur_bounds_the_drawn_blur():
    geometry = CameraGeometry()
    blurs = [
        Conditions.draw(np.random.default_rng(s), geometry, max_blur=1.5).blur_sigma
        for s in range(200)
    ]
    assert min(blurs) >= 0.3 and 1.3 < max(blurs) <= 1.5


def test_drawn_sheets_are_plausible():
    ys, xs = np.mgrid[0:900:2.0, 0:600:2.0]
    for seed in range(100):
        s = Surface.draw(np.random.default_rng(seed))
        assert 1.0 <= abs(s.crease_mm) <= 6.0 and 2.0 <= s.curl_mm <= 8.0
        z, gx, gy = s.height(xs, ys, PLANO)
        assert z.min() >= 0.0  # the sheet lies on the table, never in it
        assert z.max() <= 6.0 + 8.0
        assert np.hypot(gx, gy).max() < 0.45  # no wall: a few degrees, at most 24
        # The slope is the height's derivative.
        e = 1e-3
        dx = (s.height(xs + e, ys, PLANO)[0] - s.height(xs - e, ys, PLANO)[0]) / (2 * e)
        dy = (s.height(xs, ys + e, PLANO)[0] - s.height(xs, ys - e, PLANO)[0]) / (2 * e)
        inside = (xs > 1) & (xs < 599) & (ys > 1) & (ys < 899)
        assert np.abs(dx - gx)[inside].max() < 1e-4 and np.abs(dy - gy)[inside].max() < 1e-4


def test_flat_sheet_has_no_height():
    z, gx, gy = Surface.flat().height(np.array([0.0, 300.0]), np.array([0.0, 450.0]), PLANO)
    assert not z.any() and not gx.any() and not gy.any()


def test_folded_sheet_moves_every_box_as_the_lens_sees_it(ppwp):
    """Against the same photograph of the flat sheet: each box moves out from the point under
    the lens by r z / (Hc - z), which is a few pixels where the sheet is lifted."""
    geometry = CameraGeometry()
    k = OVERSAMPLE * camera_px_per_mm(ppwp, geometry)
    page = render_page(ppwp, 1, TPS, ELECTION, k)

    def shoot(conditions):
        jpeg, homography, _ = photograph(
            page, np.random.default_rng(5), geometry=geometry, conditions=conditions, px_per_mm=k
        )
        return _frame(jpeg), homography

    flat, homography = shoot(STEADY)
    folded, same = shoot(dataclasses.replace(STEADY, surface=FOLDED))
    assert np.array_equal(same, homography)  # the homography is the flat sheet's
    lens = _apply(np.linalg.inv(homography), (geometry.frame_w / 2, geometry.frame_h / 2))
    hc = geometry.height_mm
    predicted, measured = [], []
    for spec in ppwp.page(1).fields:
        for box in spec.boxes:
            p = np.array(box.centre) * k
            z = float(FOLDED.height(np.array(box.centre[0]), np.array(box.centre[1]), PLANO)[0])
            seen = lens + (p - lens) * hc / (hc - z)
            at = _apply(homography, p)
            shift, match = _shift(flat, folded, *np.round(at).astype(int))
            assert match > 0.9
            predicted.append(_apply(homography, seen) - at)
            measured.append(shift)
    predicted, measured = np.array(predicted), np.array(measured)
    assert np.abs(measured - predicted).max() < 0.3
    moved = np.hypot(*predicted.T)
    px_per_mm = camera_px_per_mm(ppwp, geometry)
    # The boxes lie up to 7 mm above the table and 250 mm out from the lens: up to 2 mm (5
    # px), and those near the lens on the flat hardly move.
    assert 1.0 < moved.max() / px_per_mm < 2.5
    assert moved.min() < 0.2


def test_crease_shows_as_a_light_and_a_dark_band(ppwp):
    """Lit from one side, the flank facing the light is the brightest paper on the sheet and
    the other is darker than the flat paper around it."""
    geometry = CameraGeometry()
    k = OVERSAMPLE * camera_px_per_mm(ppwp, geometry)
    shape = (round(900 * k), round(600 * k))
    crease = Surface(crease_mm=5.0, crease_width_mm=20.0, light_zenith_deg=30.0)
    crease = dataclasses.replace(crease, light_azimuth_deg=90.0)  # from the page's bottom
    homography = page_to_frame((shape[1], shape[0]), geometry, STEADY)
    (map_x, map_y), shade = lifted_maps(shape, homography, geometry, crease, k)

    def shade_at(y_mm):
        x, y = np.round(_apply(homography, (300 * k, y_mm * k))).astype(int)
        return shade[y, x]

    assert shade_at(452) == pytest.approx(1.0, abs=0.02)  # faces the light
    assert shade_at(447) < 0.9 * shade_at(600)  # faces away
    assert shade_at(600) == pytest.approx(shade_at(300), abs=1e-3)  # flat paper, both sides
    x, y = np.round(_apply(homography, (300 * k, 600 * k))).astype(int)
    flat = _apply(np.linalg.inv(homography), (x, y))  # no lift there: the flat sheet's point
    assert (map_x[y, x], map_y[y, x]) == pytest.approx(tuple(flat), abs=0.02)


def test_folding_keeps_the_truth(ppwp, bank):
    def one(fold):
        rng = np.random.default_rng(11)
        options = {"tps": TPS, "election": ELECTION, "only_pages": [2], "fold": fold}
        return synthesize_form(ppwp, bank=bank, rng=rng, **options)[0]

    flat, folded = one(False), one(True)
    for key in ("fields", "boxes", "bubbles", "qr"):
        assert folded.truth[key] == flat.truth[key]
    surface = folded.truth["photo"].pop("surface")
    assert flat.truth["photo"].pop("surface") == dataclasses.asdict(Surface.flat())
    assert folded.truth["photo"] == flat.truth["photo"]  # drawn before the sheet's shape
    assert not Surface(**surface).is_flat
    assert folded.jpeg != flat.jpeg


def test_blank_page_provider_replaces_our_print(ppwp, bank):
    calls = []

    def ours(number, px_per_mm):
        calls.append((number, px_per_mm))
        return render_page(ppwp, number, TPS, ELECTION, px_per_mm)

    def one(**options):
        rng = np.random.default_rng(3)
        return synthesize_form(
            ppwp, tps=TPS, election=ELECTION, bank=bank, rng=rng, only_pages=[3], **options
        )[0]

    assert one(blank=ours).jpeg == one().jpeg
    k = OVERSAMPLE * camera_px_per_mm(ppwp, CameraGeometry())
    assert calls == [(3, k)]
    kept = render_page(ppwp, 3, TPS, ELECTION, k)
    one(blank=lambda number, px_per_mm: kept)
    assert np.array_equal(kept, render_page(ppwp, 3, TPS, ELECTION, k))  # written on a copy
    with pytest.raises(ValueError, match="expected uint8"):
        one(blank=lambda number, px_per_mm: kept[:-1])
    with pytest.raises(ValueError, match="qr"):
        one(blank=ours, qr=True)


def test_a_lifted_sheet_needs_the_page_scale(ppwp):
    page = np.full((900, 600), 255, np.uint8)
    conditions = dataclasses.replace(STEADY, surface=FOLDED)
    with pytest.raises(ValueError, match="px_per_mm"):
        photograph(page, np.random.default_rng(0), conditions=conditions)
