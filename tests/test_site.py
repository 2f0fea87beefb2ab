"""The offline site (``make site``): built here for two notebooks, no browser needed.

tests/browser/test_site.py opens the full site in a real browser with the network off.
"""

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from bertlab import site

ROOT = Path(__file__).resolve().parents[1]
FIRST, SECOND = ROOT / "notebooks" / "00_welcome.ipynb", ROOT / "notebooks" / "01_attention.ipynb"
LINKS_CELL = """## Links and maths (added by tests/test_site.py)

Next: [notebook 01](01_attention.ipynb), [its first section](./01_attention.ipynb#section),
[from the repository root](../notebooks/01_attention.ipynb), [not on the site](99_missing.ipynb),
[a citation](https://arxiv.org/abs/1810.04805).

$$\\mathrm{Attention}(Q, K, V) = \\mathrm{softmax}\\left(\\frac{QK^\\top}{\\sqrt{d_k}}\\right) V$$
"""


def _load(path):
    return json.loads(Path(path).read_text())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The site for 00 (plus a cell of links and maths) and 01, with no GPU run records."""
    src = tmp_path_factory.mktemp("notebooks")
    nb = _load(FIRST)
    nb["cells"].append({"cell_type": "markdown", "id": "site-test-links", "metadata": {}, "source": LINKS_CELL})
    (src / FIRST.name).write_text(json.dumps(nb))
    shutil.copy(SECOND, src / SECOND.name)
    out = tmp_path_factory.mktemp("site")
    runs = tmp_path_factory.mktemp("runs")
    written = site.build(out, notebooks=[src / FIRST.name, src / SECOND.name], runs=runs, progress=None)
    return out, written


def _page(out, name):
    return (out / name).read_text(encoding="utf-8")


def test_it_writes_one_page_per_notebook_and_an_index(built):
    out, written = built
    assert [p.name for p in written] == ["00_welcome.html", "01_attention.html", "index.html"]


def test_mathjax_is_a_local_copy_the_pages_load_by_a_relative_url(built):
    out, _ = built
    assert (out / "mathjax" / "MathJax.js").is_file()
    assert (out / "mathjax" / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()
    assert (out / "mathjax" / "extensions" / "Safe.js").is_file()
    assert any((out / "mathjax" / "fonts" / "HTML-CSS" / "STIX-Web").rglob("*.woff"))
    for name in ("00_welcome.html", "01_attention.html"):
        scripts = re.findall(r"""<script[^>]*\ssrc=["']([^"']+)""", _page(out, name))
        assert scripts == [site.MATHJAX_URL], scripts
        assert (out / scripts[0].split("?")[0]).is_file()


def test_no_page_loads_anything_from_the_network(built):
    out, _ = built
    for page in out.glob("*.html"):
        text = _page(out, page.name)
        assert site.remote_references(text) == [], page.name
        assert not re.search(r"""\s(?:src|srcset|data)\s*=\s*["']?\s*(?:https?:)?//""", text, re.I), page.name
        assert not re.search(r"""<link\b[^>]*href\s*=\s*["']?(?:https?:)?//""", text, re.I), page.name
        assert "cdnjs" not in text and "unpkg" not in text and "jsdelivr" not in text, page.name
    # a citation link in the prose stays: following it is the reader's choice, nothing loads it
    assert 'href="https://arxiv.org/abs/1810.04805"' in _page(out, "00_welcome.html")


def test_figures_are_embedded_and_code_is_highlighted(built):
    out, _ = built
    page = _page(out, "01_attention.html")
    images = re.findall(r"""<img[^>]*\ssrc=["']([^"']+)""", page)
    assert len(images) >= sum(1 for c in _load(SECOND)["cells"] for o in c.get("outputs", [])
                              if "image/png" in o.get("data", {}))
    assert images and all(src.startswith("data:image/") for src in images)
    assert 'class="highlight' in page and '<span class="kn">import</span>' in page


def test_notebook_links_point_at_the_pages(built):
    out, _ = built
    page = _page(out, "00_welcome.html")
    assert 'href="01_attention.html"' in page
    assert 'href="01_attention.html#section"' in page
    assert ".ipynb" not in "".join(re.findall(r'href="([^"]*01_attention[^"]*)"', page))
    assert 'href="99_missing.ipynb"' in page  # not on the site: left as written (and reported as broken)
    assert "00_welcome.html -> 99_missing.ipynb" in site.broken_links(out)
    assert [b for b in site.broken_links(out) if "99_missing" not in b] == []


def test_every_page_has_previous_index_and_next(built):
    out, _ = built
    first, second = _page(out, "00_welcome.html"), _page(out, "01_attention.html")
    assert first.count('<nav class="bertlab-nav">') == 2 and second.count('<nav class="bertlab-nav">') == 2
    assert 'href="index.html"' in first and 'href="index.html"' in second
    assert re.search(r'href="01_attention.html" rel="next">01 · Attention, the math →', first)
    assert re.search(r'href="00_welcome.html" rel="prev">← 00 · Welcome to bertlab', second)
    assert 'rel="prev"' not in first and 'rel="next"' not in second
    assert "<title>01 · Attention, the math</title>" in second


def test_tex_reaches_the_page_for_mathjax(built):
    out, _ = built
    page = _page(out, "00_welcome.html")
    assert "\\mathrm{Attention}(Q, K, V)" in page and "$$" in page
    assert "MathJax.Hub.Queue" in page


def test_index_lists_titles_objectives_and_measured_run_times(built):
    out, _ = built
    index = _page(out, "index.html")
    assert index.index('href="00_welcome.html"') < index.index('href="01_attention.html"')
    plain = html.unescape(re.sub(r"<[^>]+>", "", index))
    for path in (FIRST, SECOND):
        nb = _load(path)
        assert site.title_of(nb) in plain
        objectives = site.objectives_of(nb)
        assert len(objectives) >= 3
        for o in objectives:  # each objective, its markdown code spans and links rendered
            text = re.sub(r"`([^`]*)`", r"\1", re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", o))
            assert " ".join(text.split()) in " ".join(plain.split()), o
        assert site.format_seconds(site.measured_seconds(nb)) in plain
    assert plain.count("not measured yet") == 2  # no runs/gpu_*.json in this build
    assert site.remote_references(index) == []


def test_objectives_are_the_bullets_under_what_you_will_learn():
    md = {"cells": [{"cell_type": "markdown", "source": "# T\n\n**What you will learn**\n- a;\n- b\n  c.\n\n- later"}]}
    assert site.objectives_of(md) == ["a;", "b c."]
    assert site.objectives_of({"cells": [{"cell_type": "markdown", "source": "# T"}]}) == []


def test_gpu_run_times_come_from_run_records_only(tmp_path):
    assert site.gpu_runs("04_finetuning", tmp_path, tmp_path / "run.json") == []
    (tmp_path / "run.json").write_text(json.dumps(  # the shape bertlab.record writes
        {"device": "NVIDIA H200", "notebooks": {"04_finetuning": {"seconds": 30.5, "profile": "full"}}}))
    assert site.gpu_runs("04_finetuning", tmp_path / "none", tmp_path / "run.json") == [
        {"seconds": 30.5, "device": "NVIDIA H200", "profile": "full", "record": "results/gpu-full/run.json"}]
    (tmp_path / "run.json").unlink()
    (tmp_path / "gpu_h200.json").write_text(json.dumps(
        {"device": "NVIDIA H200", "profile": "full",
         "notebooks": {"04_finetuning": 41.2, "05": {"seconds": 63.0}}}))
    (tmp_path / "gpu_one.json").write_text(json.dumps(
        {"notebook": "04b_finetuning_experiments", "seconds": 150, "device": "NVIDIA L4"}))
    (tmp_path / "gpu_broken.json").write_text("{not json")
    assert site.gpu_runs("04_finetuning", tmp_path, tmp_path / "none.json") == [
        {"seconds": 41.2, "device": "NVIDIA H200", "profile": "full", "record": "runs/gpu_h200.json"}]
    assert site.gpu_runs("05_long_documents", tmp_path, tmp_path / "none.json")[0]["seconds"] == 63.0
    assert site.gpu_runs("04b_finetuning_experiments", tmp_path, tmp_path / "none.json")[0]["device"] == "NVIDIA L4"
    assert site.gpu_runs("06_multilingual", tmp_path, tmp_path / "none.json") == []
    entries = [site.Entry("04_finetuning", "04 · Fine-tuning", ["x"], 158.0,
                          site.gpu_runs("04_finetuning", tmp_path, tmp_path / "none.json")),
               site.Entry("06_multilingual", "06 · Multilingual", ["y"], 87.0, [])]
    index = site.render_index(entries)
    assert "41 s on NVIDIA H200, full profile" in index and "runs/gpu_h200.json" in index
    assert "2 min 38 s" in index and "87 s" in index
    assert index.count("not measured yet") == 1


def test_the_committed_notebooks_have_what_the_index_needs():
    for path in sorted((ROOT / "notebooks").glob(site.NOTEBOOK_GLOB)):
        nb = _load(path)
        assert site.title_of(nb).startswith(path.stem.split("_")[0] + " · "), path.name
        assert site.objectives_of(nb), f"{path.name}: no bullets under 'What you will learn'"
        assert site.measured_seconds(nb) > 0, path.name


def test_titles_keep_their_code_spans_on_the_index_and_lose_the_backticks_elsewhere():
    title = "04b · Fine-tuning experiments: `Trainer`, seeds, and does **pretraining** matter?"
    assert site.plain(title) == "04b · Fine-tuning experiments: Trainer, seeds, and does pretraining matter?"
    index = site.render_index([site.Entry("04b_x", title, [], 1.0)])
    assert "<code>Trainer</code>" in index and "`" not in index
    assert "`" not in site._nav(("04b_x.html", title), None)


def test_format_seconds():
    assert [site.format_seconds(s) for s in (5.6, 67.4, 99.4, 158.2, 333, 3725)] == [
        "6 s", "67 s", "99 s", "2 min 38 s", "5 min 33 s", "1 h 02 min"]


def test_remote_reference_check_bites():
    bad = ['<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>',
           "<link rel='stylesheet' href='//fonts.googleapis.com/css?family=x'>",
           '<img src="http://example.org/a.png">',
           '<script type="module">const m = (await import("https://cdn.example/mermaid.mjs")).default;</script>',
           '<style>@import url("https://fonts.example/x.css");</style>',
           '<style>.a { background: url(https://example.org/bg.png) }</style>',
           '<script>s.src = "https://unpkg.com/widgets.js";</script>']
    for page in bad:
        assert site.remote_references(page), page
    good = ['<a href="https://captum.ai">Captum</a>', '<img src="data:image/png;base64,AAAA">',
            '<script src="mathjax/MathJax.js?config=X"></script>',
            "<style>/* https://github.com/material-components/material-components-web */</style>",
            "<!-- <script src='https://cdn.example/x.js'></script> -->"]
    for page in good:
        assert site.remote_references(page) == [], page


def test_the_stock_lab_template_would_reach_a_cdn_and_ours_does_not():
    from nbconvert import HTMLExporter

    stock, _ = HTMLExporter(template_name="lab").from_filename(str(SECOND))
    assert any("require" in r for r in site.remote_references(stock))
    nb = _load(SECOND)
    ours = site.render_page(SECOND, nb, None, None, {SECOND.stem})
    assert site.remote_references(ours) == []
    assert site.render_page(SECOND, nb, None, None, {SECOND.stem}) == ours  # deterministic


def test_cli_site_builds_into_out(monkeypatch, tmp_path):
    from bertlab.__main__ import main

    calls = []
    monkeypatch.setattr(site, "build", lambda out, **kw: calls.append(Path(out)) or [])
    monkeypatch.setattr(site, "broken_links", lambda out: [])
    assert main(["site", "--out", str(tmp_path / "s")]) == 0
    assert calls == [tmp_path / "s"]


# ------------------------------------------------------------------------------------------
# The Chinese edition: site/zh/, and a language switch on every page
# ------------------------------------------------------------------------------------------

ZH_FIRST_CELL = """# 00 · 欢迎来到 bertlab

**你将学到**
- 甲：`make lab`；
- 乙。
"""


@pytest.fixture(scope="module")
def bilingual(tmp_path_factory):
    """The site for 00 and 01 in English, and 00 only in a (stand-in) Chinese edition."""
    src = tmp_path_factory.mktemp("notebooks")
    zh = src / "zh"
    zh.mkdir()
    shutil.copy(FIRST, src / FIRST.name)
    shutil.copy(SECOND, src / SECOND.name)
    nb = _load(FIRST)
    first = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    first["source"] = ZH_FIRST_CELL
    (zh / FIRST.name).write_text(json.dumps(nb))
    out = tmp_path_factory.mktemp("site")
    written = site.build(out, notebooks=[src / FIRST.name, src / SECOND.name], runs=tmp_path_factory.mktemp("runs"),
                         progress=None, translations={"zh": [zh / FIRST.name]})
    return out, written


def test_a_translated_edition_gets_its_own_folder_index_and_language(bilingual):
    out, written = bilingual
    assert [str(p.relative_to(out)) for p in written] == [
        "00_welcome.html", "01_attention.html", "index.html", "zh/00_welcome.html", "zh/index.html"]
    page, index = _page(out, "zh/00_welcome.html"), _page(out, "zh/index.html")
    assert '<html lang="zh-CN">' in page and '<html lang="zh-CN">' in index
    assert '<html lang="en">' in _page(out, "00_welcome.html")
    assert "<title>00 · 欢迎来到 bertlab</title>" in page
    assert "全部笔记本" in page and "<li>甲：<code>make lab</code>；</li>" in index and "快速配置" in index
    assert '../mathjax/MathJax.js' in page and site.remote_references(page) == []


def test_every_page_links_to_its_twin_in_the_other_language(bilingual):
    out, _ = bilingual
    switch = lambda page: re.findall(r'<a class="lang-switch" href="([^"]+)" hreflang="([^"]+)"', page)  # noqa: E731
    assert set(switch(_page(out, "00_welcome.html"))) == {("zh/00_welcome.html", "zh-CN")}
    assert set(switch(_page(out, "zh/00_welcome.html"))) == {("../00_welcome.html", "en")}
    assert switch(_page(out, "index.html")) == [("zh/index.html", "zh-CN")]
    assert switch(_page(out, "zh/index.html")) == [("../index.html", "en")]
    assert switch(_page(out, "01_attention.html")) == [], "no twin, no switch"
    assert site.broken_links(out) == []


def test_the_default_build_includes_the_committed_chinese_edition():
    zh = sorted((site.NOTEBOOKS / "zh").glob(site.NOTEBOOK_GLOB))
    assert [p.name for p in zh] == [p.name for p in sorted(site.NOTEBOOKS.glob(site.NOTEBOOK_GLOB))]
    for path in zh:
        nb = _load(path)
        assert site.title_of(nb).startswith(path.stem.split("_")[0] + " · "), path.name
        assert site.objectives_of(nb), f"zh/{path.name}: no bullets under 你将学到"
