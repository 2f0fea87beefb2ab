"""(b) The offline site opens in a real browser with the network off.

Opens ``site/`` (``make site``; rebuilt here when missing or older than a notebook) by ``file://``
URLs in headless Chromium, in a context that is offline and aborts (and records) every http(s)
request. On every page: nothing reaches for the network, every local resource loads, every image
has pixels, every local link names an existing file (and an existing anchor). On a page with maths,
MathJax (the copy in ``site/mathjax/``) typesets it and no raw TeX is left. The Chinese edition
(``site/zh/``) opens the same way, its maths typeset by the same MathJax copy, and the language switch
leads from each page to its twin and back. Screenshots of the index and of a maths page go to the
``screenshots`` folder.

Run: ``make test-browser`` or ``.venv/bin/python -m pytest -q tests/browser/test_site.py``.
"""

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from bertlab import site as static_site

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site"
NOTEBOOKS = sorted((ROOT / "notebooks").glob(static_site.NOTEBOOK_GLOB))
CHINESE = sorted((ROOT / "notebooks" / "zh").glob(static_site.NOTEBOOK_GLOB))
# TeX that MathJax's tex2jax (as nbconvert configures it) would pick up in a markdown cell
TEX = re.compile(r"\$\$.+?\$\$|\\\(.+?\\\)|\\\[.+?\\\]|(?<![\\$])\$[^$\s][^$\n]*?\$(?!\d)", re.S)
PROBE_TEX = r"\mathrm{MultiHead}(Q, K, V) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_h)\, W^O"
MATH_SELECTOR = ".MathJax, .MathJax_Display, .MathJax_CHTML, .MathJax_SVG, mjx-container"


def _stale() -> bool:
    index = SITE / "index.html"
    if not index.is_file() or not (SITE / "mathjax" / "MathJax.js").is_file():
        return True
    built = index.stat().st_mtime
    sources = [*NOTEBOOKS, *CHINESE, Path(static_site.__file__), *ROOT.glob("runs/gpu_*.json")]
    return any(p.stat().st_mtime > built for p in sources) or any(
        not (SITE / f"{p.stem}.html").is_file() for p in NOTEBOOKS) or any(
        not (SITE / "zh" / f"{p.stem}.html").is_file() for p in CHINESE)


@pytest.fixture(scope="module")
def site_dir() -> Path:
    if _stale():
        static_site.build(SITE, progress=None)
    return SITE


@pytest.fixture
def offline(browser):
    """An offline page: every http(s) request is aborted and recorded; failed loads are recorded."""
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
    remote, failed, errors = [], [], []

    def abort(route):
        remote.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^(https?|wss?)://"), abort)
    page = context.new_page()
    # MathJax's HTML-CSS output declares a placeholder font at about:blank, which Chromium refuses
    # from a file:// page: harmless, and not a file of the site
    page.on("requestfailed", lambda r: r.url == "about:blank" or failed.append(f"{r.url} ({r.failure})"))
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page, remote, failed, errors
    context.close()
    assert remote == [], f"the site tried to reach the network: {remote}"


def _open(page, path: Path):
    page.goto(path.as_uri(), wait_until="load")
    # every <img> has finished (loaded or failed) before we look at it
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=15_000)


def _images(page) -> list[dict]:
    return page.eval_on_selector_all(
        "img", "els => els.map(i => ({src: i.currentSrc.slice(0, 60), w: i.naturalWidth, h: i.naturalHeight}))")


def _broken_links(page, path: Path) -> list[str]:
    """Local links of the open page that name no file, or an anchor the target page lacks."""
    hrefs = page.eval_on_selector_all("a[href], link[href], script[src], img[src]",
                                      "els => els.map(e => e.href || e.src)")
    bad = []
    for url in hrefs:
        parsed = urlparse(url)
        if parsed.scheme != "file":
            continue
        target = Path(unquote(parsed.path))
        if not target.is_file():
            bad.append(f"{url} (no such file)")
        elif parsed.fragment and target == path:
            # nbconvert percent-encodes heading ids in the attribute itself: accept either spelling
            found = page.evaluate("ids => ids.some(id => !!document.getElementById(id))",
                                  [parsed.fragment, unquote(parsed.fragment)])
            if not found:
                bad.append(f"{url} (no such anchor)")
        elif parsed.fragment and target.suffix == ".html":
            text = target.read_text(encoding="utf-8")
            if not any(f'id="{f}"' in text for f in (parsed.fragment, unquote(parsed.fragment))):
                bad.append(f"{url} (no such anchor)")
    return bad


def _typeset(page, timeout=30_000):
    """Wait until MathJax has loaded and its queue (the page's own Typeset included) is done."""
    page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.isReady === true", timeout=timeout)
    page.evaluate("() => new Promise(done => MathJax.Hub.Queue(() => done(true)))")


def _tex_in(page_html: str) -> int:
    """How many formulas tex2jax would find in a page (code, scripts and styles are not maths)."""
    text = re.sub(r"<(script|style|pre|code)\b.*?</\1>", "", page_html, flags=re.S | re.I)
    return len(TEX.findall(re.sub(r"<[^>]+>", " ", text)))


def _maths_page() -> tuple[Path, int]:
    """The first page with TeX (01's, normally), and how many formulas it has; else 01, 0."""
    for nb in NOTEBOOKS:
        path = SITE / f"{nb.stem}.html"
        if n := _tex_in(path.read_text(encoding="utf-8")):
            return path, n
    return SITE / "01_attention.html", 0


