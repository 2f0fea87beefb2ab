"""The offline static site: ``python -m bertlab site [--out site]`` (``make site``).

Renders every executed ``notebooks/NN_*.ipynb`` to ``site/NN_*.html`` with nbconvert's lab
template (code highlighted, figures embedded as data URIs), and writes ``site/index.html``: each
notebook in order with its title, its objectives (the bullet list under "What you will learn" in
its first markdown cell), its measured quick-profile run time and its GPU run time.

The site works from a folder or a USB stick with no server and no network:

- maths is typeset by a MathJax 2.7 copy in ``site/mathjax/`` (from the ``jupyter-server-mathjax``
  package), loaded by a relative URL, so ``file://`` works;
- the lab template's CDN scripts (require.js, mermaid, the widget renderer) are left out, and
  :func:`remote_references` (which the build runs on every page) finds any script, stylesheet,
  image or import that would still reach the network; plain ``<a href="https://...">`` links in
  the prose (citations) are allowed, since nothing loads them;
- links to ``NN_*.ipynb`` become links to ``NN_*.html``; every page has previous / index / next.

Translated editions (``notebooks/zh/``, built by ``make zh``) are rendered the same way into
``site/zh/``, with their own index; every page, index included, carries a language switch to its
twin in the other language (``NN_*.html`` ↔ ``zh/NN_*.html``).

Run times: the quick-profile figure is :func:`measured_seconds` of the committed notebook (the
same figure ``tests/test_claims.py`` holds README and the notebooks' "Run time" lines to). The
GPU figure comes from a run record (``runs/gpu_*.json``, or ``results/gpu-full/run.json`` that
``make record-full`` writes) when one exists, else the index says
"not measured yet" (figures are never estimated). A GPU run record is JSON of either form::

    {"notebook": "04_finetuning", "seconds": 41.2, "device": "NVIDIA H200", "profile": "full"}
    {"device": "NVIDIA H200", "profile": "full", "notebooks": {"04_finetuning": 41.2,
                                                               "05_long_documents": {"seconds": 63.0}}}

(notebook keys may be the file stem or the id, ``04`` / ``04b``). The build is deterministic: the
same notebooks give byte-identical pages.
"""

from __future__ import annotations

import datetime
import html
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import jupyter_server_mathjax
import nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from nbconvert.filters import markdown2html_mistune

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RUNS = ROOT / "runs"
GPU_RECORD = ROOT / "results" / "gpu-full" / "run.json"  # bertlab.record writes it
NOTEBOOK_GLOB = "[0-9]*.ipynb"
MATHJAX_DIR = "mathjax"
# The configuration jupyter-server-mathjax ships (HTML-CSS output with the STIX-Web fonts), plus Safe.
MATHJAX_URL = f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"


# ------------------------------------------------------------------------------------------
# Run times (shared with tests/test_claims.py)
# ------------------------------------------------------------------------------------------

