"""Kits for the firmware's tests: enrolled bundles, synthesized forms, MockFactory pins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("cv2")
pytest.importorskip("gpiozero")

import numpy as np
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from protocol import certs
from protocol.forms.loader import load_template
from protocol.idx import load_digits
from protocol.kitconfig import dump_kit_config, parse_kit_config
from provisioning import enrol
from provisioning.synth.forms import synthesize_form
from provisioning.synth.handwriting import DigitBank
from provisioning.synth.mistakes import wrong_sum
from provisioning.synth.photo import Conditions
from provisioning.synth.values import consistent_values

DIGITS = Path(__file__).resolve().parents[1] / "fixtures" / "digits" / "heldout-300"
TPS = "31.71.01.1001.001"
ELECTION = "pemilu-2024"
TRAINING = "latihan-pemilu-2024"
STEADY = Conditions(-1.0, 0.0, 0.01, 0.0, 0.01, 1.0, 0.1, 0.0, 0.5, 2.0, 90)


@dataclass(frozen=True)
class Form:
    pages: list[Path]  # page-1.jpg, page-2.jpg, page-3.jpg
    truth: dict[str, int]
    corners: dict[int, list[list[float]]]  # each page's corners in its photo, px (the truth)


@pytest.fixture
def mock_pins() -> Iterator[MockFactory]:
    """gpiozero's MockFactory as the default pin factory for the test."""
    previous = Device.pin_factory
    factory = MockFactory()
    Device.pin_factory = factory
    yield factory
    factory.reset()
    Device.pin_factory = previous


def _write(pages: list[Any], folder: Path) -> Form:
    folder.mkdir(parents=True)
    paths = []
    for page in pages:
        path = folder / f"page-{page.number}.jpg"
        path.write_bytes(page.jpeg)
        paths.append(path)
    truth = {k: v for p in pages for k, v in p.truth["fields"].items()}
    return Form(paths, truth, {p.number: p.truth["corners"] for p in pages})


@pytest.fixture(scope="session")
def forms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Form]:
    """Whole PPWP forms photographed under the boom: a good one, one with a paper mistake
    (V.C added up wrong), and a practice form of the training election (seeds checked to
    read as accept / paper mistake / accept with the shipped model). The practice form is
    printed with its optional QR code, so a real kit can tell it is for another election."""
    root = tmp_path_factory.mktemp("forms")
    bank = DigitBank(*load_digits(DIGITS))
    ppwp = load_template("ppwp-plano")

    def make(election: str, seed: int, mistake: bool = False, qr: bool = False) -> list[Any]:
        rng = np.random.default_rng(seed)
        values = None
        if mistake:
            values, _ = wrong_sum(ppwp, consistent_values(ppwp, rng), rng)
        options = {"bank": bank, "rng": rng, "conditions": STEADY, "values": values, "qr": qr}
        return synthesize_form(ppwp, tps=TPS, election=election, **options)

    return {
        "good": _write(make(ELECTION, 42), root / "good"),
        "mistake": _write(make(ELECTION, 7, mistake=True), root / "mistake"),
        "training": _write(make(TRAINING, 42, qr=True), root / "training"),
    }


def write_kit_config(kit_dir: Path, ca_cert: Path, **sections: Any) -> Path:
    """A kit.toml in ``kit_dir`` (an enrolled kit directory), files screen by default."""
    certificate = certs.load_certificate((kit_dir / enrol.CERT_FILE).read_bytes())
    bound = certs.urns(certificate)
    data: dict[str, Any] = {
        "kit": {
            "id": bound["kit"],
            "tps": bound["tps"],
            "election": bound["election"],
            "region": "31.71",
        },
        "paths": {"ca_certificate": str(ca_cert)},
        "broker": {"host": "127.0.0.1", "port": 8883},
        "forms": {"ids": ["ppwp-plano"]},
        "camera": {"backend": "files"},
        "screen": {"backend": "files", "directory": "screen"},
        "gpio": {"hold_cancel_s": 0.2},
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    path = kit_dir / "kit.toml"
    path.write_bytes(dump_kit_config(parse_kit_config(data)))
    return path


@pytest.fixture
def kit_config(region: Any) -> Any:
    """make(election=ELECTION, **sections) -> the kit.toml of a freshly enrolled kit."""

    def make(election: str = ELECTION, **sections: Any) -> Path:
        kit = region.kit(TPS, election)
        assert kit.directory is not None
        return write_kit_config(
            kit.directory, region.authority.directory / "ca.cert.pem", **sections
        )

    return make
