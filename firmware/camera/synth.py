"""Synthesized, photographed forms for this kit's TPS and election: a development camera.

Each capture is the next page of a form; after its last page a new form begins. ``truth``
keeps the values of the form being served. The pages come from a page source that another
package registers under the entry point group :data:`PAGE_SOURCES` (the technician's
``provisioning`` package registers ``synth``, its form synthesizer): the firmware names no
module of it, and a kit without it installed says so instead of failing on an import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

from firmware.camera.base import CameraError, Capture, decode_grey
from protocol.manifest import OfficialDpt

PAGE_SOURCES = "tps_kit.page_sources"


class SynthPage(Protocol):
    @property
    def number(self) -> int: ...
    @property
    def jpeg(self) -> bytes: ...
    @property
    def truth(self) -> Mapping[str, Mapping[str, int]]: ...


PageSource = Callable[[int], Sequence[SynthPage]]  # a seed -> one filled form's pages


def load_page_source(
    *, form: str, tps: str, election: str, digits: Path, dpt: OfficialDpt | None = None
) -> PageSource:
    """The registered ``synth`` page source for one form, TPS and election, writing with
    the handwriting of the IDX digit set ``digits`` and the TPS's official register
    ``dpt`` (the bundle's, where it has one) on rows I.A."""
    found = entry_points(group=PAGE_SOURCES, name="synth")
    if not found:
        raise CameraError(
            "the synth camera needs a page source: install the provisioning extra "
            "(pip install tps-kit[provision])",
            "Kamera uji tidak terpasang: hubungi teknisi",
        )
    factory = next(iter(found)).load()
    return factory(form=form, tps=tps, election=election, digits=digits, dpt=dpt)


class SynthCamera:
    def __init__(
        self, *, form: str, tps: str, election: str, pages: PageSource, seed: int = 0
    ) -> None:
        self.form, self.tps, self.election = form, tps, election
        self._source = pages
        self._seed = seed
        self._pages: list[SynthPage] = []
        self.truth: dict[str, int] = {}

    def _new_form(self) -> None:
        pages = self._source(self._seed)
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
