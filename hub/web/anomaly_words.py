"""Anomalies in plain Indonesian sentences, for the public: "Angka DPT berubah dari 287
menjadi 221 setelah laporan pertama", not "I.A.JML 287->221".

The hub stores each anomaly as a kind and an English detail written by the module that
found it (hub/recap/anomalies.py, hub/recap/hold.py, hub/ledger.py, hub/decide.py); this
module reads those details back into sentences. A detail it cannot read, or a kind it does
not know (a newer hub's), still gives a sentence: the kind's words, or the kind itself,
then the detail as written, so nothing found is ever hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hub.web.numbers import number

# What readers call the form's best-known rows; other fields go by their id.
FIELD_WORDS = {
    "I.A.L": "Angka DPT laki-laki",
    "I.A.P": "Angka DPT perempuan",
    "I.A.JML": "Angka DPT",
    "III.JML": "Jumlah pemilih disabilitas",
    "V.A": "Jumlah suara sah",
    "V.B": "Jumlah suara tidak sah",
    "V.C": "Jumlah seluruh suara",
}
_VOTES = re.compile(r"^IV\.(\d+)$")
_CHANGE = re.compile(r"([A-Z][A-Z0-9.]*) (-|\d+)->(-|\d+)")
_ABOVE_DPT = re.compile(r"=(\d+) votes above \S+=(\d+) registered voters plus (\d+)")
_ABOVE_CAP = re.compile(r"=(\d+) above the TPS cap of (\d+)")
_RULE = re.compile(r"^\S+: (.+?) fails \((\d+) vs (\d+)")
_RELATION = re.compile(r" (<=|>=|=) ")
_MOST_CHANGES = 3  # a rescan that changes every number: name a few, count the rest
_KIT_SEQ = re.compile(r"kit (\S+) (?:signed )?seq (\d+)")
_AHEAD = re.compile(r", (\d+) s after the hub received it")
_OFFICIAL = re.compile(r"(I\.A\.[A-Z]+) (\d+) \(manifest (\d+)\)")
_ABOVE_OFFICIAL = re.compile(r"=?(\d+) above the manifest's (\d+) registered voters plus (\d+)")


def field_words(field: str) -> str:
    found = _VOTES.match(field)
    if found:
        return f"Suara Paslon {int(found.group(1)):02d}"
    return FIELD_WORDS.get(field, field)


def _value(text: str) -> str:
    return "kosong" if text == "-" else number(int(text))


def _changed(detail: str) -> str | None:
    changes = _CHANGE.findall(detail.split("): ", 1)[-1])
    if not changes:
        return None
    parts = [
        f"{field_words(f)} berubah dari {_value(a)} menjadi {_value(b)}"
        for f, a, b in changes[:_MOST_CHANGES]
    ]
    rest = len(changes) - _MOST_CHANGES
    more = f", dan {rest} angka lain berubah" if rest > 0 else ""
    return "; ".join(parts) + more + " setelah laporan pertama."


def _above_registered(detail: str) -> str | None:
    found = _ABOVE_DPT.search(detail)
    if found is None:
        return None
    votes, dpt, reserve = (int(g) for g in found.groups())
    return (
        f"Jumlah seluruh suara ({number(votes)}) melebihi DPT ({number(dpt)}) ditambah "
        f"{number(reserve)} surat suara cadangan."
    )


def _above_cap(detail: str) -> str | None:
    found = _ABOVE_CAP.search(detail)
    if found is None:
        return None
    votes, cap = (int(g) for g in found.groups())
    return f"Jumlah seluruh suara ({number(votes)}) melebihi batas {number(cap)} pemilih per TPS."


def _rule(detail: str) -> str | None:
    found = _RULE.search(detail)
    if found is None:
        return None
    rule, left, right = found.groups()
    relation = _RELATION.search(rule)
    how = {"<=": "lebih besar dari", ">=": "lebih kecil dari"}.get(
        relation.group(1) if relation else "=", "tidak sama dengan"
    )
    return (
        f"Angka pada formulir tidak cocok: seharusnya {rule}, tetapi "
        f"{number(int(left))} {how} {number(int(right))}."
    )


def _held(detail: str) -> str:
    reasons = [
        _rule(part) or _above_registered(part) or _above_cap(part)
        for part in detail.split("decides: ", 1)[-1].split("; ")
    ]
    known = [r for r in reasons if r is not None]
    return (
        "Perlu verifikasi: angka TPS ini melanggar batas formulir dan tidak dijumlahkan "
        "sampai operator memutuskan. " + " ".join(known)
    ).strip()


def _kit_seq(template: str) -> Callable[[str], str | None]:
    def sentence(detail: str) -> str | None:
        found = _KIT_SEQ.search(detail)
        if found is None:
            return None
        kit, seq = found.group(1), int(found.group(2))
        return template.format(kit=kit, seq=seq, before=seq - 1)

    return sentence


def _clock(detail: str) -> str | None:
    found = _AHEAD.search(detail)
    if found is None:
        return None
    return (
        f"Waktu pindai yang ditandatangani kit {number(int(found.group(1)))} detik lebih maju "
        "dari waktu hub menerimanya: jam kit kemungkinan salah."
    )


def _official(detail: str) -> str | None:
    rows = _OFFICIAL.findall(detail)
    above = _ABOVE_OFFICIAL.search(detail)
    if not rows and above is None:
        return None
    parts = [
        f"{field_words(row)} pada formulir {number(int(form))}, DPT resmi {number(int(listed))}"
        for row, form, listed in rows
    ]
    if above is not None:
        votes, dpt, reserve = (int(g) for g in above.groups())
        parts.append(
            f"jumlah seluruh suara ({number(votes)}) melebihi DPT resmi ({number(dpt)}) "
            f"ditambah {number(reserve)} surat suara cadangan"
        )
    return "Berbeda dari daftar pemilih resmi: " + "; ".join(parts) + "."


# Per kind: a sentence read from the detail (None: the detail is not as expected), and the
# kind's words when it cannot be read.
_READERS: dict[str, Callable[[str], str | None]] = {
    "changed-after-first-report": _changed,
    "votes-above-registered": _above_registered,
    "votes-above-cap": _above_cap,
    "rule-broken": _rule,
    "chain-gap": _kit_seq(
        "Kit {kit} mengirim laporan ke-{seq}, tetapi laporan ke-{before} belum diterima hub."
    ),
    "chain-fork": _kit_seq(
        "Laporan ke-{seq} kit {kit} tidak melanjutkan laporan sebelumnya yang diterima hub "
        "(rantai bercabang)."
    ),
    "seq-reused": _kit_seq("Kit {kit} menandatangani dua laporan berbeda bernomor {seq}."),
    "clock-ahead": _clock,
    "dpt-differs-from-manifest": _official,
    "held-for-verification": _held,
}
KIND_WORDS = {
    "changed-after-first-report": "Angka berubah setelah laporan pertama",
    "votes-above-registered": "Jumlah suara melebihi DPT",
    "votes-above-cap": "Jumlah suara melebihi batas pemilih per TPS",
    "rule-broken": "Penjumlahan pada formulir tidak cocok",
    "no-template": "Hub tidak memiliki templat formulir ini: angka tidak diperiksa",
    "template-mismatch": "Ada kolom yang tidak ada di formulir ini",
    "held-for-verification": (
        "Perlu verifikasi: angka TPS ini melanggar batas formulir dan tidak dijumlahkan "
        "sampai operator memutuskan"
    ),
    "chain-gap": "Ada laporan kit yang belum diterima hub",
    "chain-fork": "Laporan kit tidak melanjutkan laporan sebelumnya (rantai bercabang)",
    "seq-reused": "Kit menandatangani dua laporan berbeda dengan nomor yang sama",
    "clock-ahead": "Jam kit lebih maju dari jam hub",
    "dpt-differs-from-manifest": "Angka DPT pada formulir berbeda dari DPT resmi di manifest",
    "kit-compromised": "Keputusan operator: kit ini tidak dipercaya lagi",
    "result-released": "Keputusan operator: hasil ini dihitung",
    "result-kept-out": "Keputusan operator: hasil ini tetap tidak dihitung",
}


def sentence(kind: str, detail: str) -> str:
    """The anomaly as one or two Indonesian sentences."""
    reader = _READERS.get(kind)
    read = reader(detail) if reader is not None else None
    if read is not None:
        return read
    words = KIND_WORDS.get(kind, f"Anomali '{kind}'")
    return f"{words}. Keterangan: {detail}" if detail else f"{words}."
