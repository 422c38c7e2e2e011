"""The upload page and the HTML report in a real headless Chromium.

A real uvicorn process serves the tiny test models; Selenium drives Debian's
``chromium`` through Debian's ``chromedriver`` (both installed by
``scripts/install_test_browser.sh``; Selenium Manager is never asked to find
or download anything). The test uploads a CSV of Persian, Arabic and English
feedback with a date and a segment column, picks the columns in the page,
waits for the job to finish, opens the report from the page's button and
checks that the charts are drawn, that Persian and Arabic are laid out
right-to-left (quotes, table cells, the page in Persian), and saves
screenshots (under ``tmp_path``; also under ``$CXTEXT_SCREENSHOTS`` when set,
``1`` meaning ``out/screenshots``).

Skips, saying why, without Selenium, Chromium or chromedriver.
"""
from __future__ import annotations

import csv
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CXTEXT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CXTEXT_CHROMEDRIVER", "/usr/bin/chromedriver")
INSTALL = "scripts/install_test_browser.sh"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--disable-features=Translate,MediaRouter,OptimizationHints",
         "--no-default-browser-check", "--hide-scrollbars", "--window-size=1280,900", "--lang=en-US",
         "--force-device-scale-factor=1"]
JOB_TIMEOUT_S = 90.0

# (text, date, channel): Persian, Arabic and English, each naming aspects of the
# tiny taxonomy (delivery, price, support, quality) and a few loyalty phrases
FEEDBACK = [
    ("غذا سرد رسید و پیک بی‌ادب بود، دیگه سفارش نمیدم", "2024-05-01", "اپلیکیشن"),
    ("کیفیت محصول خوب بود ولی ارسال خیلی دیر انجام شد", "2024-05-01", "وب‌سایت"),
    ("پشتیبانی جواب نداد، سه بار تماس گرفتم", "2024-05-02", "اپلیکیشن"),
    ("قیمت مناسب بود و بسته‌بندی تمیز، دوباره سفارش می‌دهم", "2024-05-02", "وب‌سایت"),
    ("الطلب وصل متأخر والمندوب ما رد", "2024-05-03", "التطبيق"),
    ("المنتج ممتاز لكن السعر غالي جدا", "2024-05-03", "الموقع"),
    ("خدمة العملاء سيئة جدا ولن أتعامل معكم مرة أخرى", "2024-05-04", "التطبيق"),
    ("توصيل سريع والمنتج جيد، أنصح به", "2024-05-04", "الموقع"),
    ("The delivery was late but the food was great", "2024-05-05", "web"),
    ("price is too high for this quality, never again", "2024-05-05", "web"),
    ("Customer support never answered my emails", "2024-05-06", "app"),
    ("", "2024-05-06", "app"),  # not analyzable
]


