"""`tps-kit read --json --card`: a whole form's decisions, verdict and review cards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from provisioning.synth.forms import synthesize_form
from provisioning.synth.mistakes import wrong_sum
from provisioning.synth.values import consistent_values
from tests.edge.conftest import ELECTION, TPS
from tests.edge.test_card import STEADY

BIN = Path(sys.executable).parent


def test_read_reports_a_paper_mistake_and_writes_cards(ppwp, bank, tmp_path):
    rng = np.random.default_rng(8)
    values, mistake = wrong_sum(ppwp, consistent_values(ppwp, rng), rng)
    pages = synthesize_form(
        ppwp, tps=TPS, election=ELECTION, bank=bank, rng=rng, values=values, conditions=STEADY
    )
    paths = []
    for page in pages:
        paths.append(tmp_path / f"page-{page.number}.jpg")
        paths[-1].write_bytes(page.jpeg)
    out = tmp_path / "card.png"
    done = subprocess.run(
        [str(BIN / "tps-kit"), "read", "--json", "--card", str(out), *map(str, paths)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["verdict"] == "paper mistake", (mistake, report["summary"])
    assert report["summary"].startswith("SALAH DI KERTAS")
    assert any(mistake.field in p["fields"] for p in report["problems"])
    assert all(
        f["decision"] in ("read", "corrected", "doubtful") for f in report["fields"].values()
    )
    assert report["cards"] == [str(tmp_path / f"card-{n}.png") for n in (1, 2, 3)]
    for card in report["cards"]:
        image = cv2.imread(card)
        assert image is not None and image.shape[2] == 3
