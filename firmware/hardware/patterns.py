"""What the kit shows by light and sound, for every signal, as data.

Colours keep one meaning throughout: green is good or ready, amber is working or look at
the screen, red is a problem. Steady means a state; blinking means it waits for you or is
busy. Each signal has its own combination of the three LEDs, so a KPPS can tell them apart
from across the table without reading the screen, and a trainer can print the table
(:func:`pattern_table`, also ``tps-kit patterns``): Indonesian first, English beside it, for
the KPPS and for the trainers and observers who read either.

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
    name: str  # the state's name in Indonesian, for the printed table
    meaning: str  # what the KPPS should understand (Indonesian, for the printed table)
    meaning_en: str

    @property
    def lights(self) -> tuple[Led, Led, Led]:
        return (self.green, self.amber, self.red)


S, L = SHORT_BEEP, LONG_BEEP
OFF, ON, SLOW, FAST, FLASH = Led.OFF, Led.ON, Led.SLOW, Led.FAST, Led.FLASH

PATTERNS: dict[Signal, Pattern] = {
    Signal.IDLE: Pattern(
        FLASH, OFF, OFF, (), "siap", "Siap: letakkan halaman 1 dan tekan PINDAI", "ready for a form"
    ),
    Signal.NEXT_PAGE: Pattern(
        SLOW,
        OFF,
        OFF,
        (S,),
        "halaman berikutnya",
        "Halaman terbaca: letakkan halaman berikutnya",
        "page read; lay the next",
    ),
    Signal.CAPTURING: Pattern(
        OFF,
        ON,
        OFF,
        (S,),
        "memotret",
        "Memotret: jangan sentuh kertas",
        "photographing; hands off the page",
    ),
    Signal.READING: Pattern(OFF, FAST, OFF, (), "membaca", "Membaca angka", "reading the numbers"),
    Signal.REVIEW_OK: Pattern(
        ON,
        SLOW,
        OFF,
        (S, S),
        "semua cocok",
        "Semua cocok: periksa layar, tekan KONFIRMASI",
        "all consistent; check the screen and press confirm",
    ),
    Signal.REVIEW_NEEDS_LOOK: Pattern(
        OFF,
        SLOW,
        OFF,
        (S, S, S),
        "perlu dicek",
        "Ada angka yang perlu dicek: bandingkan dengan kertas, ikuti layar",
        "some numbers need a look; compare each with the paper as the screen shows",
    ),
    Signal.PAPER_MISTAKE: Pattern(
        OFF,
        OFF,
        SLOW,
        (L, L, L),
        "salah di kertas",
        "Formulir salah hitung: perbaiki kertas, pindai ulang",
        "the paper form has a mistake; correct it and rescan (never signed)",
    ),
    Signal.SIGNING: Pattern(FAST, OFF, OFF, (), "menandatangani", "Menandatangani", "signing"),
    Signal.QUEUED: Pattern(
        ON,
        FLASH,
        OFF,
        (S,),
        "ditandatangani",
        "Ditandatangani, sedang dikirim: foto kode QR",
        "signed and stored; sending; witnesses photograph the QR receipt",
    ),
    Signal.DELIVERED: Pattern(
        ON,
        OFF,
        OFF,
        (L,),
        "diterima server",
        "Diterima server: selesai",
        "the hub accepted it; done",
    ),
    Signal.CANCELLED: Pattern(
        FLASH,
        OFF,
        OFF,
        (L,),
        "dibatalkan",
        "Dibatalkan (lampu kembali siap): mulai lagi dari halaman 1",
        "cancelled (the lights return to rest); start again",
    ),
    Signal.ERROR: Pattern(
        OFF,
        OFF,
        ON,
        (L, L),
        "gagal",
        "Gagal atau ditolak: baca pesan di layar",
        "something failed or was refused; read the screen",
    ),
    Signal.OFFLINE: Pattern(
        FLASH,
        OFF,
        FLASH,
        (),
        "tanpa jaringan",
        "Siap, tanpa jaringan: hasil disimpan dan dikirim nanti",
        "ready, no network; results wait in the kit and go later",
    ),
    Signal.TRAINING: Pattern(
        FLASH,
        FLASH,
        OFF,
        (),
        "latihan",
        "Kit LATIHAN: hasil tidak dihitung",
        "training kit; nothing counts",
    ),
}


def rest_signal(*, training: bool, online: bool) -> Signal:
    """What the kit shows when it waits for a form: training first, so a training kit in a
    bimtek hall without network still says what it is."""
    if training:
        return Signal.TRAINING
    return Signal.IDLE if online else Signal.OFFLINE


LAMP_WORDS: dict[Led, tuple[str, str]] = {
    Led.OFF: ("-", ""),
    Led.ON: ("nyala", "on"),
    Led.SLOW: ("kedip lambat", "slow blink"),
    Led.FAST: ("kedip cepat", "fast blink"),
    Led.FLASH: ("kilat", "flash"),
}


def _both(indonesian: str, english: str) -> str:
    return f"{indonesian} ({english})" if english else indonesian


def _lamp(mode: Led) -> str:
    return _both(*LAMP_WORDS[mode])


def _sound(beeps: tuple[float, ...]) -> str:
    if not beeps:
        return "-"
    n = len(beeps)
    long = beeps[0] == LONG_BEEP  # one beep length per signal
    word, word_en = ("panjang", "long") if long else ("pendek", "short")
    return f"{n} bip {word} ({n} {word_en} beep{'s' if n > 1 else ''})"


def _seconds(value: float) -> str:
    """0.15 -> "0,15" (the Indonesian decimal comma)."""
    return f"{value:g}".replace(".", ",")


def legend() -> list[str]:
    """What the table's words mean, from the timings the lights really use."""
    lines = ["Lampu (lights):", ""]
    for mode in (Led.ON, Led.FLASH, Led.SLOW, Led.FAST):
        name = _lamp(mode)
        if mode == Led.ON:
            lines.append(f"- {name}: menyala terus (steady)")
            continue
        on, off = BLINK[mode]
        if mode == Led.FLASH:
            every = _seconds(on + off)
            lines.append(
                f"- {name}: nyala {_seconds(on)} detik setiap {every} detik "
                f"({on:g} s on every {on + off:g} s)"
            )
        else:
            lines.append(
                f"- {name}: {_seconds(on)} detik nyala, {_seconds(off)} detik mati "
                f"({on:g} s on, {off:g} s off)"
            )
    lines += ["", "Bunyi (sound):", ""]
    for length, word, word_en in ((SHORT_BEEP, "pendek", "short"), (LONG_BEEP, "panjang", "long")):
        lines.append(f"- bip {word} ({word_en} beep): {_seconds(length)} detik ({length:g} s)")
    return lines


def pattern_table() -> str:
    """The trainer's printable table (markdown): every signal, its lights, sound and meaning,
    in Indonesian with English beside it, and the legend of its words."""
    lines = [
        "| keadaan (state) | hijau (green) | kuning (amber) | merah (red) | bunyi (sound) "
        "| artinya | meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    for signal, p in PATTERNS.items():
        lamps = " | ".join(_lamp(m) for m in p.lights)
        state = _both(p.name, signal.value)
        lines.append(f"| {state} | {lamps} | {_sound(p.beeps)} | {p.meaning} | {p.meaning_en} |")
    lines.append("")
    lines += legend()
    return "\n".join(lines)
