"""Anomalies read back into Indonesian sentences, from details written by the very code
that writes them on the hub (so a change of wording there shows here)."""

from __future__ import annotations

import datetime as dt

from hub.ledger import ChainRow, chain_position, clock_ahead
from hub.recap.anomalies import changed_fields, differs_from_official
from hub.web.anomaly_words import sentence
from protocol.limits import check_numbers
from protocol.manifest import OfficialDpt

A, B = "a" * 64, "b" * 64


def test_a_changed_number_reads_as_the_dpt_changing():
    changes = changed_fields({"I.A.JML": 287, "IV.1": 5}, {"I.A.JML": 221, "IV.1": 5})
    detail = (
        "31.71.01.1001.001 ppwp-plano: seq 2 of kit k differs from the first report "
        "(seq 1 of kit k): " + ", ".join(changes)
    )
    assert sentence("changed-after-first-report", detail) == (
        "Angka DPT berubah dari 287 menjadi 221 setelah laporan pertama."
    )


def test_several_changes_and_a_vote_field_are_named():
    changes = changed_fields({"IV.2": 1200, "V.B": 3}, {"IV.2": 1210})
    said = sentence("changed-after-first-report", "x (seq 1 of kit k): " + ", ".join(changes))
    assert "Suara Paslon 02 berubah dari 1.200 menjadi 1.210" in said
    assert "Jumlah suara tidak sah berubah dari 3 menjadi kosong" in said


def test_the_form_checks_read_as_sentences():
    fields = {"I.A.L": 10, "I.A.P": 10, "I.A.JML": 25, "V.C": 40}
    found = dict(check_numbers("ppwp-plano", fields))
    assert sentence("votes-above-registered", found["votes-above-registered"]).startswith(
        "Jumlah seluruh suara (40) melebihi DPT (25) ditambah"
    )
    rule = sentence("rule-broken", found["rule-broken"])
    assert rule == (
        "Angka pada formulir tidak cocok: seharusnya I.A.L + I.A.P = I.A.JML, tetapi 20 "
        "tidak sama dengan 25."
    )
    fields = {"I.A.L": 10, "I.A.P": 10, "I.A.JML": 20, "I.B.1.JML": 30}
    above = [d for k, d in check_numbers("ppwp-plano", fields) if "I.B.1.JML <=" in d]
    assert sentence("rule-broken", above[0]).endswith("tetapi 30 lebih besar dari 20.")


def test_a_rescan_that_changes_everything_names_a_few_and_counts_the_rest():
    before = {f"II.{i}": i for i in range(1, 6)}
    after = {f"II.{i}": i + 1 for i in range(1, 6)}
    said = sentence("changed-after-first-report", "x: " + ", ".join(changed_fields(before, after)))
    assert said.count("berubah dari") == 3 and "dan 2 angka lain berubah" in said


def test_a_held_result_says_why_in_sentences():
    from hub.recap.hold import LABEL

    fields = {"I.A.L": 10, "I.A.P": 10, "I.A.JML": 20, "V.C": 40}
    limits = [d for k, d in check_numbers("ppwp-plano", fields) if k == "votes-above-registered"]
    detail = f"{LABEL}: T F seq 1 of kit k is held out of the totals until an operator "
    detail += "decides: " + "; ".join(limits)
    said = sentence("held-for-verification", detail)
    assert said.startswith("Perlu verifikasi: angka TPS ini melanggar batas formulir")
    assert "Jumlah seluruh suara (40) melebihi DPT (20)" in said and "votes" not in said


def test_chain_breaks_and_a_clock_ahead_name_the_kit():
    _, gap = chain_position("kit-1", 3, A, B, [])
    assert sentence(*gap[0]) == (
        "Kit kit-1 mengirim laporan ke-3, tetapi laporan ke-2 belum diterima hub."
    )
    _, reused = chain_position("kit-1", 2, A, B, [ChainRow(1, 2, B, A, "ok")])
    assert "dua laporan berbeda bernomor 2" in sentence(*reused[0])
    now = dt.datetime(2024, 2, 14, 13, 0, tzinfo=dt.UTC)
    ahead = clock_ahead("2024-02-14T13:10:00Z", now, 60)
    assert ahead is not None
    assert sentence("clock-ahead", ahead).startswith(
        "Waktu pindai yang ditandatangani kit 600 detik"
    )


def test_a_dpt_unlike_the_official_list_names_each_row_and_both_numbers():
    official = OfficialDpt(men=120, women=131)
    fields = {"I.A.L": 121, "I.A.P": 131, "I.A.JML": 252, "V.C": 262}
    found = differs_from_official("ppwp-plano", fields, official)
    said = sentence(
        "dpt-differs-from-manifest", "31.71.01.1001.001 ppwp-plano: " + ", ".join(found)
    )
    assert said.startswith("Berbeda dari daftar pemilih resmi: ")
    assert "Angka DPT laki-laki pada formulir 121, DPT resmi 120" in said
    assert "Angka DPT pada formulir 252, DPT resmi 251" in said
    assert "perempuan" not in said  # the row that agrees is not named


def test_an_unknown_kind_or_detail_is_shown_with_its_detail():
    said = sentence("dpt-differs-from-manifest", "I.A.JML=221, manifest DPT 287")
    assert said.startswith("Angka DPT pada formulir berbeda dari DPT resmi")
    assert said.endswith("Keterangan: I.A.JML=221, manifest DPT 287")
    assert sentence("brand-new-kind", "what it says") == (
        "Anomali 'brand-new-kind'. Keterangan: what it says"
    )
    assert sentence("rule-broken", "unreadable").endswith("Keterangan: unreadable")
