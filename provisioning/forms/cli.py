"""``tps-provision forms``: print blank forms and synthesize filled ones."""

from __future__ import annotations

import click


@click.group()
def forms() -> None:
    """Print blank Form C.Hasil pages and synthesize filled, photographed ones."""