def _timestamp(s: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def measured_seconds(nb: dict) -> float:
    """A notebook's recorded run time: first code cell's iopub.execute_input to last code cell's
    shell.execute_reply (the execution timing metadata Jupyter and nbconvert store)."""
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if not code:
        raise ValueError("no code cells")
    first = code[0].get("metadata", {}).get("execution", {}).get("iopub.execute_input")
    last = code[-1].get("metadata", {}).get("execution", {}).get("shell.execute_reply")
    if not first or not last:
        raise LookupError("no execution timing metadata (iopub.execute_input of the first code cell, "
                          "shell.execute_reply of the last): re-execute with `make execute`")
    return (_timestamp(last) - _timestamp(first)).total_seconds()


def gpu_runs(stem: str, runs: Path = RUNS, record: Path = GPU_RECORD) -> list[dict]:
    """The GPU run records for notebook ``stem`` (``04_finetuning``): dicts with seconds, device,
    profile and the record's path (``runs/gpu_h200.json``), in file order. Empty when none was measured."""
    nid = stem.split("_")[0]
    found = []
    paths = [(p, f"runs/{p.name}") for p in sorted(Path(runs).glob("gpu_*.json"))]
    paths += [(Path(record), "results/gpu-full/run.json")] if Path(record).is_file() else []
    for path, shown in paths:
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(rec, dict):
            continue
        entries = []
        if rec.get("notebook") in (stem, nid) and "seconds" in rec:
            entries.append(rec)
        for key, value in (rec.get("notebooks") or {}).items():
            if key in (stem, nid):
                entries.append(value if isinstance(value, dict) else {"seconds": value})
        for e in entries:
            try:
                seconds = float(e["seconds"])
            except (KeyError, TypeError, ValueError):
                continue
            found.append({"seconds": seconds, "device": e.get("device", rec.get("device", "GPU")),
                          "profile": e.get("profile", rec.get("profile", "")), "record": shown})
    return found


def format_seconds(seconds: float) -> str:
    """``9 s``, ``67 s``, ``2 min 38 s``, ``1 h 05 min``."""
    s = round(seconds)
    if s < 100:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


# ------------------------------------------------------------------------------------------
# What the index shows of a notebook
# ------------------------------------------------------------------------------------------

def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _first_markdown(nb: dict) -> str:
    return next((_source(c) for c in nb["cells"] if c["cell_type"] == "markdown"), "")


def title_of(nb: dict, fallback: str = "") -> str:
    """The first heading of the notebook's first markdown cell (``01 · Attention, the math``)."""
    m = re.search(r"^#+\s+(.+?)\s*#*\s*$", _first_markdown(nb), re.M)
    return m.group(1) if m else fallback


def plain(markdown: str) -> str:
    """One line of markdown as plain text (for a <title> or a navigation link): no backticks,
    emphasis or link targets."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return re.sub(r"`([^`]*)`|\*\*([^*]+)\*\*|\*([^*]+)\*", lambda m: next(g for g in m.groups() if g), text)


OBJECTIVES_HEADINGS = ("what you will learn", "你将学到")


def objectives_of(nb: dict) -> list[str]:
    """The bullet items (markdown, each joined onto one line) under "What you will learn" (你将学到)."""
    lines = _first_markdown(nb).splitlines()
    start = next((i for i, ln in enumerate(lines) if any(h in ln.lower() for h in OBJECTIVES_HEADINGS)), None)
    if start is None:
        return []
    items: list[str] = []
    for ln in lines[start + 1:]:
        if m := re.match(r"^\s*[-*+]\s+(.*)$", ln):
            items.append(m.group(1).strip())
        elif items and ln.strip() and ln.startswith((" ", "\t")):
            items[-1] += " " + ln.strip()
        elif items or ln.strip():
            break
    return items


def _inline_markdown(text: str) -> str:
    """Markdown for one line (code spans, emphasis, links) as HTML, without the paragraph."""

    out = markdown2html_mistune(text).strip()
    return re.sub(r"^<p>(.*)</p>$", r"\1", out, flags=re.S)


# ------------------------------------------------------------------------------------------
# The checks the build runs on every page
# ------------------------------------------------------------------------------------------

_REMOTE = r"""(?:https?:)?//[^\s"'<>)]+"""
_LOADING_TAGS = r"script|link|img|iframe|source|video|audio|embed|object|track|input|use|image"
REMOTE_PATTERNS = [
    # a tag that loads what its src/href/data/poster/srcset names (plain <a href> links load nothing)
    re.compile(rf"""<(?:{_LOADING_TAGS})\b[^>]*?\s(?:src|href|data|poster|srcset|xlink:href)\s*=\s*["']?\s*{_REMOTE}""",
               re.I),
    re.compile(rf"""\bimport\s*\(\s*["']{_REMOTE}""", re.I),            # dynamic ES module import
    re.compile(rf"""\bimport\s[^;'"]*\bfrom\s*["']{_REMOTE}""", re.I),  # static ES module import
    re.compile(rf"""@import\s+(?:url\()?\s*["']?{_REMOTE}""", re.I),    # CSS import
    re.compile(rf"""url\(\s*["']?{_REMOTE}""", re.I),                   # CSS url(...)
    re.compile(rf"""\.src\s*=\s*["']{_REMOTE}""", re.I),                # script.src = "https://..."
    re.compile(rf"""\b(?:require_js_url|widgetRendererSrc|cdn)\s*=\s*["']{_REMOTE}""", re.I),
]


def _strip_comments(page: str) -> str:
    """The page without HTML and CSS/JS block comments (the lab CSS cites its sources there)."""
    page = re.sub(r"<!--.*?-->", "", page, flags=re.S)
    return re.sub(r"/\*.*?\*/", "", page, flags=re.S)


def remote_references(page: str) -> list[str]:
    """Everything in an HTML page that would make the browser reach the network."""
    text = _strip_comments(page)
    return sorted({m.group(0)[:160] for pat in REMOTE_PATTERNS for m in pat.finditer(text)})


_HREF = re.compile(r"""(?P<attr>\b(?:href|src)\s*=\s*)(?P<q>["'])(?P<url>[^"']*)(?P=q)""", re.I)


def local_links(page: str) -> list[str]:
    """The relative href/src targets of a page (no scheme, no data: URI, no bare #anchor)."""
    out = []
    for m in _HREF.finditer(_strip_comments(page)):
        url = html.unescape(m["url"]).strip()
        if not url or url.startswith("#") or re.match(r"^[a-z][a-z0-9+.-]*:|^//", url, re.I):
            continue
        out.append(url)
    return out


def rewrite_notebook_links(page: str, stems: set[str]) -> str:
    """``href="04_finetuning.ipynb#x"`` (also ``./``, ``notebooks/``, ``../notebooks/``) to ``.html``
    when that notebook is on the site."""
    def swap(m: re.Match) -> str:
        url = m["url"]
        link = re.match(r"^(?:\./|(?:\.\./)?notebooks/)?(?P<stem>[^/#?]+)\.ipynb(?P<rest>[#?].*)?$", url)
        if not link or link["stem"] not in stems:
            return m.group(0)
        return f'{m["attr"]}{m["q"]}{link["stem"]}.html{link["rest"] or ""}{m["q"]}'
    return _HREF.sub(swap, page)


# ------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------

SITE_CSS = """
nav.bertlab-nav { display: flex; justify-content: space-between; gap: 1em; max-width: 1100px;
  margin: 0.5em auto; padding: 0.6em 1em; font-family: var(--jp-ui-font-family, sans-serif);
  font-size: 15px; background: #f3f5f8; border: 1px solid #d8dde6; border-radius: 6px; }
nav.bertlab-nav a { color: #1a5fb4; text-decoration: none; }
nav.bertlab-nav a:hover { text-decoration: underline; }
nav.bertlab-nav .nav-prev, nav.bertlab-nav .nav-next { flex: 1; }
nav.bertlab-nav .nav-next { text-align: right; }
nav.bertlab-nav .nav-index { flex: 0 0 auto; font-weight: 600; }
nav.bertlab-nav .nav-lang { flex: 0 0 auto; }
a.lang-switch { border: 1px solid #1a5fb4; border-radius: 4px; padding: 0 0.45em; }
"""

# nbconvert's MathJax configuration, plus the fonts: jupyter-server-mathjax ships only the STIX-Web web
# fonts, so MathJax must neither look for fonts installed locally (it would then want their metrics,
# which are not shipped) nor fall back to image fonts (not shipped either). As classic Jupyter did.
MATHJAX_CONFIG = r"""
<script src="{{ resources.mathjax_url }}"></script>
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
    TeX: { equationNumbers: { autoNumber: "AMS", useLabelIds: true } },
    tex2jax: {
        inlineMath: [ ['$','$'], ["\\(","\\)"] ],
        displayMath: [ ['$$','$$'], ["\\[","\\]"] ],
        processEscapes: true,
        processEnvironments: true
    },
    displayAlign: 'center',
    messageStyle: 'none',
    "HTML-CSS": {
        availableFonts: [],
        preferredFont: null,
        webFont: "STIX-Web",
        imageFont: null,
        linebreaks: { automatic: true }
    },
    CommonHTML: { linebreaks: { automatic: true } },
    menuSettings: { zoom: "None" }
});
MathJax.Hub.Queue(["Typeset", MathJax.Hub]);
</script>
"""

# The lab template, less everything that would reach a CDN, plus the navigation bars.
PAGE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_mathjax -%}""" + MATHJAX_CONFIG + """{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block extra_css %}<style type="text/css">{{ resources.site.css }}</style>{% endblock extra_css %}
{%- block body_header -%}
{{ super() }}
{{ resources.site.nav }}
{%- endblock body_header -%}
{% block body_footer %}
{{ resources.site.nav }}
{{ super() }}
{% endblock body_footer %}
"""


@dataclass(frozen=True)
class Language:
    """The words of one edition's pages, and where its pages are relative to the site's root."""

    code: str                 # HTML lang: "en", "zh-CN"
    folder: str               # "" for English, "zh" for the Chinese edition
    name: str                 # the language's name, in itself, for the switch: "English", "中文"
    all_notebooks: str
    index_title: str
    heading: str
    lead: str
    quick: str
    committed_run: str
    no_timing: str
    not_measured: str
    gpu_on: str               # "{time} on {device}"
    profile: str              # "{name} profile"
    footer: str

    @property
    def root(self) -> str:
        """The relative path from this edition's pages to the site's root."""
        return "../" * len(Path(self.folder).parts) if self.folder else ""


ENGLISH = Language(
    "en", "", "English", "All notebooks", "bertlab: the notebooks", "bertlab: BERT for text classification",
    """The executed notebooks, in reading order, with what each one teaches and how long it
