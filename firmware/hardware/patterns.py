"""What the kit shows by light and sound, for every signal, as data.

Colours keep one meaning throughout: green is good or ready, amber is working or look at
the screen, red is a problem. Steady means a state; blinking means it waits for you or is
busy. Each signal has its own combination of the three LEDs, so a KPPS can tell them apart
from across the table without reading the screen, and a trainer can print the table
(:func:`pattern_table`, also ``tps-kit patterns``).

A training (bimtek) kit differs only at rest: where a real kit shows ``idle`` (or
``offline``), it shows ``training``. Every other signal is the real one, because trainees
must learn the signals of the real device.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Led(enum.StrEnum):
    OFF = "off"
    ON = "on"
    SLOW = "slow"  # 1 s on, 1 s off: waiting for you
    FAST = "fast"  # 0.15 s on, 0.15 s off: busy
    FLASH = "flash"  # 0.1 s on every 2 s: at rest, alive


# (on seconds, off seconds) of each blinking mode
BLINK: dict[Led, tuple[float, float]] = {
    Led.SLOW: (1.0, 1.0),
    Led.FAST: (0.15, 0.15),
    Led.FLASH: (0.1, 1.9),
}

SHORT_BEEP = 0.1
LONG_BEEP = 0.8
BEEP_GAP = 0.15


class Signal(enum.StrEnum):
    IDLE = "idle"
    NEXT_PAGE = "next-page"
    CAPTURING = "capturing"
    READING = "reading"
    REVIEW_OK = "review-ok"
    REVIEW_NEEDS_LOOK = "review-needs-look"
    PAPER_MISTAKE = "paper-mistake"
    SIGNING = "signing"
    QUEUED = "queued"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    ERROR = "error"
    OFFLINE = "offline"
    TRAINING = "training"


@dataclass(frozen=True)
class Pattern:
    green: Led
    amber: Led
    red: Led
    beeps: tuple[float, ...]  # durations of the beeps, played once when the signal starts
    meaning: str  # what the KPPS should understand (Indonesian, for the printed table)
    meaning_en: str

    @property
    def lights(self) -> tuple[Led, Led, Led]:
        return (self.green, self.amber, self.red)


S, L = SHORT_BEEP, LONG_BEEP
OFF, ON, SLOW, FAST, FLASH = Led.OFF, Led.ON, Led.SLOW, Led.FAST, Led.FLASH

PATTERNS: dict[Signal, Pattern] = {
    Signal.IDLE: Pattern(
        FLASH, OFF, OFF, (), "Siap: letakkan halaman 1 dan tekan PINDAI", "ready for a form"
    ),
    Signal.NEXT_PAGE: Pattern(
        SLOW,
        OFF,
        OFF,
        (S,),
        "Halaman terbaca: letakkan halaman berikutnya",
        "page read; lay the next",
    ),
    Signal.CAPTURING: Pattern(
        OFF, ON, OFF, (S,), "Memotret: jangan sentuh kertas", "photographing; hands off the page"
    ),
    Signal.READING: Pattern(OFF, FAST, OFF, (), "Membaca angka", "reading the numbers"),
    Signal.REVIEW_OK: Pattern(
        ON,
        SLOW,
        OFF,
        (S, S),
        "Semua cocok: periksa layar, tekan KONFIRMASI",
        "all consistent; check the screen and press confirm",
    ),
    Signal.REVIEW_NEEDS_LOOK: Pattern(
        OFF,
        SLOW,
        OFF,
        (S, S, S),
        "Ada angka bertanda ?: cocokkan dengan formulir",
        "some numbers need a look; compare with the paper, then confirm or rescan",
    ),
    Signal.PAPER_MISTAKE: Pattern(
        OFF,
        OFF,
        SLOW,
        (L, L, L),
        "Formulir salah hitung: perbaiki kertas, pindai ulang",
        "the paper form has a mistake; correct it and rescan (never signed)",
    ),
    Signal.SIGNING: Pattern(FAST, OFF, OFF, (), "Menandatangani", "signing"),
    Signal.QUEUED: Pattern(
        ON,
        FLASH,
        OFF,
        (S,),
        "Ditandatangani, sedang dikirim: foto kode QR",
        "signed and stored; sending; witnesses photograph the QR receipt",
    ),
    Signal.DELIVERED: Pattern(
        ON, OFF, OFF, (L,), "Diterima server: selesai", "the hub accepted it; done"
    ),
    Signal.CANCELLED: Pattern(
        FLASH,
        OFF,
        OFF,
        (L,),
        "Dibatalkan (lampu kembali siap): mulai lagi dari halaman 1",
        "cancelled (the lights return to rest); start again",
    ),
    Signal.ERROR: Pattern(
        OFF, OFF, ON, (L, L), "Gagal: baca pesan di layar", "something failed; read the screen"
    ),
    Signal.OFFLINE: Pattern(
        FLASH,
        OFF,
        FLASH,
        (),
        "Siap, tanpa jaringan: hasil disimpan dan dikirim nanti",
        "ready, no network; results wait in the kit and go later",
    ),
    Signal.TRAINING: Pattern(
        FLASH, FLASH, OFF, (), "Kit LATIHAN: hasil tidak dihitung", "training kit; nothing counts"
    ),
}


def rest_signal(*, training: bool, online: bool) -> Signal:
    """What the kit shows when it waits for a form: training first, so a training kit in a
    bimtek hall without network still says what it is."""
    if training:
        return Signal.TRAINING
    return Signal.IDLE if online else Signal.OFFLINE


def _lamp(mode: Led) -> str:
    return {
        Led.OFF: "-",
        Led.ON: "nyala",
        Led.SLOW: "kedip lambat",
        Led.FAST: "kedip cepat",
        Led.FLASH: "kilat",
    }[mode]


def _sound(beeps: tuple[float, ...]) -> str:
    if not beeps:
        return "-"
    words = ["pendek" if b == SHORT_BEEP else "panjang" for b in beeps]
    return f"{len(beeps)} bip ({', '.join(words)})"


def pattern_table() -> str:
    """The trainer's printable table (markdown): every signal, its lights, sound, meaning."""
    lines = [
        "| keadaan / state | hijau | kuning | merah | bunyi | artinya | meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    for signal, p in PATTERNS.items():
        lamps = " | ".join(_lamp(m) for m in p.lights)
        lines.append(
            f"| {signal.value} | {lamps} | {_sound(p.beeps)} | {p.meaning} | {p.meaning_en} |"
        )
    lines.append("")
    lines.append(
        "kilat = a 0.1 s flash every 2 s; kedip lambat = 1 s on, 1 s off; "
        "kedip cepat = 0.15 s on, 0.15 s off. Bip pendek 0.1 s, panjang 0.8 s."
    )
    return "\n".join(lines)
