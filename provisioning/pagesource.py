"""The form synthesizer as a page source for the kit's development camera
(firmware/camera/synth.py finds it by its entry point, ``tps_kit.page_sources``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from protocol.forms.loader import load_template
from protocol.idx import load_digits
from protocol.manifest import OfficialDpt
from provisioning.synth.forms import SynthPage, synthesize_form
from provisioning.synth.handwriting import DigitBank


def synthesized_pages(
    *, form: str, tps: str, election: str, digits: Path, dpt: OfficialDpt | None = None
) -> Callable[[int], list[SynthPage]]:
    """A seed -> the pages of one form of ``form`` for this TPS and election, filled with
    the handwriting of the IDX digit set ``digits`` (read at the first form); rows I.A
    hold the TPS's official register ``dpt`` where the kit has one, as a KPPS copies it."""
    template = load_template(form)
    bank: list[DigitBank] = []

    def pages(seed: int) -> list[SynthPage]:
        if not bank:
            bank.append(DigitBank(*load_digits(digits)))
        return synthesize_form(
            template,
            tps=tps,
            election=election,
            bank=bank[0],
            rng=np.random.default_rng(seed),
            dpt=dpt,
        )

    return pages