takes to run. These pages need no network and no server: open them from a folder or a USB stick. To run
the code yourself, open the same notebooks in JupyterLab (<code>make lab</code>).""",
    "Quick profile", "(the committed run, CPU)", "no execution timing recorded", "not measured yet",
    "{time} on {device}", "{name} profile",
    """Quick-profile times are the execution times the committed notebooks record (first code cell to
last). GPU times come from run records (<code>results/gpu-full/run.json</code>, <code>runs/gpu_*.json</code>); where there is none, the
notebook has not been timed on a GPU yet.""")

CHINESE = Language(
    "zh-CN", "zh", "中文", "全部笔记本", "bertlab：笔记本", "bertlab：用 BERT 做文本分类",
    """按阅读顺序排列的已执行笔记本，以及每一本教什么、运行要多久。这些页面不需要网络，也不需要服务器：
从文件夹或 U 盘直接打开即可。要亲手运行代码，请在 JupyterLab 中打开同样的笔记本
（<code>make lab</code>，中文版在 <code>notebooks/zh/</code>）。""",
    "快速配置", "（提交的那次运行，CPU）", "没有记录执行时间", "尚未测量",
    "{time}，{device}", "{name} 配置",
    """快速配置的时间取自提交的笔记本记录的执行时间（从第一个代码单元格到最后一个）。GPU 时间取自