# -- prerequisites ---------------------------------------------------------------
def _missing() -> str | None:
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        return (f"{CHROMIUM} or {CHROMEDRIVER} not installed: run 'sudo {INSTALL}' "
                "(or set CXTEXT_CHROMIUM / CXTEXT_CHROMEDRIVER)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not installed: pip install -e '.[test]'"
    return None


@pytest.fixture(scope="module")
def browser_models(tiny_models, tmp_path_factory) -> Path:
    """The tiny models with the sentiment head's bias tilted to negative. The
    random tiny encoder maps every text to nearly the same embedding, so as
    shipped everything is 'neutral' and no aspect is negative, and the report
    would have no detractor quotes to check; tilted, every text is a detractor
    (except those with an explicit promoter phrase) with its aspects quoted."""
    import torch

    from cxtext.heads import Heads
    from cxtext.registry import SENTIMENT_LABELS

    out = tmp_path_factory.mktemp("browser_models")
    for f in tiny_models.iterdir():
        shutil.copy2(f, out / f.name)
    heads = Heads.load(out)
    with torch.no_grad():
        heads.module.heads["sentiment"][-1].bias[SENTIMENT_LABELS.index("negative")] += 3.0
    heads.save(out)
    return out


# -- the server ------------------------------------------------------------------
@pytest.fixture
def server(tmp_path, browser_models, live_server):
    env = {"CXTEXT_MODELS": str(browser_models), "CXTEXT_CACHE_DIR": str(tmp_path / "cache"),
           "CXTEXT_API_DATA_DIR": str(tmp_path / "data"), "CXTEXT_API_KEY": "", "CXTEXT_API_TORCH_THREADS": "1",
           "CXTEXT_API_JOB_CHUNK_ROWS": "4", "CXTEXT_API_JOB_BATCH_SIZE": "4"}
    with live_server(env, tmp_path / "server.log") as (_proc, url):
        yield url


# -- the browser -----------------------------------------------------------------
@pytest.fixture
def driver(tmp_path, monkeypatch):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common import selenium_manager

    def no_manager(*_a, **_k):
        raise AssertionError("Selenium Manager must not run: the driver and the browser are given by path")

    # with the driver's path given, Selenium skips its manager; make sure of it,
    # and tell the manager to stay offline should a future version call it anyway
    monkeypatch.setattr(selenium_manager.SeleniumManager, "binary_paths", no_manager)
    monkeypatch.setenv("SE_OFFLINE", "true")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    d = webdriver.Chrome(service=service, options=opts)
    d.set_page_load_timeout(30)
    d.set_script_timeout(30)
    try:
        yield d
    finally:
        d.quit()


class Shots:
    """Screenshots under tmp_path, copied to $CXTEXT_SCREENSHOTS when set."""

    def __init__(self, tmp_path: Path):
        self.dir = tmp_path / "screenshots"
        self.dir.mkdir()
        want = os.environ.get("CXTEXT_SCREENSHOTS", "").strip()
        self.copy_to = None
        if want:
            self.copy_to = ROOT / "out" / "screenshots" if want.lower() in ("1", "true", "yes") else Path(want)
            self.copy_to.mkdir(parents=True, exist_ok=True)
        self.saved: list[Path] = []

    def take(self, driver, name: str, full_page: bool = True) -> Path:
        import base64

        path = self.dir / f"{name}.png"
        if full_page:  # the whole document, not just the window
            png = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
            path.write_bytes(base64.b64decode(png["data"]))
        else:
            driver.save_screenshot(str(path))
        assert path.stat().st_size > 1000, path
        if self.copy_to is not None:
            shutil.copy2(path, self.copy_to / path.name)
        self.saved.append(path)
        return path


def _wait(driver, what: str, cond, timeout: float = 20.0, poll: float = 0.1):
    end = time.monotonic() + timeout
    while True:
        v = cond(driver)
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(poll)


def _js_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


DIRECTION = "return getComputedStyle(arguments[0]).direction"
SIDEWAYS = "return document.documentElement.scrollWidth > window.innerWidth + 1"


@contextmanager
def _phone(driver):
    """A phone's viewport (390 × 844 CSS px, touch, the page's meta viewport honoured)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _write_csv(path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["شناسه", "تاریخ", "کانال", "نظر مشتری", "note"])
        for i, (text, day, channel) in enumerate(FEEDBACK):
            w.writerow([f"r{i:03d}", day, channel, text, "ok" if i % 2 else "-"])


# -- the test -------------------------------------------------------------------
def test_upload_page_and_report_in_chromium(tmp_path, request):
    why = _missing()
    if why:
        pytest.skip(why)
    server = request.getfixturevalue("server")
    d = request.getfixturevalue("driver")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    shots = Shots(tmp_path)
    dump = tmp_path / "بازخورد مشتریان.csv"  # a Persian file name, shown in the page and the report's title
    _write_csv(dump)

    # 1. the page loads, in English (navigator.language), left-to-right
    d.get(server + "/")
    assert d.title == "cxtext"
    assert d.find_element(By.TAG_NAME, "h1").text.startswith("cxtext")
    assert d.execute_script("return document.documentElement.dir") == "ltr"
    assert not d.find_element(By.ID, "cols").is_displayed()

    # 2. choose the file: the page previews it and offers its columns
    d.find_element(By.ID, "file").send_keys(str(dump))
    _wait(d, "the column picker", lambda d: d.find_element(By.ID, "cols").is_displayed())
    assert d.find_element(By.ID, "perr").text == ""
    tcol = Select(d.find_element(By.ID, "tcol"))
    assert [o.get_attribute("value") for o in tcol.options] == ["شناسه", "تاریخ", "کانال", "نظر مشتری", "note"]
    assert tcol.first_selected_option.get_attribute("value") == "نظر مشتری"  # the guess
    assert Select(d.find_element(By.ID, "dcol")).first_selected_option.get_attribute("value") == "تاریخ"
    # the analyst picks another column, the sample follows, then picks the right one back
    tcol.select_by_value("note")
    assert d.find_element(By.CSS_SELECTOR, "#sample th.pick").text == "note"
    tcol.select_by_value("نظر مشتری")
    assert d.find_element(By.CSS_SELECTOR, "#sample th.pick").text == "نظر مشتری"
    Select(d.find_element(By.ID, "icol")).select_by_value("شناسه")
    Select(d.find_element(By.ID, "scol")).select_by_value("کانال")
    # the sample shows Persian and Arabic right-to-left, English left-to-right
    cells = d.find_elements(By.CSS_SELECTOR, "#sample td, #sample th")
    by_text = {c.text: c for c in cells}
    assert d.execute_script(DIRECTION, by_text["نظر مشتری"]) == "rtl"
    assert d.execute_script(DIRECTION, by_text[FEEDBACK[0][0]]) == "rtl"
    assert d.execute_script(DIRECTION, by_text[FEEDBACK[4][0]]) == "rtl"
    assert d.execute_script(DIRECTION, by_text["note"]) == "ltr"
    shots.take(d, "1-page-columns")

    # 3. start, and watch the progress to the end
    d.find_element(By.ID, "start").click()
    _wait(d, "the progress section", lambda d: d.find_element(By.ID, "prog").is_displayed())

    def finished(d):
        err = d.find_element(By.ID, "jerr").text
        assert not err, f"the page reports an error: {err}"
        return d.find_element(By.ID, "links").is_displayed()

    _wait(d, "the job to finish", finished, timeout=JOB_TIMEOUT_S, poll=0.25)
    bar = d.find_element(By.ID, "bar")
    assert float(bar.get_attribute("value")) == float(bar.get_attribute("max")) > 0
    ptext = d.find_element(By.ID, "ptext").text
    assert ptext == f"{dump.name} — done · 12 / 12 rows · 1 not analyzable", ptext
    _wait(d, "the recent jobs list", lambda d: d.find_elements(By.CSS_SELECTOR, "#jobs li"))
    assert d.find_element(By.CSS_SELECTOR, "#jobs li a").text == dump.name
    job = httpx.get(server + "/v1/jobs", timeout=10).json()["jobs"][0]  # the columns picked reached the server
    assert (job["text_column"], job["id_column"], job["filename"]) == ("نظر مشتری", "شناسه", dump.name), job
    shots.take(d, "2-page-done")

    # 4. the same page in Persian: the whole layout mirrors
    Select(d.find_element(By.ID, "uilang")).select_by_value("fa")
    assert d.execute_script("return [document.documentElement.dir, document.documentElement.lang]") == ["rtl", "fa"]
    h1 = d.find_element(By.TAG_NAME, "h1")
    assert "تحلیل" in h1.text and d.execute_script(DIRECTION, h1) == "rtl"
    assert d.execute_script(DIRECTION, d.find_element(By.CSS_SELECTOR, "#sample td")) == "ltr"  # r000: an id
    # mirrored: the language picker sits at the start (left) edge, the title's text at the right
    picker = d.find_element(By.ID, "uilang").rect
    assert picker["x"] < h1.rect["x"], (picker, h1.rect)
    # the finished job's line follows the language: Persian words and digits, right-to-left, the file
    # name isolated; no middle dot, which beside Persian digits reads as a zero ("۱۲ ·" as "۱۲۰")
    ptext = d.find_element(By.ID, "ptext")
    assert ptext.text == f"{dump.name} — تمام شد، ۱۲ / ۱۲ ردیف، ۱ قابل تحلیل نبود", ptext.text
    assert d.execute_script(DIRECTION, ptext) == "rtl"
    assert d.find_element(By.CSS_SELECTOR, "#ptext bdi").text == dump.name
    _wait(d, "the jobs list in Persian", lambda d: "تمام شد، ۱۲ ردیف" in d.find_element(By.ID, "jobs").text)
    shots.take(d, "3-page-fa")
    with _phone(d):
        assert not d.execute_script(SIDEWAYS), "the page scrolls sideways on a phone"
        shots.take(d, "3-page-fa-phone")
    Select(d.find_element(By.ID, "uilang")).select_by_value("en")
    errors = _js_errors(d)
    assert not errors, errors

    # 5. open the report from the page's button (a new tab with the report)
    page = d.current_window_handle
    d.find_element(By.ID, "report").click()
    _wait(d, "the report's tab", lambda d: len(d.window_handles) == 2)
    d.switch_to.window(next(h for h in d.window_handles if h != page))
    _wait(d, "the report to load", lambda d: d.execute_script(
        "return document.readyState === 'complete' && document.querySelectorAll('svg.chart').length > 0"))
    assert d.current_url.startswith("blob:")
    assert d.title == f"Customer feedback report — {dump.name}"
    name = d.find_elements(By.CSS_SELECTOR, "header h1 bdi")[-1]  # the file name keeps its own direction
    assert name.text == dump.name and d.execute_script(DIRECTION, name) == "rtl"

    # 6. the charts are drawn: every chart has a size and bars with a width
    charts = d.execute_script("""
        return Array.from(document.querySelectorAll('svg.chart')).map(svg => {
          const box = svg.getBoundingClientRect();
          const rects = Array.from(svg.querySelectorAll('rect'));
          return {title: svg.closest('section').querySelector('h2').textContent,
                  w: box.width, h: box.height, drawing: svg.viewBox.baseVal.width, rects: rects.length,
                  drawn: rects.filter(r => r.getBBox().width > 0 && r.getBoundingClientRect().width > 0).length,
                  labels: Array.from(svg.querySelectorAll('text')).map(t => t.textContent)};
        });""")
    titles = [c["title"] for c in charts]
    assert titles == ["Sentiment", "Emotion", "Aspects × sentiment", "Journey stage", "Trend"], titles
    for c in charts:
        assert c["w"] > 100 and c["h"] > 30 and c["drawn"] > 0, c
        assert c["w"] <= c["drawing"] + 1, c  # never blown up (with its text) to a full-width section
    trend = charts[-1]
    assert trend["rects"] == 6 and trend["labels"] == ["2024-05-01", "2024-05-06"], trend  # one bar a day
    aspects = charts[2]
    for name in ("delivery", "price value", "customer support", "product quality"):
        assert name in aspects["labels"], aspects["labels"]
    # ... and no chart's text runs off its drawing
    overflow = d.execute_script("""
        const out = [];
        document.querySelectorAll('svg.chart').forEach(svg => {
          const box = svg.getBoundingClientRect();
          svg.querySelectorAll('text').forEach(t => { const r = t.getBoundingClientRect();
            if (r.left < box.left - 1 || r.right > box.right + 1) out.push(t.textContent); });
        });
        return out;""")
    assert not overflow, overflow

    # 7. quotes: Persian and Arabic right-to-left (evidence highlighted), English left-to-right
    quotes = d.find_elements(By.CSS_SELECTOR, "blockquote")
    langs = {q.get_attribute("lang") for q in quotes}
    assert {"fa", "ar"} <= langs, langs
    for q in quotes:
        want = "rtl" if q.get_attribute("lang") in ("fa", "ar") else "ltr"
        assert d.execute_script(DIRECTION, q) == want, q.text
        assert q.find_elements(By.TAG_NAME, "mark"), q.text
        if want == "rtl":  # the text starts at the right edge: its first line ends near the quote's right side
            assert d.execute_script("""
                const q = arguments[0], m = q.querySelector('mark'), r = document.createRange();
                r.selectNodeContents(q.firstChild.nodeType === 3 ? q.firstChild : m);
                const first = r.getClientRects()[0], box = q.getBoundingClientRect();
                return box.right - first.right < 30;""", q), q.text
    # the segment table: Persian and Arabic channel names right-to-left
    seg_cells = {c.text: c for c in d.find_elements(By.CSS_SELECTOR, "table td")}
    for name in ("اپلیکیشن", "التطبيق"):
        assert d.execute_script(DIRECTION, seg_cells[name]) == "rtl", name
    assert d.execute_script(DIRECTION, seg_cells["web"]) == "ltr"
    assert "By کانال" in d.find_element(By.TAG_NAME, "body").text
    shots.take(d, "4-report")
    with _phone(d):
        assert not d.execute_script(SIDEWAYS), "the report scrolls sideways on a phone"
        gaps = d.execute_script("""
            const r = Array.from(document.querySelectorAll('section')).map(s => s.getBoundingClientRect());
            return r.slice(1).map((b, i) => Math.round(b.top - r[i].bottom));""")
        assert set(gaps) == {16}, f"stacked cards should be evenly spaced: {gaps}"
        shots.take(d, "5-report-phone")
    errors = _js_errors(d)
    assert not errors, errors
    print("screenshots:", *shots.saved, sep="\n  ")
