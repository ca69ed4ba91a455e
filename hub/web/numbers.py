"""Numbers as Indonesian readers write them (id-ID): 1.234 and 33,3%."""

from __future__ import annotations


def number(n: int | None) -> str:
    return "–" if n is None else f"{n:,}".replace(",", ".")


def percent(r: float | None) -> str:
    return "?" if r is None else f"{100 * r:.1f}".replace(".", ",") + "%"
