"""The screen's words that carry numbers: Indonesian thousands, pages, rules said once."""

from __future__ import annotations

import pytest

from firmware.screen.words import (
    compact_sum,
    key_numbers,
    number,
    pages,
    relations_of,
    rule_parts,
)
from protocol.forms.loader import load_template


@pytest.fixture(scope="module")
def ppwp():
    return load_template("ppwp-plano")


def test_numbers_and_pages_as_indonesians_write_them():
    assert (number(7), number(1204), number(99999), number(None)) == (
        "7",
        "1.204",
        "99.999",
        "kosong",
    )
    assert pages([3]) == "halaman 3"
    assert pages([3, 2, 3]) == "halaman 2 dan 3"
    assert pages([1, 2, 3]) == "halaman 1, 2 dan 3"


def _rule(template, rule_id):
    field = {"V.A.sum": "V.A", "III.sum": "III.L", "I.B.4.L.sum": "I.B.4.L", "II.1.sum": "II.1"}
    return next(r for r in relations_of(template, field[rule_id]) if r.rule_id == rule_id)


def test_a_rule_names_what_its_fields_share_once(ppwp):
    values = {f.id: 1 for _, f in ppwp.fields()}
    values.update({"IV.1": 400, "IV.2": 800, "IV.3": 4, "V.A": 1240})
    assert rule_parts(ppwp, _rule(ppwp, "V.A.sum"), values, broken=True) == (
        "Paslon 1 + Paslon 2 + Paslon 3 = 1.204",
        "tetapi Suara sah = 1.240",
    )
    assert rule_parts(ppwp, _rule(ppwp, "III.sum"), values, broken=False) == (
        "Pemilih disabilitas: L + P = 2",
        "JML = 1",
    )
    assert rule_parts(ppwp, _rule(ppwp, "I.B.4.L.sum"), values, broken=False)[0] == (
        "Kolom L: Pengguna DPT + Pengguna DPTb + Pengguna DPK = 3"
    )
    assert rule_parts(ppwp, _rule(ppwp, "II.1.sum"), values, broken=False) == (
        "Surat suara: digunakan + dikembalikan + tidak digunakan = 3",
        "diterima = 1",
    )


def test_the_numbers_to_sign_are_the_votes_and_their_totals(ppwp):
    values = {f.id: 5 for _, f in ppwp.fields()}
    names = [n for n, _ in key_numbers(ppwp, values)]
    assert names == [
        "Paslon 1",
        "Paslon 2",
        "Paslon 3",
        "Suara sah",
        "Suara tidak sah",
        "Jumlah suara",
    ]
    dprd = load_template("dprd-kabko-example")
    shown = key_numbers(dprd, {f.id: 5 for _, f in dprd.fields()})
    assert [n for n, _ in shown] == ["Suara sah", "Suara tidak sah", "Jumlah suara"]


def test_a_sum_too_long_for_the_screen_names_what_its_terms_share_once():
    assert compact_sum("Paslon 1 + Paslon 2 + Paslon 3 = 220,") == "Paslon 1 + 2 + 3 = 220,"
    # terms that share nothing, a single term and a row's shared prefix stay as they are
    assert compact_sum("Suara sah + Suara tidak sah = 300") == "Suara sah + Suara tidak sah = 300"
    assert compact_sum("Suara sah = 220") == "Suara sah = 220"
    assert compact_sum("Pemilih disabilitas: L + P = 3,") == "Pemilih disabilitas: L + P = 3,"