<code>results/gpu-full/run.json</code> 或 <code>runs/gpu_*.json</code> 中的运行记录；没有记录的，表示该笔记本尚未在 GPU 上计时。""")

LANGUAGES = {"en": ENGLISH, "zh": CHINESE}


def language_switch(here: Language, there: Language, page: str) -> str:
    """A link from a page of edition ``here`` to the same page (``page``, a file name) of ``there``."""
    href = f"{here.root}{there.folder + '/' if there.folder else ''}{page}"
    return (f'<a class="lang-switch" href="{href}" hreflang="{there.code}" lang="{there.code}">'
            f'{html.escape(there.name)}</a>')


def _nav(prev: tuple[str, str] | None, nxt: tuple[str, str] | None, ui: Language = ENGLISH,
         switch: str = "") -> str:
    def link(item, cls, arrow_left):
        if not item:
            return f'<span class="{cls}"></span>'
        href, title = item
        label = f"← {html.escape(plain(title))}" if arrow_left else f"{html.escape(plain(title))} →"
        rel = "prev" if arrow_left else "next"
        return f'<span class="{cls}"><a href="{href}" rel="{rel}">{label}</a></span>'
    return ('<nav class="bertlab-nav">' + link(prev, "nav-prev", True)
            + f'<span class="nav-index"><a href="index.html">{html.escape(ui.all_notebooks)}</a></span>'
            + (f'<span class="nav-lang">{switch}</span>' if switch else "")
            + link(nxt, "nav-next", False) + "</nav>")


def _exporter(root: str = ""):
    """nbconvert's lab exporter, less its CDN scripts; ``root`` is the way from the pages to the site's root."""
    return HTMLExporter(template_name="lab", template_file="bertlab_site.html.j2",
                        extra_loaders=[DictLoader({"bertlab_site.html.j2": PAGE_TEMPLATE})],
                        mathjax_url=root + MATHJAX_URL, require_js_url="", mermaid_js_url="",
                        mermaid_layout_elk_js_url="", jquery_url="", jupyter_widgets_base_url="",
                        widget_renderer_url="", embed_images=True, theme="light")


def mathjax_source() -> Path:
    """The MathJax 2.7 folder jupyter-server-mathjax installs (``MathJax.js`` at its top)."""
    folder = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (folder / "MathJax.js").is_file():
        raise RuntimeError(f"no MathJax.js in {folder}")
    return folder


def copy_mathjax(out: Path) -> Path:
    """Copy MathJax into ``out/mathjax`` (files already identical are left alone)."""
    src, dest = mathjax_source(), Path(out) / MATHJAX_DIR
    for path in sorted(src.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        target = dest / path.relative_to(src)
        st = path.stat()
        if target.is_file() and target.stat().st_size == st.st_size and target.stat().st_mtime == st.st_mtime:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return dest


@dataclass
class Entry:
    """One notebook on the site."""
    stem: str
    title: str
    objectives: list[str]
    quick_seconds: float | None
    gpu: list[dict] = field(default_factory=list)

    @property
    def page(self) -> str:
        return f"{self.stem}.html"


def render_page(path: Path, nb: dict, prev: Entry | None, nxt: Entry | None, stems: set[str],
                exporter=None, ui: Language = ENGLISH, switch: str = "") -> str:
    """One notebook as a self-contained HTML page (MathJax excepted), checked for remote loads."""
    node = nbformat.reads(json.dumps(nb), as_version=4)   # joins multi-line sources and outputs
    node.metadata["title"] = plain(title_of(nb, path.stem))
    resources = {"metadata": {"name": path.stem, "path": str(path.parent)},
                 "site": {"css": SITE_CSS,
                          "nav": _nav(prev and (prev.page, prev.title), nxt and (nxt.page, nxt.title), ui, switch)}}
    page, _ = (exporter or _exporter(ui.root)).from_notebook_node(node, resources=resources)
    page = rewrite_notebook_links(page, stems)
    page = re.sub(r"<html\b[^>]*>", f'<html lang="{ui.code}">', page, count=1)
    if remote := remote_references(page):
        raise RuntimeError(f"{path.name}: the page would reach the network: {remote}")
    return page


INDEX_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1d232b; background: #fff; max-width: 60em; margin: 2em auto; padding: 0 1.2em; line-height: 1.5; }
h1 { font-size: 1.9em; margin-bottom: 0.2em; }
p.lead { color: #48525e; margin-top: 0; }
ol.notebooks { list-style: none; padding: 0; }
ol.notebooks > li { border: 1px solid #d8dde6; border-radius: 8px; padding: 0.8em 1.2em; margin: 1em 0; }
ol.notebooks h2 { font-size: 1.25em; margin: 0.1em 0 0.4em; }
ol.notebooks h2 a { color: #1a5fb4; text-decoration: none; }
ol.notebooks h2 a:hover { text-decoration: underline; }
ul.objectives { margin: 0.3em 0 0.6em; padding-left: 1.3em; }
ul.objectives li { margin: 0.15em 0; }
dl.times { display: grid; grid-template-columns: max-content 1fr; gap: 0.1em 1em; margin: 0;
  font-size: 0.93em; color: #333c47; }
dl.times dt { font-weight: 600; }
dl.times dd { margin: 0; }
.not-measured { color: #7a828c; font-style: italic; }
code { background: #f3f5f8; padding: 0.05em 0.3em; border-radius: 3px; font-size: 0.92em; }
p.lang { float: right; margin: 0.4em 0; }
a.lang-switch { color: #1a5fb4; text-decoration: none; border: 1px solid #1a5fb4; border-radius: 4px; padding: 0 0.45em; }
footer { color: #6a737d; font-size: 0.9em; border-top: 1px solid #e3e6ea; margin-top: 2em; padding-top: 0.8em; }
"""