def test_index_opens_offline_lists_every_notebook_and_its_links_resolve(site_dir, offline, screenshots):
    page, remote, failed, errors = offline
    index = site_dir / "index.html"
    _open(page, index)
    titles = page.eval_on_selector_all("ol.notebooks h2 a", "els => els.map(a => a.textContent)")
    assert len(titles) == len(NOTEBOOKS) and all(t.startswith(nb.stem.split("_")[0]) for t, nb in zip(titles, NOTEBOOKS))
    assert page.locator("ul.objectives li").count() >= 3 * len(NOTEBOOKS)
    assert page.locator("dd.quick").count() == len(NOTEBOOKS)
    assert all(re.search(r"\d+ (s|min)", t) for t in page.locator("dd.quick").all_inner_texts())
    assert page.locator("dd.gpu").count() == len(NOTEBOOKS)
    assert _broken_links(page, index) == []
    page.screenshot(path=str(screenshots / "site_index.png"), full_page=True)
    assert failed == [] and errors == []


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_page_opens_offline_images_load_links_resolve(site_dir, offline, nb):
    page, remote, failed, errors = offline
    path = site_dir / f"{nb.stem}.html"
    _open(page, path)
    _typeset(page)
    images = _images(page)
    expected = sum(1 for c in __import__("json").loads(nb.read_text())["cells"]
                   for o in c.get("outputs", []) if any(k.startswith("image/") for k in o.get("data", {})))
    assert len(images) >= expected
    assert [i for i in images if not (i["w"] > 0 and i["h"] > 0)] == []
    assert _broken_links(page, path) == []
    assert page.locator("nav.bertlab-nav a[href='index.html']").count() == 2
    assert failed == [], failed
    assert errors == [], errors


def test_maths_is_typeset_by_the_local_mathjax(site_dir, offline, screenshots):
    page, remote, failed, errors = offline
    path, formulas = _maths_page()
    _open(page, path)
    _typeset(page)
    assert page.evaluate("MathJax.version").startswith("2.7")
    assert page.evaluate("document.querySelector('script[src*=\"MathJax.js\"]').src").startswith("file://")
    # the notebook's own maths, if it has any: typeset, no raw TeX left in the prose
    prose = "\n".join(page.locator(".jp-MarkdownCell").all_inner_texts())
    assert page.locator(MATH_SELECTOR).count() >= formulas
    assert "$$" not in prose and "\\(" not in prose and "\\[" not in prose
    # and a probe (the multi-head formula) typeset on the spot, so the check bites even on a page
    # without TeX: the local MathJax renders a formula with real glyphs, offline
    page.evaluate("""tex => {
        const probe = document.createElement('div');
        probe.id = 'bertlab-probe';
        probe.style.cssText = 'font-size: 20px; padding: 12px; border: 2px dashed #1a5fb4; margin: 12px auto; max-width: 1000px';
        probe.innerHTML = '<p>Browser-test probe, typeset by site/mathjax:</p>';
        probe.appendChild(document.createTextNode('$$' + tex + '$$'));
        document.querySelector('main').prepend(probe);
        return new Promise(done => MathJax.Hub.Queue(['Typeset', MathJax.Hub, probe], () => done(true)));
    }""", PROBE_TEX)
    probe = page.locator("#bertlab-probe")
    assert "$$" not in probe.inner_text() and "\\mathrm" not in probe.inner_text()
    box = probe.locator(MATH_SELECTOR).first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 10, box
    font = page.evaluate("MathJax.OutputJax['HTML-CSS'] && MathJax.OutputJax['HTML-CSS'].fontInUse")
    assert font and font != "generic", f"MathJax fell back to {font!r}: its web fonts did not load"
    page.screenshot(path=str(screenshots / "site_maths.png"))
    if formulas:
        page.locator(".jp-MarkdownCell " + MATH_SELECTOR.split(",")[0]).first.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / "site_maths_notebook.png"))
    assert failed == [], failed
    assert errors == [], errors


def test_the_chinese_edition_opens_offline_and_the_language_switch_leads_to_each_twin(site_dir, offline, screenshots):
    page, remote, failed, errors = offline
    assert [p.name for p in CHINESE] == [p.name for p in NOTEBOOKS]
    index = site_dir / "zh" / "index.html"
    _open(page, index)
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.locator("ol.notebooks h2 a").count() == len(CHINESE)
    assert page.locator("ul.objectives li").count() >= 3 * len(CHINESE)
    assert _broken_links(page, index) == []
    page.screenshot(path=str(screenshots / "site_zh_index.png"), full_page=True)
    # a Chinese page with maths: typeset by site/mathjax from one folder down
    path = site_dir / "zh" / "01_attention.html"
    _open(page, path)
    _typeset(page)
    assert page.locator(MATH_SELECTOR).count() >= _tex_in(path.read_text(encoding="utf-8")) > 0
    assert _broken_links(page, path) == []
    # the switch: to the English twin, and back (each page typeset before leaving it, so that no
    # MathJax font load is still in flight when the click navigates away)
    page.locator("nav.bertlab-nav a.lang-switch").first.click()
    page.wait_for_load_state("load")
    _typeset(page)
    assert page.url.endswith("/site/01_attention.html") and page.evaluate("document.documentElement.lang") == "en"
    page.locator("nav.bertlab-nav a.lang-switch").first.click()
    page.wait_for_load_state("load")
    _typeset(page)
    assert page.url.endswith("/site/zh/01_attention.html")
    page.screenshot(path=str(screenshots / "site_zh_01.png"))
    assert failed == [], failed
    assert errors == [], errors
