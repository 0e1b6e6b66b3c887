"""The web page in a real browser: headless Chromium (Debian's `chromium` and
`chromium-driver`, which .ci/run installs) driven by Selenium, against `kundskab serve` on
loopback. One server and one browser session for the module.

A person fills the case form and reads the answer, walks the interview to its end with the
keyboard alone, uploads documents and reads their errors, and downloads the programme's
table; axe-core (tests/vendor/axe-core, from its npm package) checks every page for
accessibility (labels, contrast, headings, landmarks: WCAG 2.1 A and AA) at laptop and
phone width, and a screenshot of each page at both widths is kept as a test artefact in
`$KUNDSKAB_ARTEFACTS/screenshots` (default `.artefacts/screenshots` in the checkout).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
webdriver = pytest.importorskip("selenium.webdriver")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from tests.servers import Server  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("CI needs chromium and chromium-driver for the browser tests (.ci/run installs them)")
    pytest.skip("the browser tests need Debian's chromium and chromium-driver "
                "(apt-get install chromium chromium-driver)", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
SHOTS = Path(os.environ.get("KUNDSKAB_ARTEFACTS", ROOT / ".artefacts")) / "screenshots"
WIDTHS = {"laptop": 1280, "phone": 390}
PAGES = {
    "home": "/?lang=da",
    "case": "/case?lang=da",
    "validate": "/validate?lang=da",
    "search": "/concepts?q=bande&lang=da",
    "concept": "/concepts/ssp?lang=da",
    "catalogue": "/interventions?forum=ssp&lang=da",
    "fora": "/fora?municipality=esbjerg&lang=da",
    "programme": "/programme?id=sikker-by-2018&sort=verdict&order=desc&lang=da",
    "portfolio": "/portfolio?municipality=esbjerg&lang=da",
}
BAD_DOCUMENT = "---\ntitle: x\nprogramme: sikker-by-2018\ntier: general\ntarget_groups: [nobody-here]\n---\n"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server("--timeout", "10")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--lang=da", "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "intl.accept_languages": "da", "download.default_directory": str(downloads),
        "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=DriverService(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def at_width(driver: Any, width: int, height: int = 900) -> None:
    driver.set_window_size(width, height)


def screenshot(driver: Any, name: str, width: int) -> Path:
    """The whole page at this width (the window made as tall as the page, at most 8,000 px)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    at_width(driver, width)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    at_width(driver, width, min(max(height, 600), 8000))
    path = SHOTS / f"{name}-{width}.png"
    driver.save_screenshot(str(path))
    at_width(driver, width)
    return path


AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
        " 'best-practice']}}).then(r => done(r.violations)).catch(e => done([{id: 'axe-error', help: String(e)}]));")
    return list(result)


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps([{"id": v["id"], "help": v.get("help"),
                        "nodes": [n.get("target") for n in v.get("nodes", [])][:5]} for v in violations], indent=1)