def render_index(entries: list[Entry], ui: Language = ENGLISH, switch: str = "") -> str:
    """``index.html``: every notebook in order, its objectives and its run times."""
    items = []
    for e in entries:
        objectives = "".join(f"<li>{_inline_markdown(o)}</li>" for o in e.objectives)
        quick = (f"{format_seconds(e.quick_seconds)} {ui.committed_run}" if e.quick_seconds is not None
                 else f'<span class="not-measured">{ui.no_timing}</span>')
        if e.gpu:
            gpu = "; ".join(ui.gpu_on.format(time=format_seconds(g['seconds']), device=html.escape(str(g['device'])))
                            + (", " + ui.profile.format(name=html.escape(str(g['profile']))) if g["profile"] else "")
                            + f" (<code>{html.escape(g['record'])}</code>)" for g in e.gpu)
        else:
            gpu = f'<span class="not-measured">{ui.not_measured}</span>'
        items.append(
            f'<li id="nb-{html.escape(e.stem)}">\n<h2><a href="{html.escape(e.page)}">{_inline_markdown(e.title)}</a></h2>\n'
            + (f'<ul class="objectives">{objectives}</ul>\n' if objectives else "")
            + f'<dl class="times"><dt>{ui.quick}</dt><dd class="quick">{quick}</dd>'
            + f'<dt>GPU</dt><dd class="gpu">{gpu}</dd></dl>\n</li>')
    return f"""<!DOCTYPE html>
<html lang="{ui.code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{ui.index_title}</title>
<style>{INDEX_CSS}</style>
</head>
<body>
<main>
{f'<p class="lang">{switch}</p>' if switch else ""}
<h1>{ui.heading}</h1>
<p class="lead">{ui.lead}</p>
<ol class="notebooks">
{chr(10).join(items)}
</ol>
<footer>{ui.footer}</footer>
</main>
</body>
</html>
"""


