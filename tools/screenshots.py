"""The dashboard's main pages as PNG, at desktop and phone size, from a running hub.

    .venv/bin/python -m tools.screenshots --url http://127.0.0.1:8080 --out docs/dashboard
    .venv/bin/python -m tools.screenshots --demo --out docs/dashboard   # the README's pictures

``--demo`` fills a hub the way the dashboard tests do (a region CA, kits, their signed
results through the real ingest, a photographed page, a signed election manifest with
names: tests/hub/test_api_support.py), serves it with `tps-hub serve` on a free loopback
port, and shoots that.

Drives Debian's headless Chromium (packages chromium and chromium-driver, installed by
scripts/setup) through Selenium. The pages are found through the hub's JSON API: the first
real contest, its whole-election view, the first kecamatan and desa down its tree, the
first TPS there (on a phone, from its form photo down), the kits, the anomalies, the
receipt look-up answering that TPS's receipt and the pages without JavaScript. The
dashboard's phone test measures the same pages with the same helpers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DESKTOP = (1366, 900)
PHONE = (390, 844)
WAIT_S = 30.0  # an upper bound for a page to settle, never a measured expectation


@dataclass(frozen=True)
class Page:
    name: str  # the PNG's name, without size or suffix
    path: str  # from the hub's root: "/#/kit", "/html/rekap/..."
    scripted: bool = True  # drawn by app.js (wait for it), or plain server HTML
    # On a phone, the first screen from this element down: what the picture is for lies
    # below the phone's first screen (the TPS's form photo under its names and chart).
    phone_from: str | None = None


def chromium_paths() -> tuple[str, str] | None:
    """Debian's Chromium and its WebDriver, or None if either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return None if browser is None or driver is None else (browser, driver)


@contextlib.contextmanager
def chromium(javascript: bool = True) -> Iterator[Any]:
    """A headless Chromium under Selenium; ``javascript=False`` browses as a reader with
    scripts turned off."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = chromium_paths()
    if found is None:
        raise SystemExit("Chromium or chromedriver is missing: run `bash scripts/setup`")
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The Debian driver given by path: Selenium Manager would try to download one.
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def set_viewport(driver: Any, width: int, height: int) -> None:
    """The layout viewport exactly ``width`` x ``height`` CSS pixels, as a phone's (a window
    size would include the browser's own frame)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700},
    )


def open_page(driver: Any, address: str, page: Page) -> None:
    """Load the page and wait until it has drawn its data."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")  # a hash change alone would not reload the page
    driver.get(address.rstrip("/") + page.path)
    if page.scripted:
        WebDriverWait(driver, WAIT_S).until(
            lambda d: d.execute_script("return document.body && document.body.dataset.ready")
        )
    else:
        WebDriverWait(driver, WAIT_S).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )
    # Images (the form's photo, the charts) decide the layout's height: wait for them too.
    WebDriverWait(driver, WAIT_S).until(
        lambda d: d.execute_script("return [...document.images].every((i) => i.complete)")
    )


def document_width(driver: Any) -> int:
    """How wide the page is laid out: wider than the viewport means a sideways scroll."""
    return int(driver.execute_script("return document.documentElement.scrollWidth"))


def viewport_width(driver: Any) -> int:
    return int(driver.execute_script("return window.innerWidth"))


def shoot(driver: Any, path: Path, size: tuple[int, int], *, full: bool = True) -> Path:
    """The whole page at ``size``'s width, as one PNG (the viewport stretched to its
    height); ``full=False``: the first screen only, as a reader first sees it."""
    if not full:
        driver.save_screenshot(str(path))
        return path
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    set_viewport(driver, size[0], max(size[1], min(height, 8000)))
    driver.save_screenshot(str(path))
    set_viewport(driver, *size)
    return path


def _json(address: str, path: str) -> Any:
    with urllib.request.urlopen(address.rstrip("/") + "/api/v1" + path, timeout=30) as answer:
        return json.load(answer)


def _with_photo(address: str, base: str, codes: list[str]) -> str | None:
    """The first of ``codes`` whose form photo the hub holds: a TPS page worth showing."""
    for code in codes[:20]:
        view = _json(address, f"{base}/tps/{urllib.parse.quote(code)}")
        if any(p["stored"] for p in view["pages"]):
            return code
    return None


def _receipt(address: str, base: str, tps: str) -> str:
    """The QR text of the receipt the kit showed for the TPS's counting version."""
    from protocol.receipt import Receipt

    counting = _json(address, f"{base}/tps/{urllib.parse.quote(tps)}")["counting"]
    return Receipt(tps, counting["seq"], counting["document_sha256"]).text()