def api(server: Server, case: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.post(f"{server.url}/v1/recommend?lang=da", json=case, timeout=30).json()
    return answer


def press_tab_until(driver: Any, predicate: str, limit: int = 120) -> Any:
    """Tab through the page, as a keyboard user does, until the focused element matches
    `predicate` (JavaScript over `el`); the element."""
    from selenium.webdriver.common.action_chains import ActionChains

    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.execute_script(f"const el = document.activeElement; return !!({predicate});"):
            return driver.switch_to.active_element
    pytest.fail(f"no element reached by Tab matches {predicate}")


def then_new_page(driver: Any, action: Any) -> None:
    """Do `action` (a click, a key) that sends a form or follows a link, and wait for the
    page it brings (the old page's root gone, the new one loaded)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    root = driver.find_element(By.TAG_NAME, "html")
    action()

    def gone(_: Any) -> bool:
        # Chromium may answer for a node of the page being replaced with "Node with given id
        # does not belong to the document" instead of a stale reference: gone all the same.
        try:
            root.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return True
            raise
        return False

    wait = WebDriverWait(driver, 60)
    wait.until(gone)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def shown_answer(driver: Any) -> dict[str, Any]:
    return {"tier": driver.find_element(By.CSS_SELECTOR, "[data-tier]").get_attribute("data-tier"),
            "fora": [e.get_attribute("data-id") for e in driver.find_elements(By.CSS_SELECTOR, "#fora li")],
            "interventions": [e.get_attribute("data-id") for e in
                              driver.find_elements(By.CSS_SELECTOR, "#measures > li")]}


# ---------------------------------------------------------------------------- tests


def test_every_page_passes_axe_and_is_photographed_at_both_widths(browser: Any, server: Server) -> None:
    failures = {}
    for name, path in PAGES.items():
        browser.get(server.url + path)
        # Labels, names, contrast and headings do not change with the width: one check a page.
        at_width(browser, WIDTHS["laptop"])
        violations = axe_violations(browser)
        if violations:
            failures[name] = describe(violations)
        for width in WIDTHS.values():
            shot = screenshot(browser, name, width)
            assert shot.stat().st_size > 5_000
        # No script runs on the page (the policy forbids it); nothing overflows a phone's width.
        at_width(browser, WIDTHS["phone"])
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{name}: {overflow} px wider than a phone"
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())


def test_fill_the_case_form_and_read_the_answer(browser: Any, server: Server) -> None:
    at_width(browser, WIDTHS["laptop"])
    browser.get(f"{server.url}/case?lang=da")
    browser.find_element(By.ID, "age").send_keys("16")
    browser.find_element(By.CSS_SELECTOR, "label[for='f-offence-committed-true']").click()
    browser.find_element(By.CSS_SELECTOR, "label[for='f-family-problems-false']").click()
    browser.find_element(By.CSS_SELECTOR, "label[for='o-violence-and-threats']").click()
    browser.find_element(By.ID, "municipality").send_keys("Esbjerg")
    then_new_page(browser, browser.find_element(By.ID, "submit-case").click)
    expected = api(server, {"age": 16, "factors": {"offence-committed": True, "family-problems": False},
                            "offences": ["violence-and-threats"], "municipality": "Esbjerg"})
    shown = shown_answer(browser)
    assert shown == {"tier": expected["tier"], "fora": expected["fora"],
                     "interventions": [i["id"] for i in expected["interventions"]]}
    assert browser.find_element(By.CSS_SELECTOR, "[data-tier]").text == expected["labels"][expected["tier"]]
    first = browser.find_element(By.CSS_SELECTOR, "#measures > li")
    assert "Kilde:" in first.text and ".txt" not in first.text
    # The form keeps what was sent, for the next question; the address holds no case.
    assert browser.find_element(By.ID, "age").get_attribute("value") == "16"
    assert browser.find_element(By.ID, "f-offence-committed-true").is_selected()
    assert browser.current_url.endswith("/case?lang=da")
    screenshot(browser, "answer", WIDTHS["laptop"])
    screenshot(browser, "answer", WIDTHS["phone"])
    assert not axe_violations(browser)


def test_walk_the_interview_to_its_end_by_keyboard(browser: Any, server: Server) -> None:
    at_width(browser, WIDTHS["phone"])
    browser.get(f"{server.url}/case?lang=da")
    age = press_tab_until(browser, "el.id === 'age'")
    age.send_keys("15")
    truancy = press_tab_until(browser, "el.id === 'f-truancy-unknown'")
    truancy.send_keys(Keys.ARROW_LEFT)  # ved ikke -> nej
    truancy = browser.switch_to.active_element
    truancy.send_keys(Keys.ARROW_LEFT)  # nej -> ja
    assert browser.find_element(By.ID, "f-truancy-true").is_selected()
    submit = press_tab_until(browser, "el.id === 'submit-case'")
    then_new_page(browser, lambda: submit.send_keys(Keys.ENTER))
    asked = []
    for _ in range(30):
        done = browser.find_elements(By.ID, "interview-done")
        if done:
            assert done[0].text == "Intet andet svar ville ændre anbefalingen."
            break
        question = browser.find_element(By.CSS_SELECTOR, ".question[data-factor]")
        factor = question.get_attribute("data-factor")
        assert factor not in asked
        asked.append(factor)
        answer = "false" if len(asked) % 2 else "unknown"
        button = press_tab_until(browser, f"el.name === 'answer' && el.value === '{factor}:{answer}'")
        then_new_page(browser, lambda: button.send_keys(Keys.ENTER))  # noqa: B023 - called at once
    else:
        pytest.fail("the interview did not end")
    assert len(asked) >= 3
    case = {"age": 15, "factors": {"truancy": True, **{f: False for f in asked[0::2]}}}
    expected = api(server, case)
    assert shown_answer(browser)["tier"] == expected["tier"]
    assert shown_answer(browser)["fora"] == expected["fora"]
    screenshot(browser, "interview-end", WIDTHS["phone"])


def test_upload_documents_and_see_their_errors(browser: Any, server: Server, tmp_path: Path) -> None:
    at_width(browser, WIDTHS["laptop"])
    bad = tmp_path / "bad.md"
    bad.write_text(BAD_DOCUMENT, encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: x\nprinciples: [\n", encoding="utf-8")
    browser.get(f"{server.url}/validate?lang=da")
    browser.find_element(By.ID, "files").send_keys(f"{bad}\n{broken}")
    then_new_page(browser, browser.find_element(By.ID, "submit-validate").click)
    files = browser.find_elements(By.CSS_SELECTOR, "#report article.file")
    assert [f.get_attribute("data-valid") for f in files] == ["false", "false"]
    unknown = browser.find_element(By.CSS_SELECTOR, "li.error[data-code='unknown-concept']")
    assert unknown.text.startswith("linje 5") and "nobody-here" in unknown.text
    assert browser.find_element(By.CSS_SELECTOR, "li.error[data-code='parse-error']")
    screenshot(browser, "validate-report", WIDTHS["laptop"])
    screenshot(browser, "validate-report", WIDTHS["phone"])
    assert not axe_violations(browser)


def wait_for_download(folder: Path, suffix: str, seconds: float = 30) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size]
        if done:
            return done[0]
        time.sleep(0.1)
    pytest.fail(f"no {suffix} downloaded")


def test_download_the_programme_table(browser: Any, server: Server, downloads: Path) -> None:
    at_width(browser, WIDTHS["laptop"])
    browser.get(f"{server.url}/programme?id=sikker-by-2018&lang=da")
    verdict = browser.find_element(By.CSS_SELECTOR, "#programme-table th a[href*='sort=verdict']")
    then_new_page(browser, verdict.click)  # sort by the verdict, a link: no script
    assert "sort=verdict" in browser.current_url
    verdicts = [td.get_attribute("data-verdict") for td in browser.find_elements(By.CSS_SELECTOR, "td.verdict")]
    assert verdicts == sorted(verdicts)
    browser.find_element(By.ID, "download-csv").click()
    table = wait_for_download(downloads, ".csv")
    expected = httpx.get(f"{server.url}/v1/check?programme=sikker-by-2018&lang=da", timeout=30).json()
    lines = table.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 1 + len(expected["initiatives"])
    links = browser.find_elements(By.ID, "download-xlsx")
    if not links:
        pytest.skip("the xlsx table (check --programme --format xlsx) is not in this version yet")
    links[0].click()
    workbook = wait_for_download(downloads, ".xlsx")
    assert workbook.read_bytes()[:2] == b"PK"  # an Office Open XML package (a zip)