def _entries(paths: list[Path], runs: Path) -> tuple[list[dict], list[Entry]]:
    loaded, entries = [], []
    for path in paths:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        try:
            quick = measured_seconds(nb)
        except (LookupError, ValueError):
            quick = None
        entries.append(Entry(path.stem, title_of(nb, path.stem), objectives_of(nb), quick,
                             gpu_runs(path.stem, runs)))
        loaded.append(nb)
    return loaded, entries


def _build_edition(out: Path, paths: list[Path], runs: Path, ui: Language, twins: dict[str, set[str]],
                   progress) -> list[Path]:
    """Render one edition's notebooks and index into ``out`` (its folder); ``twins`` maps each other
    edition's language key to the stems it has, for the language switch."""
    out.mkdir(parents=True, exist_ok=True)
    loaded, entries = _entries(paths, runs)
    stems = {e.stem for e in entries}
    exporter = _exporter(ui.root)

    def switch(page: str, stem: str | None) -> str:
        return " ".join(language_switch(ui, LANGUAGES[key], page) for key, have in twins.items()
                        if stem is None or stem in have)

    written = []
    for i, (path, nb, entry) in enumerate(zip(paths, loaded, entries)):
        page = render_page(path, nb, entries[i - 1] if i else None,
                           entries[i + 1] if i + 1 < len(entries) else None, stems, exporter, ui,
                           switch(entry.page, entry.stem))
        target = out / entry.page
        target.write_text(page, encoding="utf-8")
        written.append(target)
        if progress:
            progress(f"{target}  {len(page) / 1e6:.1f} MB")
    for stale in out.glob("[0-9]*.html"):
        if stale.stem not in stems:
            stale.unlink()
    index = out / "index.html"
    index.write_text(render_index(entries, ui, switch("index.html", None)), encoding="utf-8")
    written.append(index)
    if progress:
        progress(f"{index}  ({len(entries)} notebooks; open it in a browser, no server needed)")
    return written


