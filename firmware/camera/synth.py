"""Synthesized, photographed forms for this kit's TPS and election: the demo's camera.

Each capture is the next page of a form filled with real handwriting (provisioning.synth);
after its last page a new form begins. ``truth`` keeps the values of the form being served.
"""

from __future__ import annotations

from pathlib import Path

from firmware.camera.base import Capture, decode_grey

# The held-out digits in the source tree: enough handwriting for a demo.
FIXTURE_DIGITS = Path(__file__).resolve().parents[2] / "tests/fixtures/digits/heldout-300"


class SynthCamera:
    def __init__(
        self, *, form: str, tps: str, election: str, digits: Path | None = None, seed: int = 0
    ) -> None:
        self.form, self.tps, self.election = form, tps, election
        self.digits = digits or FIXTURE_DIGITS
        self._seed = seed
        self._pages: list = []
        self._bank = None
        self.truth: dict[str, int] = {}

    def _new_form(self) -> None:
        import numpy as np

        from protocol.forms.loader import load_template
        from protocol.idx import load_digits
        from provisioning.synth.forms import synthesize_form
        from provisioning.synth.handwriting import DigitBank

        if self._bank is None:
            self._bank = DigitBank(*load_digits(self.digits))
        pages = synthesize_form(
            load_template(self.form),
            tps=self.tps,
            election=self.election,
            bank=self._bank,
            rng=np.random.default_rng(self._seed),
        )
        self._seed += 1
        self.truth = {k: v for p in pages for k, v in p.truth["fields"].items()}
        self._pages = list(pages)

    def capture(self) -> Capture:
        if not self._pages:
            self._new_form()
        page = self._pages.pop(0)
        return Capture(decode_grey(page.jpeg, f"synthesized page {page.number}"), page.jpeg)

    def close(self) -> None:
        pass
