"""Writing a synthesized set: for form n and page p, ``NNNN-p.jpg`` and ``NNNN-p.json``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from protocol.forms.schema import Template
from protocol.manifest import OfficialDpt
from provisioning.files import write_atomic
from provisioning.synth.forms import synthesize_form
from provisioning.synth.handwriting import DigitBank


def tps_for(base: str, n: int) -> str:
    """The n-th TPS (1-based) of the village whose code ``base`` starts: ``….NNN``."""
    village = base.rsplit(".", 1)[0]
    return f"{village}.{(n - 1) % 999 + 1:03d}"


def election_for(template: Template, election: str | None) -> str:
    if election:
        return election
    return "pilkada-2024" if template.election_kind == "pilkada" else "pemilu-2024"


def write_set(
    out: Path,
    templates: Sequence[Template],
    bank: DigitBank,
    *,
    forms: int,
    seed: int,
    tps: str,
    election: str | None = None,
    fold: bool = False,
    qr: bool = False,
    registers: Mapping[str, OfficialDpt] | None = None,
    progress: Callable[[], None] = lambda: None,
) -> list[Path]:
    """Synthesize ``forms`` forms, cycling through ``templates``; return the JPEG paths.

    ``fold``: photograph folded, curled sheets; ``qr``: print the optional QR code;
    ``registers`` (TPS code -> its official DPT, from the election manifest): what each
    form's rows I.A hold, for a TPS listed there."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for n in range(1, forms + 1):
        rng = np.random.default_rng([seed, n])  # each form reproducible on its own
        template = templates[(n - 1) % len(templates)]
        code = tps_for(tps, n)
        pages = synthesize_form(
            template,
            tps=code,
            election=election_for(template, election),
            bank=bank,
            rng=rng,
            fold=fold,
            qr=qr,
            dpt=(registers or {}).get(code),
        )
        for page in pages:
            stem = out / f"{n:04d}-{page.number}"
            write_atomic(stem.with_suffix(".jpg"), page.jpeg)
            truth = json.dumps(page.truth, indent=1, sort_keys=True).encode() + b"\n"
            write_atomic(stem.with_suffix(".json"), truth)
            written.append(stem.with_suffix(".jpg"))
        progress()
    return written