def main_pages(address: str) -> list[Page]:
    """The pages a README shows, found through the hub's JSON API."""
    contests = [c for c in _json(address, "/contests?training=false")["contests"]]
    if not contests:
        raise SystemExit(f"the hub at {address} holds no real results yet")
    election, form = contests[0]["election"], contests[0]["form"]
    q = urllib.parse.quote
    base = f"/contests/{q(election)}/{q(form)}"
    region, trail = "", []
    while True:
        view = _json(address, f"{base}/regions?region={q(region)}")
        reported = [c for c in view["children"] if c["tps_reported"] or c["held"]]
        if not reported:
            raise SystemExit(f"no reported region under {region!r}")
        child = reported[0]["region"]
        if view["children_level"] == "tps":
            tps = _with_photo(address, base, [c["region"] for c in reported]) or child
            break
        trail.append(child)
        region = child
    kecamatan = trail[2] if len(trail) > 2 else trail[-1]
    pages = [
        Page("rekap", f"/#/rekap/{election}/{form}/"),
        Page("rekap-kecamatan", f"/#/rekap/{election}/{form}/{kecamatan}"),
        Page("tps", f"/#/tps/{election}/{form}/{tps}", phone_from="figure.page"),
        Page("kit", "/#/kit"),
        Page("anomali", "/#/anomali"),
        Page("tanda-terima", "/#/tanda-terima?qr=" + q(_receipt(address, base, tps), safe="")),
        Page("html-rekap", f"/html/rekap/{election}/{form}/", scripted=False),
        Page("html-tps", f"/html/tps/{election}/{form}/{tps}", scripted=False),
    ]
    return pages


@contextlib.contextmanager
def demo_hub(work: Path) -> Iterator[str]:
    """A hub filled as the dashboard tests fill theirs, with a signed manifest, served by
    `tps-hub serve`; its address."""
    import subprocess
    import sys
    import time
    import tomllib

    import tomli_w

    from hub.broker_process import free_port
    from provisioning import authority as ca
    from tests.conftest import PASSPHRASE
    from tests.hub.test_api_support import (
        TPS_A,
        TPS_B,
        TPS_C,
        TPS_D,
        TPS_E,
        fill_hub,
        write_hub_toml,
    )
    from tests.manifests import ppwp_manifest, signed_manifest

    hub = fill_hub(work)
    dpt = {TPS_A: (120, 131), TPS_B: (100, 101), TPS_C: (150, 140), TPS_D: (90, 95)}
    dpt[TPS_E] = (80, 85)
    manifest = work / "election.json"
    manifest.write_bytes(signed_manifest(ca.load_ca(work / "ca", PASSPHRASE), ppwp_manifest(dpt)))
    port = free_port()
    path = write_hub_toml(hub, port)
    config = tomllib.loads(path.read_text())
    config["paths"]["manifests"] = [str(manifest)]
    path.write_text(tomli_w.dumps(config))
    binary = Path(sys.executable).parent / "tps-hub"
    process = subprocess.Popen(
        [str(binary), "serve", "--config", str(path), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                _json(address, "/contests")
                break
            except OSError:
                time.sleep(0.2)
        yield address
    finally:
        process.terminate()
        process.wait(timeout=WAIT_S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="the hub's address, e.g. http://127.0.0.1:8080")
    where.add_argument("--demo", action="store_true", help="fill and serve a demo hub first")
    parser.add_argument("--out", type=Path, required=True, help="directory for the PNG files")
    parser.add_argument(
        "--only", action="append", help="only the page of this name (repeatable), e.g. rekap"
    )
    parser.add_argument(
        "--full", action="store_true", help="the whole page, not only its first screen"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.url:
        shoot_all(args.url, args.out, args.only, args.full)
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tps-screens-") as work, demo_hub(Path(work)) as url:
        shoot_all(url, args.out, args.only, args.full)


def shoot_all(address: str, out: Path, only: list[str] | None, full: bool) -> None:
    pages = [p for p in main_pages(address) if not only or p.name in only]
    with chromium() as driver:
        for page in pages:
            for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
                set_viewport(driver, *size)
                open_page(driver, address, page)
                if label == "phone" and page.phone_from and not full:
                    driver.execute_script(
                        "document.querySelector(arguments[0]).scrollIntoView()", page.phone_from
                    )
                path = shoot(driver, out / f"{page.name}-{label}.png", size, full=full)
                wide = document_width(driver)
                note = "" if wide <= size[0] else f"  (TOO WIDE: {wide} px)"
                print(f"{path}  {size[0]}x{size[1]}, page {wide} px wide{note}")


if __name__ == "__main__":
    main()
