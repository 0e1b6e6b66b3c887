"""The portfolio page in headless Chromium (Debian's chromium and chromium-driver, driven
by selenium): it renders, its heat map and holes are there, nothing spills out of a laptop's
or a phone's width, and it asks for nothing over the network. A screenshot of each width
is kept in pytest's temporary folder (`--basetemp` to keep it somewhere known)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")

import kundskab  # noqa: E402
from kundskab.edges.portfolio_output import MAX_HTML_BYTES, html_page  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run does)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM or ""
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(DRIVER or ""), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_page_renders_and_fits(browser: Any, tmp_path_factory: pytest.TempPathFactory, width: int) -> None:
    report = kundskab.portfolio(programme="vestegn-2013")
    page = html_page(report)
    assert len(page.encode("utf-8")) < MAX_HTML_BYTES
    folder = tmp_path_factory.mktemp("portfolio-page")
    path = folder / "vestegn.html"
    path.write_text(page, encoding="utf-8")
    browser.set_window_size(width, 900)
    browser.get(path.as_uri())
    cells = browser.find_elements("css selector", "table.heat td.cell")
    assert len(cells) == len(report.domains) * len(report.bands) * len(report.tiers)
    holes = browser.find_elements("css selector", "ol.holes > li.hole")
    assert len(holes) == len(report.holes) > 0
    assert holes[0].get_attribute("value") == "1"  # the group headings take no number
    assert all(h.is_displayed() for h in holes[:3])
    assert browser.find_elements("css selector", "td.need-hole")
    inner = browser.execute_script("return window.innerWidth")
    # Nothing makes the page wider than the window: the heat map scrolls inside its own box.
    assert browser.execute_script("return document.documentElement.scrollWidth") <= inner
    spill = browser.execute_script(
        "return [...document.querySelectorAll('.ks-portfolio *')].filter(e => !e.closest('.scroll')"
        " && e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName + '.' + e.className)")
    assert spill == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    browser.set_window_size(width, max(900, browser.execute_script("return document.body.scrollHeight")))
    shot = Path(folder) / f"portfolio-{width}.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