def build(out: Path | str = "site", notebooks: list[Path] | None = None, runs: Path = RUNS,
          progress=print, translations: dict[str, list[Path]] | None = None) -> list[Path]:
    """Render ``notebooks`` (default: every ``notebooks/NN_*.ipynb``) and the index into ``out``, and
    each translated edition (``translations``: language key -> notebooks; default: every
    ``notebooks/zh/NN_*.ipynb`` when ``notebooks`` is not given) into ``out/<key>/``.

    Returns the pages written. Pages of notebooks no longer on the list are removed.
    """
    out = Path(out)
    paths = sorted(notebooks) if notebooks is not None else sorted(NOTEBOOKS.glob(NOTEBOOK_GLOB))
    if not paths:
        raise RuntimeError(f"no notebooks to render (looked for {NOTEBOOKS}/{NOTEBOOK_GLOB})")
    if translations is None:
        translations = {} if notebooks is not None else {
            key: found for key in LANGUAGES if key != "en"
            if (found := sorted((NOTEBOOKS / LANGUAGES[key].folder).glob(NOTEBOOK_GLOB)))}
    unknown = set(translations) - set(LANGUAGES) - {"en"}
    if unknown:
        raise ValueError(f"no site language for {sorted(unknown)}: the site knows {sorted(LANGUAGES)}")
    out.mkdir(parents=True, exist_ok=True)
    copy_mathjax(out)
    editions = {"en": sorted(paths), **{k: sorted(v) for k, v in translations.items()}}
    stems = {key: {p.stem for p in found} for key, found in editions.items()}
    written = []
    for key, found in editions.items():
        ui = LANGUAGES[key]
        twins = {k: v for k, v in stems.items() if k != key}
        written += _build_edition(out / ui.folder if ui.folder else out, found, runs, ui, twins, progress)
    return written


def broken_links(out: Path | str) -> list[str]:
    """``page -> target`` for every relative link in the site that names no file in it."""
    out = Path(out)
    bad = []
    for page in sorted(out.rglob("*.html")):
        if MATHJAX_DIR in page.relative_to(out).parts:
            continue
        for url in local_links(page.read_text(encoding="utf-8")):
            target = url.split("#")[0].split("?")[0]
            if target and not (page.parent / target).is_file():
                bad.append(f"{page.relative_to(out)} -> {url}")
    return bad
