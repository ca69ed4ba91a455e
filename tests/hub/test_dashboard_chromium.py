"""The dashboard in a real browser: `tps-hub serve` (uvicorn) over a hub filled through the
real ingest path, driven in Debian's headless Chromium through its WebDriver.

What a user sees is asserted: the region tree's totals and completeness, drilling down by
clicks to a TPS with its form photo, numbers and versions, kits online and offline, the
anomalies, a receipt look-up with its inclusion proof checked in the page, and the
real/training switch. Screenshots go to the test's directory (or TPS_SCREENSHOTS).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.broker_process import free_port
from hub.store import utc_text
from tests.hub.test_api_support import (
    ELECTION,
    FORM,
    TPS_A,
    TPS_B,
    TPS_C,
    TPS_D,
    TRAINING,
    WITNESS,
    FilledHub,
    fill_hub,
    write_hub_toml,
)
from tests.hub.test_store_support import utcnow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Chromium or chromedriver is not installed (bash scripts/setup installs the Debian "
    "packages chromium and chromium-driver)",
)
WAIT_S = 30  # an upper bound for the page to settle, never a measured expectation
TPS_BIN = Path(sys.executable).parent / "tps-hub"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> FilledHub:
    return fill_hub(tmp_path_factory.mktemp("dashboard"))


@pytest.fixture(scope="module")
def server(hub: FilledHub) -> Iterator[str]:
    port = free_port()
    with serving(hub, write_hub_toml(hub, port), port) as address:
        yield address


@contextlib.contextmanager
def serving(hub: FilledHub, config: Path, port: int) -> Iterator[str]:
    """`tps-hub serve` on a free loopback port, as an operator runs it."""
    log = (hub.root / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(TPS_BIN), "serve", "--config", str(config), "--host", "127.0.0.1"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    address = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(address, process, hub.root / "serve.log")
        yield address
    finally:
        process.terminate()
        process.wait(timeout=WAIT_S)
        log.close()


def wait_until_serving(address: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"tps-hub serve exited: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"{address}/api/v1/contests", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"tps-hub serve did not answer: {log.read_text()}")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The Debian driver given by path: Selenium Manager would try to download one.
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("TPS_SCREENSHOTS")
    directory = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


# -- helpers: find what a user sees, waiting for the page to draw it ------------------------------


def wait_for(driver, css: str, text: str | None = None):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def found(d):
        for element in d.find_elements(By.CSS_SELECTOR, css):
            if text is None or text in element.text:
                return element
        return False

    # The page redraws a view when its data arrives: an element found a moment before may
    # be gone; look again.
    try:
        return WebDriverWait(
            driver, WAIT_S, ignored_exceptions=[StaleElementReferenceException]
        ).until(found)
    except Exception:
        body = driver.find_element(By.TAG_NAME, "body").text
        pytest.fail(f"never saw {css!r} with {text!r}; the page shows:\n{body[:2000]}")


def click_link(driver, text: str) -> None:
    from selenium.webdriver.common.by import By

    wait_for(driver, "a", text)
    driver.find_element(By.LINK_TEXT, text).click()


def number(n: int) -> str:
    """How the page writes a number (id-ID: 1.234)."""
    return f"{n:,}".replace(",", ".")


def no_script_errors(driver) -> None:
    # Network entries are the API's own 400s and 404s the tests ask for; a script error is not.
    logged = driver.get_log("browser")
    errors = [e for e in logged if e["level"] == "SEVERE" and e["source"] != "network"]
    assert errors == [], errors


def save(driver, shots: Path, name: str) -> Path:
    # The whole page, not the window: set the window to the page's height first.
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, max(1000, min(int(height) + 40, 6000)))
    path = shots / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1400, 1000)
    return path


# -- the tests -----------------------------------------------------------------------------------


def test_region_tree_drills_down_to_a_tps(browser, server, hub, shots):
    d = browser
    d.get(server + "/")
    # One real contest: the page goes straight to its whole-election view.
    wait_for(d, "h2", "SELURUH WILAYAH")
    # d1's votes exceed its registered voters: held out of the totals, "perlu verifikasi".
    published = ("a2", "b1", "c1")
    total = sum(hub.fields[n]["V.C"] for n in published)
    assert wait_for(d, '#region-headline dd[data-field="V.C"]').text == number(total)
    assert "3/5 TPS (60,0%)" in wait_for(d, ".summary").text
    assert "1 TPS perlu verifikasi" in wait_for(d, "#region-held").text
    assert TPS_D in wait_for(d, "#region-held").text
    save(d, shots, "1-whole-election")
    for step, heading in (
        ("31", "PROVINSI 31"),
        ("31.71", "KABUPATEN/KOTA 31.71"),
        ("31.71.01", "KECAMATAN 31.71.01"),
        ("31.71.01.1001", "KELURAHAN/DESA 31.71.01.1001"),
    ):
        click_link(d, step)
        wait_for(d, "h2", heading)
    village = {n: hub.fields[n] for n in ("a2", "b1")}
    row = wait_for(d, 'tr[data-region="31.71.01.1001.001"]')
    assert "1/1 TPS (100,0%)" in row.text and number(village["a2"]["V.C"]) in row.text
    assert number(sum(f["IV.1"] for f in village.values())) in wait_for(d, "#region-headline").text
    save(d, shots, "2-desa")

    click_link(d, TPS_B)
    wait_for(d, "h2", f"TPS {TPS_B}")
    image = wait_for(d, "#page-image")
    # The hub rectifies the page on the first request: wait for it, as a reader does.
    from selenium.webdriver.support.ui import WebDriverWait

    loaded = WebDriverWait(d, WAIT_S).until(
        lambda d: d.execute_script(
            "const i = arguments[0]; return i.complete && i.naturalWidth > 0", image
        )
    )
    assert loaded and image.get_attribute("alt") == "Foto formulir halaman 2, diluruskan"
    assert wait_for(d, 'button[data-page="1"]').get_attribute("disabled") is not None
    corrected = wait_for(d, 'tr[data-field="IV.2"]')
    assert "corrected" in corrected.get_attribute("class") and "terbaca 44" in corrected.text
    assert number(hub.fields["b1"]["IV.2"]) in corrected.text
    assert "doubtful" in wait_for(d, 'tr[data-field="V.B"]').get_attribute("class")
    assert "on-page" in corrected.get_attribute("class")  # beside the page 2 photo
    save(d, shots, "3-tps-with-photo")

    d.back()
    click_link(d, TPS_A)
    wait_for(d, "h2", f"TPS {TPS_A}")
    versions = d.find_elements("css selector", "table.versions tbody tr")
    assert [v.get_attribute("data-sha256") for v in versions] == [hub.sha("a1"), hub.sha("a2")]
    assert "diganti" in versions[0].text and "dihitung" in versions[1].text
    assert "changed" in wait_for(d, 'tr[data-field="V.C"]').get_attribute("class")
    assert "changed-after-first-report" in wait_for(d, "ul.anomalies").text
    save(d, shots, "4-tps-versions")
    no_script_errors(d)


def test_kits_online_and_offline(browser, server, hub, shots):
    d = browser
    d.get(server + "/#/kit")
    summary = wait_for(d, "#kit-summary", "Online")
    # C's last will says offline, but it was heard just now: disconnected, not silent; the
    # replacement was never heard from: silent, as the anomaly page lists it.
    assert "Online: 3 · Terputus: 1" in summary.text and "Tanpa kabar: 1" in summary.text
    online = wait_for(d, f'tr[data-kit="{hub.kits[TPS_B]}"]')
    assert "online" in online.get_attribute("class") and "online" in online.text
    last_will = wait_for(d, f'tr[data-kit="{hub.kits[TPS_C]}"]')
    assert last_will.get_attribute("data-state") == "said-offline" and "terputus" in last_will.text
    never = wait_for(d, f'tr[data-kit="{hub.kits["replacement"]}"]')
    assert "belum pernah" in never.text and never.get_attribute("data-state") == "silent"
    save(d, shots, "5-kits")
    no_script_errors(d)


def test_anomalies_list(browser, server, hub, shots):
    d = browser
    d.get(server + "/#/anomali")
    wait_for(d, 'tr[data-kind="votes-above-registered"]')
    changed = wait_for(d, 'tr[data-kind="changed-after-first-report"]', TPS_A)
    assert "berubah dari" in changed.text and "setelah laporan pertama" in changed.text
    silent = wait_for(d, "#silent-kits")
    assert hub.kits["replacement"] in silent.text and hub.kits[TPS_C] not in silent.text
    # The same count as the kits page's "Tanpa kabar": one definition of a silent kit.
    assert wait_for(d, "#silent-total").text == "(1)"
    assert wait_for(d, "#images-missing-total").text == "(0)"  # photos: none overdue yet
    # The footer says who vouches for the log: the witness that cosigned it at size 3, and
    # that the 2 results logged since wait for its next round.
    witnesses = wait_for(d, "#log-witnesses", "Log transparansi")
    assert "hasil, kepala pohon terakhir" in witnesses.text
    cosigners = wait_for(d, "#log-cosigners").text
    assert cosigners == (
        f"Disaksikan (cosigned) oleh: {WITNESS}, sampai ukuran 3 (3 hasil pertama dari 5; "
        "yang lebih baru menunggu putaran saksi berikutnya)."
    )
    save(d, shots, "6-anomalies")
    no_script_errors(d)
    # Two hours on, the page photos the kits never sent are overdue, each named in words.
    store = hub.open_store()
    try:
        with store.db.transaction():
            store.db.execute(
                "UPDATE awaited_images SET named_at = ?",
                (utc_text(utcnow() - dt.timedelta(hours=2)),),
            )
    finally:
        store.close()
    d.get(server + "/#/rekap")
    d.get(server + "/#/anomali")
    missing = wait_for(d, "#images-missing", f"TPS {TPS_B}: foto halaman 1 belum diterima")
    assert f"TPS {TPS_B}: foto halaman 2" not in missing.text  # that one came
    assert wait_for(d, "#images-missing-total").text != "(0)"
    save(d, shots, "6-anomalies-photos-overdue")
    no_script_errors(d)


def look_up(d, text: str) -> None:
    box = wait_for(d, "#receipt-qr")
    box.clear()
    box.send_keys(text)
    wait_for(d, "#receipt-form button").click()


CONSISTENT = "konsisten dengan tree head hub"


def test_receipt_look_up_checks_the_proof_in_the_page(browser, server, hub, shots):
    d = browser
    d.get(server + "/#/tanda-terima")
    look_up(d, hub.receipt("a2", 2, TPS_A))
    proof = wait_for(d, "#receipt-proof", CONSISTENT).text
    # It says what it checked, and what it did not: the signatures are tps-verify's.
    assert "tanda tangan tidak diperiksa" in proof and "tps-verify" in proof
    assert wait_for(d, "#receipt-holds").text.startswith("Ya")
    assert wait_for(d, "#receipt-counts").text.startswith("Ya")
    assert wait_for(d, "#receipt-newer").text.startswith("Tidak")
    save(d, shots, "7-receipt-counts")

    look_up(d, hub.receipt("a1", 1, TPS_A))
    wait_for(d, "#receipt-verdict", "newer version")
    assert wait_for(d, "#receipt-counts").text.startswith("Tidak")
    assert wait_for(d, "#receipt-newer").text.startswith("Ya")
    assert wait_for(d, "#receipt-proof", CONSISTENT)

    look_up(d, f"TPSR1|{TPS_A}|x|{hub.sha('a2')}")
    assert "qr.seq" in wait_for(d, "#receipt-error").text
    no_script_errors(d)


# Stands in for a hub that answers a receipt with another document's (valid) proof: the
# receipt's own fields are kept, the rest is the answer for the receipt `arguments[0]`.
_LYING_HUB = """
const other = arguments[0];
const real = window.fetch.bind(window);
window.fetch = async (url, options) => {
  if (!String(url).includes("/receipts?")) return real(url, options);
  const asked = await (await real(url, options)).json();
  const given = await (await real("/api/v1/receipts?qr=" + encodeURIComponent(other))).json();
  const body = JSON.stringify({ ...given, receipt: asked.receipt });
  return new Response(body, { status: 200, headers: { "Content-Type": "application/json" } });
};
"""


def test_the_page_refuses_a_proof_of_another_document_than_the_receipt(browser, server, hub):
    d = browser
    d.get(server + "/#/tanda-terima")
    wait_for(d, "#receipt-qr")
    d.execute_script(_LYING_HUB, hub.receipt("b1", 1, TPS_B))
    look_up(d, hub.receipt("a2", 2, TPS_A))
    refused = wait_for(d, "#receipt-proof", "GAGAL").text
    assert "tanda terima" in refused and CONSISTENT not in refused
    d.get(server + "/")  # a fresh page: the stand-in is gone
    no_script_errors(d)


def test_kits_and_anomalies_page_through_with_more(browser, server, hub, shots):
    from selenium.webdriver.common.by import By

    d = browser
    d.get(server + "/#/kit?limit=2")
    # Waited for with its text: the view redraws when its data arrives, so an element
    # found before that may be gone when its text is read.
    wait_for(d, "#kits-shown", "2 dari 6 kit")
    while d.find_elements(By.CSS_SELECTOR, "#kits-more:not([hidden])"):
        shown = len(d.find_elements(By.CSS_SELECTOR, "table.kits tbody tr"))
        d.find_element(By.ID, "kits-more").click()
        wait_for(d, "#kits-shown", f"{min(shown + 2, 6)} dari 6")
    rows = d.find_elements(By.CSS_SELECTOR, "table.kits tbody tr")
    kits = [r.get_attribute("data-kit") for r in rows]
    assert kits == sorted(set(kits)) and len(kits) == 6 and hub.kits["replacement"] in kits
    assert "Online: 3 · Terputus: 1" in wait_for(d, "#kit-summary").text
    save(d, shots, "9-kits-paged")

    d.get(server + "/#/anomali?limit=1")
    total = int(wait_for(d, "#anomalies-total", " terbuka").text.split()[0])
    while d.find_elements(By.CSS_SELECTOR, "#anomalies-more:not([hidden])"):
        shown = len(d.find_elements(By.CSS_SELECTOR, "table.anomalies tbody tr"))
        d.find_element(By.ID, "anomalies-more").click()
        wait_for(d, f"table.anomalies tbody tr:nth-child({shown + 1})")
    ids = [
        r.get_attribute("data-id")
        for r in d.find_elements(By.CSS_SELECTOR, "table.anomalies tbody tr")
    ]
    assert len(ids) == len(set(ids)) == total >= 2
    no_script_errors(d)


def test_training_switch_never_mixes_training_into_real(browser, server, hub, shots):
    d = browser
    d.get(server + "/#/rekap")
    wait_for(d, "h2", "SELURUH WILAYAH")
    wait_for(d, 'input[value="training"]').click()
    wait_for(d, "h2 small", TRAINING)
    assert d.find_element("id", "training-banner").is_displayed()
    # No witness cosigned the training log: the hub alone vouches for it, and says so.
    wait_for(d, "#log-cosigners", "Belum ada saksi (witness)")
    headline = wait_for(d, '#region-headline dd[data-field="V.C"]')
    assert headline.text == number(hub.fields["t1"]["V.C"])
    save(d, shots, "8-training")
    wait_for(d, 'input[value="real"]').click()
    wait_for(d, "h2 small", ELECTION)
    assert not d.find_element("id", "training-banner").is_displayed()
    assert FORM in d.current_url
    no_script_errors(d)


def test_the_pages_own_sha256_matches(browser, server):
    """The page's SHA-256 for plain-http sites (no WebCrypto there), against hashlib."""
    browser.get(server + "/#/tanda-terima")
    wait_for(browser, "#receipt-qr")
    for size in (0, 1, 55, 56, 64, 1000, 70_000):
        data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
        digest = browser.execute_script(
            "return Array.from(window.tpsSha256.sha256Plain(new Uint8Array(arguments[0])))",
            list(data),
        )
        assert bytes(digest) == hashlib.sha256(data).digest(), size
