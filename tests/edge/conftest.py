"""Synthesized forms for the reader's tests, from the committed held-out digit fixture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cv2")

from edge.read.page import Expectation, PageReader
from edge.recognition.model import DigitModel
from protocol.forms.loader import load_template
from protocol.idx import load_digits
from provisioning.synth.handwriting import DigitBank
from provisioning.synth.values import consistent_values

DIGITS = Path(__file__).resolve().parents[1] / "fixtures" / "digits" / "heldout-300"
TPS = "31.71.01.1001.001"
ELECTION = "pemilu-2024"


@pytest.fixture(scope="session")
def bank() -> DigitBank:
    return DigitBank(*load_digits(DIGITS))


@pytest.fixture(scope="session")
def model() -> DigitModel:
    loaded = DigitModel.load()
    loaded.warm_up()
    return loaded


@pytest.fixture(scope="session")
def ppwp():
    return load_template("ppwp-plano")


@pytest.fixture(scope="session")
def reader(model, ppwp) -> PageReader:
    return PageReader([ppwp], model, expect=Expectation(ELECTION, TPS, ("ppwp-plano",)))


@pytest.fixture()
def values(ppwp):
    """One consistent set of PPWP numbers (the decoder's tests change it as they need)."""
    return consistent_values(ppwp, np.random.default_rng(5))
