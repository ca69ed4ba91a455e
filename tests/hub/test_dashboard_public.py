"""The public results pages as a reader sees them, at desktop (1366 x 900) and phone
(390 x 844) size in Debian's headless Chromium: no page wider than the screen, names from
the election's signed manifest, vote shares and their chart.

The hub is filled through the real ingest path (tests/hub/test_api_support.py) and served
by `tps-hub serve` with a signed manifest; screenshots go to the test's directory (or
TPS_SCREENSHOTS), made with tools/screenshots.py's helpers, as the README's are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator

import pytest
import tomli_w

from hub.broker_process import free_port
from hub.store import utc_text
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
    write_manifest,
)
from tests.hub.test_dashboard_chromium import serving, shots  # noqa: F401 (a fixture)
from tests.hub.test_store_support import HUB_ID, LOG_ID, utcnow
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
UNKNOWN_TPS = "31.71.01.1001.009"  # in a known desa, but no TPS the hub or manifest knows


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> FilledHub:
    return fill_hub(tmp_path_factory.mktemp("public"))


@pytest.fixture(scope="module")
def server(hub: FilledHub) -> Iterator[str]:
    port = free_port()
    paths = {
        "manifests": [str(write_manifest(hub, DPT))],
        "citizen_reports": str(hub.root / "citizen-reports.sqlite3"),
    }
    path = write_hub_toml(hub, port, paths=paths)
    with serving(hub, path, port) as address:
        yield address


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with screen.chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def busy_anomalies(server: str, hub: FilledHub) -> None:
    """The anomaly page at its fullest: a citizen's open report, and page photos overdue
    (named two hours ago; the hub lists them after an hour)."""
    import json
    import urllib.request

    body = {"field": "IV.1", "read_value": hub.fields["a2"]["IV.1"] + 3}
    body["note"] = "di foto tertulis angka lain, mohon dicek ulang oleh operator"
    request = urllib.request.Request(
        f"{server}/api/v1/contests/{ELECTION}/{FORM}/tps/{TPS_A}/reports",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 201
    store = hub.open_store()
    try:
        with store.db.transaction():
            earlier = utc_text(utcnow() - dt.timedelta(hours=2))
            store.db.execute("UPDATE awaited_images SET named_at = ?", (earlier,))
    finally:
        store.close()


def pages(hub: FilledHub) -> list[screen.Page]:
    rekap, html = f"/#/rekap/{ELECTION}/{FORM}", f"/html/rekap/{ELECTION}/{FORM}"
    scripted = [
        screen.Page("rekap", f"{rekap}/"),
        screen.Page("rekap-provinsi", f"{rekap}/31"),
        screen.Page("rekap-kabkota", f"{rekap}/31.71"),
        screen.Page("rekap-kecamatan", f"{rekap}/31.71.01"),
        screen.Page("rekap-desa", f"{rekap}/31.71.01.1001"),
        screen.Page("tps", f"/#/tps/{ELECTION}/{FORM}/{TPS_B}"),
        screen.Page("tps-versions", f"/#/tps/{ELECTION}/{FORM}/{TPS_A}"),
        screen.Page("tps-tidak-ditemukan", f"/#/tps/{ELECTION}/{FORM}/{UNKNOWN_TPS}"),
        screen.Page("kit", "/#/kit"),
        screen.Page("anomali", "/#/anomali"),
        screen.Page("tanda-terima", f"/#/tanda-terima?qr={hub.receipt('a2', 2, TPS_A)}"),
    ]
    plain = [
        screen.Page("html-kontes", "/html/", scripted=False),
        screen.Page("html-rekap", f"{html}/", scripted=False),
        screen.Page("html-provinsi", f"{html}/31", scripted=False),
        screen.Page("html-kabkota", f"{html}/31.71", scripted=False),
        screen.Page("html-kecamatan", f"{html}/31.71.01", scripted=False),
        screen.Page("html-desa", f"{html}/31.71.01.1001", scripted=False),
        screen.Page("html-tps", f"/html/tps/{ELECTION}/{FORM}/{TPS_B}", scripted=False),
        screen.Page(
            "html-tidak-ditemukan", f"/html/tps/{ELECTION}/{FORM}/{UNKNOWN_TPS}", scripted=False
        ),
        screen.Page("html-tanda-terima", "/tanda-terima?qr=" + hub.receipt("a2", 2, TPS_A), False),
        screen.Page("api-docs", "/api/v1/docs", scripted=False),
    ]
    return scripted + plain


# What shows each page is the one meant (a level's heading, the state that widens it), and
# that its names are there: the manifest's, as a reader sees them at either size.
PAIR = ("#region-headline", "H. PRABOWO SUBIANTO")
SHOWN = {
    "rekap": [("h2", "SELURUH WILAYAH"), PAIR],
    "rekap-provinsi": [("h2", "Daerah Khusus Ibukota Jakarta (31)"), PAIR],
    "rekap-kabkota": [("h2", "Kota Administrasi Jakarta Pusat (31.71)"), PAIR],
    "rekap-kecamatan": [("h2", "Gambir (31.71.01)"), PAIR],
    "rekap-desa": [("h2", "Gambir (31.71.01.1001)"), PAIR],
    "tps": [("#tps-place", "Kelurahan/Desa Gambir"), ('tr[data-field="IV.1"]', "ANIES")],
    "tps-versions": [("#tps-place", "Kelurahan/Desa Gambir")],
    "html-provinsi": [("h2", "Daerah Khusus Ibukota Jakarta (31)")],
    "html-kabkota": [("h2", "Kota Administrasi Jakarta Pusat (31.71)")],
    "html-kecamatan": [("h2", "Gambir (31.71.01)")],
    "tps-tidak-ditemukan": [("p.error", "Tidak ditemukan")],
    "html-tidak-ditemukan": [("h2", "Tidak ditemukan")],
    "anomali": [("#open-reports li", "di foto tertulis angka lain"), ("#images-missing li", "")],
}
# The scripted pages that draw the vote-share chart (an SVG the hub draws).
CHARTED = {"rekap", "rekap-provinsi", "rekap-kabkota", "rekap-kecamatan", "rekap-desa", "tps"}


@pytest.mark.parametrize("size", sorted(SIZES))
def test_no_page_is_wider_than_the_screen(browser, server, hub, busy_anomalies, shots, size):  # noqa: F811
    d = browser
    width, height = SIZES[size]
    screen.set_viewport(d, width, height)
    too_wide = {}
    for page in pages(hub):
        screen.open_page(d, server, page)
        assert screen.viewport_width(d) == width
        for css, text in SHOWN.get(page.name, []):
            assert text in d.find_element("css selector", css).text, (page.name, css)
        if page.name in CHARTED:
            chart = d.find_element("css selector", "#share-chart")
            assert image_loaded(d, chart) and "PRABOWO" in chart.get_attribute("alt"), page.name
            assert chart_fits(d, chart, width), page.name
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
    # The first TPS whose form photo the hub holds: a page worth showing.
    assert found["tps"].endswith(f"/{TPS_B}") and found["rekap"] == f"/#/rekap/{ELECTION}/{FORM}/"
    assert found["rekap-kecamatan"].endswith("/31.71.01")


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}".replace(".", ",") + "%"


def wait_for(driver, css: str, text: str | None = None):
    from tests.hub.test_dashboard_chromium import wait_for as found

    return found(driver, css, text)


def image_loaded(driver, element) -> bool:
    return driver.execute_script(
        "const i = arguments[0]; return i.complete && i.naturalWidth > 0", element
    )


# Every level of the region tree, as the manifest names it, and the results it holds.
LEVELS = [
    ("", "SELURUH WILAYAH", ("a2", "b1", "c1")),  # d1 is held: out of every total
    ("31", "Daerah Khusus Ibukota Jakarta (31)", ("a2", "b1", "c1")),
    ("31.71", "Kota Administrasi Jakarta Pusat (31.71)", ("a2", "b1", "c1")),
    ("31.71.01", "Gambir (31.71.01)", ("a2", "b1", "c1")),
    ("31.71.01.1001", "Gambir (31.71.01.1001)", ("a2", "b1")),
]


def chart_fits(driver, chart, width: int) -> bool:
    box = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", chart)
    return box["width"] > 0 and box["left"] >= 0 and box["right"] <= width


def test_names_shares_and_the_chart_at_every_level(browser, server, hub):
    # At 390 x 844 the width test checks the same names and charts on these pages.
    d = browser
    width, height = screen.DESKTOP
    screen.set_viewport(d, width, height)
    for region, name, published in LEVELS:
        screen.open_page(d, server, screen.Page("rekap", f"/#/rekap/{ELECTION}/{FORM}/{region}"))
        assert name in wait_for(d, "h2").text, region
        votes = {f: sum(hub.fields[n][f] for n in published) for f in ("IV.1", "IV.2", "IV.3")}
        expected = share(votes["IV.2"], sum(votes.values()))
        assert wait_for(d, 'dd[data-share="IV.2"]').text == expected, region
        assert "H. PRABOWO SUBIANTO" in wait_for(d, "#region-headline").text, region
        chart = wait_for(d, "#share-chart")
        assert image_loaded(d, chart) and chart_fits(d, chart, width), region
        alt = chart.get_attribute("alt")
        assert "PRABOWO" in alt and expected in alt, region
        heads = wait_for(d, "table.children thead").get_attribute("textContent")
        assert "GANJAR" in heads, region
        if region == "":
            # The TPS in hold 251 + 201 + 290 of the manifest's 1,092 registered voters.
            dpt_in = sum(DPT[t][0] + DPT[t][1] for t in (TPS_A, TPS_B, "31.71.01.1002.001"))
            summary = wait_for(d, "#region-summary", "pemilih").text
            assert f"memuat {share(dpt_in, 1092)} pemilih" in summary and "3/5 TPS" in summary

    screen.open_page(d, server, screen.Page("tps", f"/#/tps/{ELECTION}/{FORM}/{TPS_B}"))
    place = wait_for(d, "#tps-place").text
    assert place.startswith("Kelurahan/Desa Gambir, Kecamatan Gambir, Kota Administrasi")
    assert "Kota Administrasi Jakarta Pusat" in wait_for(d, "nav.crumbs").text
    chart = wait_for(d, "#share-chart")
    assert image_loaded(d, chart) and chart_fits(d, chart, width)
    own = hub.fields["b1"]
    mine = share(own["IV.1"], own["IV.1"] + own["IV.2"] + own["IV.3"])
    assert mine in chart.get_attribute("alt")
    assert "ANIES" in wait_for(d, 'tr[data-field="IV.1"]').text


def test_a_hub_in_bali_writes_its_own_clock_and_log_head_in_wita(browser, hub, tmp_path):
    # The same results, served by a hub whose CA is Kota Denpasar's: the kits page's hub
    # time and the log's head belong to no TPS, so they take the hub's zone; a Jakarta
    # TPS's kit keeps WIB.
    from provisioning import authority as ca
    from tests.conftest import PASSPHRASE

    bali = ca.init_ca(
        tmp_path / "ca", region="51.71", name="KPU Kota Denpasar", passphrase=PASSPHRASE, days=30
    )
    port = free_port()
    config = tmp_path / "hub.toml"
    settings = {
        "hub": {"id": HUB_ID, "log_id": LOG_ID},
        "paths": {"ca_certificate": str(bali.directory / ca.CERT_FILE)},
        "database": {"url": hub.url},
        "api": {"host": "127.0.0.1", "port": port},
    }
    config.write_text(tomli_w.dumps(settings))
    d = browser
    screen.set_viewport(d, *screen.DESKTOP)
    with serving(dataclasses.replace(hub, root=tmp_path), config, port) as address:
        screen.open_page(d, address, screen.Page("kit", "/#/kit"))
        summary = wait_for(d, "#kit-summary", "waktu hub").text
        head = wait_for(d, "#log-witnesses", "kepala pohon").text
        kit = wait_for(d, f'tr[data-kit="{hub.kits[TPS_B]}"]').text
    assert re.search(r"waktu hub \d{4}-\d\d-\d\d \d\d:\d\d WITA", summary), summary
    assert re.search(r"kepala pohon terakhir [-\d]+ [:\d]+ WITA\.", head), head
    assert kit.endswith("WIB") or " WIB " in kit, kit


def test_the_chart_escapes_what_it_draws_and_serves_svg(server):
    import urllib.request
    import xml.etree.ElementTree as ET

    url = f"{server}/api/v1/contests/{ELECTION}/{FORM}/chart.svg?region=31.71.01"
    with urllib.request.urlopen(url) as answer:
        assert answer.headers["Content-Type"].startswith("image/svg+xml")
        svg = ET.fromstring(answer.read())
    ns = "{http://www.w3.org/2000/svg}"
    assert svg.tag == f"{ns}svg" and not svg.findall(f".//{ns}script")
    bars = [r for r in svg.iter(f"{ns}rect") if r.get("data-option")]
    assert [b.get("data-option") for b in bars] == ["1", "2", "3"]
    assert "PRABOWO" in "".join(svg.itertext())


@pytest.fixture(scope="module")
def no_script() -> Iterator[object]:
    with screen.chromium(javascript=False) as driver:
        yield driver


def test_without_javascript_the_recap_and_a_tps_are_plain_pages(no_script, server, hub, shots):  # noqa: F811
    from selenium.webdriver.common.by import By

    d = no_script
    screen.set_viewport(d, *screen.PHONE)
    screen.open_page(d, server, screen.Page("root", "/", scripted=False))
    assert d.execute_script("return document.body.dataset.ready") is None  # no script ran
    d.find_element(By.PARTIAL_LINK_TEXT, "halaman biasa").click()
    d.find_element(By.PARTIAL_LINK_TEXT, ELECTION).click()
    published = ("a2", "b1", "c1")
    total = sum(hub.fields[n]["V.C"] for n in published)
    assert d.find_element(By.CSS_SELECTOR, 'td[data-field="V.C"]').text == f"{total:,}".replace(
        ",", "."
    )
    summary = d.find_element(By.ID, "region-summary").text
    assert "3/5 TPS" in summary and "pemilih" in summary
    shares = d.find_element(By.CSS_SELECTOR, "ul.share-list").text
    assert "PRABOWO" in shares and "%" in shares
    assert image_loaded(d, d.find_element(By.ID, "share-chart"))
    for step in (
        "Daerah Khusus Ibukota Jakarta",
        "Kota Administrasi",
        "Gambir (31.71.01)",
        "Gambir (31.71.01.1001)",
        TPS_B,
    ):
        d.find_element(By.PARTIAL_LINK_TEXT, step).click()
    assert d.find_element(By.TAG_NAME, "h2").text.startswith(f"TPS {TPS_B}")
    assert "Kelurahan/Desa Gambir" in d.find_element(By.ID, "tps-place").text
    row = d.find_element(By.CSS_SELECTOR, 'tr[data-field="IV.2"]')
    assert f"{hub.fields['b1']['IV.2']}" in row.text and "terbaca 44" in row.text
    assert "corrected" in row.get_attribute("class")
    thumb = d.find_element(By.CSS_SELECTOR, "img.thumb")
    assert image_loaded(d, thumb) and "/rectified?document=" in thumb.get_attribute("src")
    # Without a script too, the KPPS-confirmed field is boxed over the rectified page.
    mark = d.find_element(By.CSS_SELECTOR, 'svg.marks g.mark.confirmed[data-field="IV.3"]')
    assert mark.rect["width"] > 0 and mark.rect["x"] >= thumb.rect["x"]
    assert "dikonfirmasi KPPS" in d.find_element(By.ID, "marks-legend").text
    assert screen.document_width(d) <= screen.PHONE[0]
    screen.shoot(d, shots / "html-tps-no-script.png", screen.PHONE)

    d.get(f"{server}/html/tps/{ELECTION}/{FORM}/{TPS_A}")
    changed = d.find_element(By.CSS_SELECTOR, 'li[data-kind="changed-after-first-report"]').text
    assert "setelah laporan pertama" in changed and "WIB" in changed
    d.get(f"{server}/html/tps/{ELECTION}/{FORM}/{UNKNOWN_TPS}")
    assert "Tidak ditemukan" in d.find_element(By.TAG_NAME, "h2").text


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_form_photo_zooms_to_its_own_size_without_widening_the_page(browser, server, size):
    d = browser
    screen.set_viewport(d, *SIZES[size])
    screen.open_page(d, server, screen.Page("tps", f"/#/tps/{ELECTION}/{FORM}/{TPS_B}"))
    image = wait_for(d, "#page-image")
    natural = d.execute_script("return arguments[0].naturalWidth", image)
    assert image.rect["width"] < natural  # fitted beside the numbers
    wait_for(d, "#page-zoom").click()
    assert wait_for(d, "#page-zoom").get_attribute("aria-pressed") == "true"
    assert abs(image.rect["width"] - natural) <= 2  # its own pixels (and a 1 px border)
    assert screen.document_width(d) <= SIZES[size][0]  # its box scrolls, not the page
    assert (
        wait_for(d, "#page-full").get_attribute("href").endswith(image.get_attribute("src")[-64:])
    )
    image.click()
    assert wait_for(d, "#page-zoom").get_attribute("aria-pressed") == "false"


def test_a_citizen_reports_a_photo_that_disagrees_end_to_end(browser, server, hub):
    from selenium.webdriver.support.ui import Select

    d = browser
    screen.set_viewport(d, *screen.PHONE)
    before = wait_total(d, server)
    screen.open_page(d, server, screen.Page("tps", f"/#/tps/{ELECTION}/{FORM}/{TPS_B}"))
    Select(wait_for(d, "#report-field")).select_by_value("IV.2")
    wait_for(d, "#report-value").send_keys("48")
    wait_for(d, "#report-note").send_keys("di foto tertulis 48")
    wait_for(d, "#report-form button").click()
    assert "tersimpan" in wait_for(d, "#report-result", "Terima kasih").text
    item = wait_for(d, "#reports-list li.open", "di foto terbaca 48")
    assert f"hub menampilkan {hub.fields['b1']['IV.2']}" in item.text
    assert "tidak berubah" in item.text
    assert screen.document_width(d) <= screen.PHONE[0]
    screen.open_page(d, server, screen.Page("anomali", "/#/anomali"))
    assert TPS_B in wait_for(d, "#open-reports", "foto 48").text
    assert wait_total(d, server) == before  # never a count changed


def wait_total(d, server: str) -> str:
    screen.open_page(d, server, screen.Page("rekap", f"/#/rekap/{ELECTION}/{FORM}/"))
    return wait_for(d, '#region-headline dd[data-field="V.C"]').text


def test_a_receipts_url_opens_its_answer_without_javascript(no_script, server, hub):
    from selenium.webdriver.common.by import By

    from protocol.receipt import Receipt, receipt_url

    d = no_script
    screen.set_viewport(d, *screen.PHONE)
    d.get(receipt_url(server, Receipt(TPS_A, 2, hub.sha("a2"))))
    verdict = d.find_element(By.ID, "receipt-verdict").text
    assert verdict.startswith("Hub menyimpan persis dokumen ini, dan inilah versi yang dihitung")
    assert d.find_element(By.ID, "receipt-counts").text == "Ya"
    assert screen.document_width(d) <= screen.PHONE[0]
    d.get(receipt_url(server, Receipt(TPS_A, 1, hub.sha("a1"))))
    assert "versi yang lebih baru" in d.find_element(By.ID, "receipt-verdict").text
    assert d.find_element(By.ID, "receipt-newer").text == "Ya"
    # Pasted by hand into the page's own form, a broken text gets its reason in Indonesian.
    box = d.find_element(By.ID, "receipt-qr")
    box.clear()
    box.send_keys(f"TPSR1|{TPS_A}|x|{hub.sha('a2')}")
    d.find_element(By.CSS_SELECTOR, "#receipt-form button").click()
    # Without JavaScript the form is a navigation: wait for the answer page to arrive.
    assert wait_for(d, "#receipt-error", "qr.seq")


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_tps_page_shows_the_form_rectified_with_the_kpps_confirmed_field_marked(
    browser,
    server,
    shots,  # noqa: F811
    size,
):
    d = browser
    width, height = SIZES[size]
    screen.set_viewport(d, width, height)
    screen.open_page(d, server, screen.Page("tps", f"/#/tps/{ELECTION}/{FORM}/{TPS_B}"))
    image = wait_for(d, '#page-image[data-rectified="true"]')
    assert "/rectified?document=" in image.get_attribute("src")
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.hub.test_dashboard_chromium import WAIT_S

    assert WebDriverWait(d, WAIT_S).until(lambda d: image_loaded(d, image))
    natural = d.execute_script(
        "return [arguments[0].naturalWidth, arguments[0].naturalHeight]", image
    )
    assert natural == [1600, 2400]  # the template page's frame, upright
    # IV.3 was doubtful and the KPPS confirmed it: boxed over its place on the photo.
    mark = wait_for(d, '#page-marks g.mark.confirmed[data-field="IV.3"]')
    box = d.execute_script("return arguments[0].getBoundingClientRect().toJSON()", mark)
    shown = d.execute_script("return arguments[0].getBoundingClientRect().toJSON()", image)
    assert box["width"] > 0 and box["height"] > 0
    assert shown["left"] <= box["left"] and box["right"] <= shown["right"] + 1
    assert shown["top"] <= box["top"] and box["bottom"] <= shown["bottom"] + 1
    # On page 2 of 900 mm: IV.3's boxes in the template, scaled to the image as shown.
    frame = d.execute_script(
        "return arguments[0].getAttribute('viewBox')", wait_for(d, "#page-marks")
    )
    assert frame == "0 0 600 900"
    assert d.find_elements("css selector", '#page-marks g.mark.corrected[data-field="IV.2"]')
    assert not d.find_elements("css selector", '#page-marks g[data-field="IV.1"]')  # just read
    legend = wait_for(d, "#marks-legend")
    assert legend.is_displayed() and "dikonfirmasi KPPS" in legend.text
    assert screen.document_width(d) <= width
    screen.shoot(d, shots / f"tps-rectified-{size}.png", (width, height))
