"""The public results pages as a reader sees them, at desktop (1366 x 900) and phone
(390 x 844) size in Debian's headless Chromium: no page wider than the screen, names from
the election's signed manifest, vote shares and their chart.

The hub is filled through the real ingest path (tests/hub/test_api_support.py) and served
by `tps-hub serve` with a signed manifest; screenshots go to the test's directory (or
TPS_SCREENSHOTS), made with tools/screenshots.py's helpers, as the README's are.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator

import pytest
import tomli_w

from hub.broker_process import free_port
from provisioning import authority as ca
from tests.conftest import PASSPHRASE
from tests.hub.test_api_support import (
    ELECTION,
    FORM,
    TPS_A,
    TPS_B,
    TPS_D,
    TPS_E,
    FilledHub,
    fill_hub,
    write_hub_toml,
)
from tests.hub.test_dashboard_chromium import serving, shots  # noqa: F401 (a fixture)
from tests.manifests import ppwp_manifest, signed_manifest
from tools import screenshots as screen

pytestmark = pytest.mark.skipif(
    screen.chromium_paths() is None,
    reason="Chromium or chromedriver is not installed (bash scripts/setup installs them)",
)
DPT = {
    TPS_A: (120, 131),
    TPS_B: (100, 101),
    "31.71.01.1002.001": (150, 140),
    TPS_D: (90, 95),
    TPS_E: (80, 85),
}
SIZES = {"desktop": screen.DESKTOP, "phone": screen.PHONE}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> FilledHub:
    return fill_hub(tmp_path_factory.mktemp("public"))


@pytest.fixture(scope="module")
def server(hub: FilledHub) -> Iterator[str]:
    authority = ca.load_ca(hub.root / "ca", PASSPHRASE)
    manifest = hub.root / "election.json"
    manifest.write_bytes(signed_manifest(authority, ppwp_manifest(DPT)))
    port = free_port()
    path = write_hub_toml(hub, port)
    config = tomllib.loads(path.read_text())
    config["paths"]["manifests"] = [str(manifest)]
    path.write_text(tomli_w.dumps(config))
    with serving(hub, path, port) as address:
        yield address


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with screen.chromium() as driver:
        yield driver


def pages(hub: FilledHub) -> list[screen.Page]:
    scripted = [
        screen.Page("rekap", f"/#/rekap/{ELECTION}/{FORM}/"),
        screen.Page("rekap-kecamatan", f"/#/rekap/{ELECTION}/{FORM}/31.71.01"),
        screen.Page("rekap-desa", f"/#/rekap/{ELECTION}/{FORM}/31.71.01.1001"),
        screen.Page("tps", f"/#/tps/{ELECTION}/{FORM}/{TPS_B}"),
        screen.Page("tps-versions", f"/#/tps/{ELECTION}/{FORM}/{TPS_A}"),
        screen.Page("kit", "/#/kit"),
        screen.Page("anomali", "/#/anomali"),
        screen.Page("tanda-terima", f"/#/tanda-terima?qr={hub.receipt('a2', 2, TPS_A)}"),
    ]
    return scripted


@pytest.mark.parametrize("size", sorted(SIZES))
def test_no_page_is_wider_than_the_screen(browser, server, hub, shots, size):  # noqa: F811
    d = browser
    width, height = SIZES[size]
    screen.set_viewport(d, width, height)
    too_wide = {}
    for page in pages(hub):
        screen.open_page(d, server, page)
        assert screen.viewport_width(d) == width
        wide = screen.document_width(d)
        if wide > width:
            too_wide[page.name] = wide
        screen.shoot(d, shots / f"{page.name}-{size}.png", (width, height))
    assert too_wide == {}, f"pages wider than {width} px: {too_wide} (screenshots in {shots})"


def test_a_table_on_a_phone_is_cards_with_each_number_named(browser, server, hub):
    d = browser
    screen.set_viewport(d, *screen.PHONE)
    screen.open_page(d, server, screen.Page("desa", f"/#/rekap/{ELECTION}/{FORM}/31.71.01.1001"))
    row = d.find_element("css selector", 'tr[data-region="31.71.01.1001.002"]')
    assert row.value_of_css_property("display") == "block"
    labels = [c.get_attribute("data-label") for c in row.find_elements("css selector", "th, td")]
    assert labels[:2] == ["TPS", "Kelengkapan"] and all(labels)
    head = d.find_element("css selector", "table.children thead")
    assert not head.is_displayed() or head.rect["x"] < 0
    screen.set_viewport(d, *screen.DESKTOP)
    assert row.value_of_css_property("display") == "table-row"


def test_screenshot_pages_are_found_through_the_api(server):
    found = {p.name: p.path for p in screen.main_pages(server)}
    assert found["tps"].endswith(f"/{TPS_A}") and found["rekap"] == f"/#/rekap/{ELECTION}/{FORM}/"
    assert found["rekap-kecamatan"].endswith("/31.71.01")
