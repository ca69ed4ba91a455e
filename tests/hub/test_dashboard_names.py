"""The dashboard names regions and candidates as the election's signed manifest does, in a
real browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.broker_process import free_port
from tests.hub.test_api_support import (
    ELECTION,
    FORM,
    FilledHub,
    fill_hub,
    write_hub_toml,
    write_manifest,
)
from tests.hub.test_dashboard_chromium import (  # noqa: F401 (fixtures)
    CHROMEDRIVER,
    CHROMIUM,
    browser,
    serving,
    shots,
    wait_for,
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None, reason="needs Debian's chromium and its driver"
)
DPT = {"31.71.01.1001.001": (120, 131), "31.71.01.1001.002": (100, 101)}
DPT |= {"31.71.01.1002.001": (150, 140), "31.71.02.2001.001": (90, 95)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    hub: FilledHub = fill_hub(tmp_path_factory.mktemp("names"))
    port = free_port()
    path = write_hub_toml(hub, port, paths={"manifests": [str(write_manifest(hub, DPT))]})
    with serving(hub, path, port) as address:
        yield address


def test_region_and_its_children_are_named(server, browser, shots):  # noqa: F811
    browser.get(f"{server}/#/rekap/{ELECTION}/{FORM}/31.71.01")
    assert wait_for(browser, "h2", "Gambir (31.71.01)")
    assert wait_for(browser, 'tr[data-region="31.71.01.1002"]', "Cideng (31.71.01.1002)")
    crumbs = wait_for(browser, "nav.crumbs", "Kota Administrasi Jakarta Pusat (31.71)")
    assert "Daerah Khusus Ibukota Jakarta (31)" in crumbs.text
    cards = wait_for(browser, "#region-headline", "H. PRABOWO SUBIANTO / GIBRAN RAKABUMING RAKA")
    assert "Paslon 02" in cards.text
    browser.save_screenshot(str(shots / "rekap-nama.png"))
