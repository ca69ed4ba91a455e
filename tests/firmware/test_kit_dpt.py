"""The kit takes its TPS's official voter list (DPT) from its bundle's tps.json to its decoder;
a tps.json for another TPS is a wrong bundle, refused at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from firmware import kit as kit_module
from firmware.assemble import assemble
from firmware.identity import StartupError
from protocol.canonical import canonical_bytes
from protocol.manifest import OfficialDpt
from protocol.tpsslice import SLICE_FILE
from tests.firmware.conftest import ELECTION, TPS
from tests.firmware.kits import SCAN, build, press
from tests.firmware.test_kit_cli import kit


def write_slice(directory: Path, *, tps: str = TPS, men: int = 120, women: int = 131) -> None:
    value: dict[str, Any] = {
        "format": "tps-slice/1",
        "election": {"id": ELECTION, "name": "Pemilu 2024", "date": "2024-02-14", "kind": "real"},
        "tps": tps,
        "names": {"provinsi": "DKI Jakarta", "kabkota": "Jakarta Pusat"},
        "dpt": {"dpt_l": men, "dpt_p": women},
        "contests": [],
        "manifest_sha256": "ab" * 32,
    }
    (directory / SLICE_FILE).write_bytes(canonical_bytes(value))


def test_the_bundles_official_dpt_reaches_the_decoder(kit_config, forms, monkeypatch, mock_pins):
    config = kit_config()
    write_slice(config.parent)
    seen: list[OfficialDpt | None] = []
    decode = kit_module.decode_form

    def spy(form, **options):
        seen.append(options.get("dpt"))
        return decode(form, **options)

    monkeypatch.setattr(kit_module, "decode_form", spy)
    assembled = build(config, forms["good"].pages)
    try:
        assert assembled.kit.dpt == OfficialDpt(120, 131)
        for _ in forms["good"].pages:
            press(mock_pins, SCAN, assembled.kit)
    finally:
        assembled.close()
    assert seen == [OfficialDpt(120, 131)]


def test_a_tps_json_for_another_tps_is_refused_at_start(kit_config):
    config = kit_config()
    write_slice(config.parent, tps="31.71.01.1001.002")
    with pytest.raises(StartupError, match=r"31\.71\.01\.1001\.002.*bundle this kit again"):
        assemble(config, uplink=False, lights=object())
    done = kit("run", "--config", config, "--validate-config")
    assert done.exit_code == 1 and "bundle this kit again" in done.output


def test_validate_config_names_the_official_dpt(kit_config):
    config = kit_config()
    write_slice(config.parent)
    done = kit("run", "--config", config, "--validate-config")
    assert "official DPT of TPS 31.71.01.1001.001: 120 L + 131 P" in done.output


def test_the_synth_cameras_kpps_copies_the_bundles_official_dpt(kit_config):
    digits = Path(__file__).parents[1] / "fixtures" / "digits" / "heldout-300"
    config = kit_config(camera={"backend": "synth", "digits": str(digits), "seed": 4})
    write_slice(config.parent, men=97, women=104)
    assembled = assemble(config, uplink=False, lights=object())
    try:
        assembled.camera.capture()
        truth = assembled.camera.truth  # type: ignore[attr-defined]
    finally:
        assembled.close()
    assert (truth["I.A.L"], truth["I.A.P"], truth["I.A.JML"]) == (97, 104, 201)


def test_the_kit_signs_a_form_whose_dpt_is_the_lists_and_asks_a_look_at_one_copied_wrong(
    kit_config, forms
):
    images = [x for page in forms["good"].pages for x in ("--image", page)]
    men, women = forms["good"].truth["I.A.L"], forms["good"].truth["I.A.P"]
    config = kit_config()
    write_slice(config.parent, men=men, women=women)
    signed = kit("scan", *images, "--config", config, "--yes")
    assert signed.exit_code == 0 and "receipt: TPSR1|" in signed.output, signed.output
    assert "Cek 1" not in signed.output  # the list confirms rows I.A: nothing to look at
    # The register lists one man more than the paper says: the rows that differ are shown
    # to a person (--yes answers "sama" as the KPPS would after comparing with the paper);
    # the paper is signed as written, never corrected to the list.
    write_slice(config.parent, men=men + 1, women=women)
    looked = kit("scan", *images, "--config", config, "--yes")
    assert looked.exit_code == 0, looked.output
    assert "Cek 1 dari 2: DPT (L)" in looked.output and "Cek 2 dari 2: DPT (JML)" in looked.output
    assert f"Kit membaca: {men}\n" in looked.output
