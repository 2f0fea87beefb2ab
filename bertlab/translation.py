"""Translated editions: each notebook's markdown in another language, its code and outputs unchanged.

A translated notebook is *generated*, never executed: ``notebooks/zh/NN_*.ipynb`` is the English
``notebooks/NN_*.ipynb`` with every markdown cell replaced by its translation. Code cells, their
outputs and execution metadata are copied as they are, so the two editions cannot disagree about
what the code does, and the translated edition costs no second execution.

The translations are data, one markdown file per notebook (``sources/zh/NN_*.md``), which diffs
like any text. Each block starts with a marker line naming the English cell it translates by a
hash of that cell's text::

    <!-- en 3f2a9c1b7d0e4f5a -->
    ## 1. 由真实句子得到查询、键和值
    ...

    <!-- zh-only -->
    ### 中文版补充：BERT 如何切分中文
    ...

- ``<!-- en HASH -->``: the translation of the English markdown cell whose text hashes to HASH
  (:func:`cell_hash`). When the English cell changes, its hash changes, the block no longer
  translates any cell, and :func:`problems` reports the cell as *stale*: never silently old.
- ``<!-- en HASH todo -->``: a cell still to translate; the block holds the English text.
  ``python -m bertlab zh --todo`` writes these for every missing or changed cell, beside the old
  translation, so a translator edits the text and deletes the marker's ``todo`` (and the old block).
- ``<!-- zh-only -->``: a cell only the translated edition has (something the English text has
  nothing to say about, such as how BERT tokenizes Chinese); it directly follows the translated
  cell before it in the file, and its first line must name it as an addition (:attr:`Edition.addition_label`).
  ``<!-- zh-only after-code -->`` places it after the code cells that follow that cell instead, so
  that it can discuss their outputs.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = ROOT / "sources"


@dataclass(frozen=True)
class Edition:
    """One translated edition: its language code, where its translations and notebooks live."""

    lang: str                 # folder name and marker word: "zh"
    bcp47: str                # for HTML lang= and notebook metadata: "zh-CN"
    name: str                 # the language, in itself: "中文"
    addition_label: str       # the first line of an added cell must contain this: "中文版补充"

    @property
    def translations(self) -> Path:
        return SOURCES / self.lang

    @property
    def notebooks(self) -> Path:
        return NOTEBOOKS / self.lang


ZH = Edition("zh", "zh-CN", "中文", "中文版补充")
EDITIONS = {ZH.lang: ZH}

MARKER_RE = re.compile(r"^<!-- (?:en (?P<hash>[0-9a-f]{16})(?P<todo> todo)?|(?P<only>[a-z]+)-only(?P<after> after-code)?) -->[ \t]*$",
                       re.M)
HEADER = ("<!-- Translation of notebooks/{name}.ipynb ({lang}). Each block translates the English markdown "
          "cell whose hash its marker names; `make zh` builds notebooks/{lang}/{name}.ipynb from the English "
          "notebook and these blocks (bertlab/translation.py). -->\n")


def cell_hash(text: str) -> str:
    """The 16-hex-digit hash that names an English markdown cell (trailing spaces and blank edges ignored)."""
    norm = "\n".join(line.rstrip() for line in text.strip("\n").splitlines())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:16]


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


@dataclass
class Block:
    """One block of a translation file."""

    kind: str                 # "translation", "todo" or "addition"
    hash: str | None          # the English cell's hash (None for an addition)
    text: str
    line: int                 # where its marker is in the file (1-based)
    after_code: bool = False  # an addition: after the code cells that follow the cell before it


@dataclass
class Translation:
    """A parsed translation file: a header (kept verbatim) and its blocks, in file order."""

    path: Path
    header: str
    blocks: list[Block] = field(default_factory=list)

    def by_hash(self) -> dict[str, Block]:
        """The finished translations, by the hash of the English cell each translates."""
        return {b.hash: b for b in self.blocks if b.kind == "translation"}


def parse(text: str, path: Path = Path("<string>")) -> Translation:
    """Parse a translation file's text (see the module docstring for its format)."""
    marks = list(MARKER_RE.finditer(text))
    tr = Translation(path, text[:marks[0].start()] if marks else text)
    for i, m in enumerate(marks):
        body = text[m.end():marks[i + 1].start() if i + 1 < len(marks) else len(text)].strip("\n")
        line = text.count("\n", 0, m.start()) + 1
        if not body.strip():
            raise ValueError(f"{path}:{line}: the block under {m.group(0)!r} is empty: write its text, "
                             "or delete the marker")
        kind = "addition" if m["only"] else "todo" if m["todo"] else "translation"
        tr.blocks.append(Block(kind, m["hash"], body.rstrip() + "\n", line, bool(m["after"])))
    seen: dict[str, int] = {}
    for b in tr.blocks:
        if b.kind == "translation" and b.hash in seen:
            raise ValueError(f"{path}:{b.line}: a second translation of cell en {b.hash} (the first is at "
                             f"line {seen[b.hash]}): keep one")
        if b.hash:
            seen.setdefault(b.hash, b.line)
    return tr


def render(tr: Translation, edition: Edition = ZH) -> str:
    """A translation file's text (parse(render(tr)) gives tr back)."""
    out = [tr.header.rstrip("\n") + "\n"] if tr.header.strip() else []
    for b in tr.blocks:
        marker = (f"<!-- {b.hash and 'en ' + b.hash}{' todo' if b.kind == 'todo' else ''} -->"
                  if b.kind != "addition" else f"<!-- {edition.lang}-only{' after-code' if b.after_code else ''} -->")
        out.append(f"\n{marker}\n{b.text.rstrip()}\n")
    return "".join(out)


def translation_path(english: Path, edition: Edition = ZH) -> Path:
    """Where the translations of notebook ``english`` live: ``sources/zh/NN_*.md``."""
    return edition.translations / f"{Path(english).stem}.md"


def load(english: Path, edition: Edition = ZH) -> Translation:
    """The translation file of notebook ``english`` (an empty one if there is none yet)."""
    path = translation_path(english, edition)
    if not path.is_file():
        return Translation(path, HEADER.format(name=Path(english).stem, lang=edition.lang))
    return parse(path.read_text(encoding="utf-8"), path)


@dataclass(frozen=True)
class Problem:
    """A markdown cell of the English notebook that has no current translation."""

    notebook: str
    cell: int                 # index among all the English notebook's cells
    hash: str
    what: str                 # "missing", "stale" or "todo"
    first_line: str
    old: Block | None = None  # for "stale": the block that translated an older text, if one is found

    def __str__(self) -> str:
        where = f"{self.notebook} cell {self.cell} (en {self.hash}, “{self.first_line[:60]}”)"
        if self.what == "stale":
            return (f"{where}: the English text changed since it was translated; the old translation is "
                    f"at line {self.old.line} (en {self.old.hash}) of the translation file")
        if self.what == "todo":
            return f"{where}: marked todo, still to translate"
        return f"{where}: no translation"


def _markdown_cells(nb) -> list[tuple[int, str, str]]:
    return [(i, cell_hash(_source(c)), _source(c)) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]


def problems(nb, tr: Translation, notebook: str = "") -> list[Problem]:
    """Every English markdown cell of ``nb`` that ``tr`` does not translate in its current text.

    A translation block whose hash names no cell of ``nb`` is an *old* translation; the English
    cell it sits beside (in order) is reported as stale, with the old block, rather than missing.
    """
    cells = _markdown_cells(nb)
    current = {h for _, h, _ in cells}
    done = tr.by_hash()
    todo = {b.hash for b in tr.blocks if b.kind == "todo"}
    orphans = [b for b in tr.blocks if b.kind == "translation" and b.hash not in current]
    # Pair each orphan with the first untranslated cell after the last translated cell before it.
    order = {b.hash: k for k, b in enumerate(tr.blocks) if b.hash}
    index = {h: n for n, (_, h, _) in enumerate(cells)}
    stale_for: dict[int, Block] = {}
    for orphan in orphans:
        before = [index[b.hash] for b in tr.blocks[:order[orphan.hash]] if b.hash in done and b.hash in index]
        start = max(before) + 1 if before else 0
        for n in range(start, len(cells)):
            if cells[n][1] not in done and n not in stale_for:
                stale_for[n] = orphan
                break
    out = []
    for n, (i, h, text) in enumerate(cells):
        if h in done:
            continue
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        what = "todo" if h in todo else "stale" if n in stale_for else "missing"
        out.append(Problem(notebook, i, h, what, first, stale_for.get(n)))
    return out


def with_todo(nb, tr: Translation) -> Translation:
    """``tr`` plus a ``todo`` block (holding the English text) for each untranslated cell of ``nb``,
    placed after the blocks of the cells before it (after an old translation of the same cell)."""
    new = Translation(tr.path, tr.header, list(tr.blocks))
    cells = _markdown_cells(nb)
    present = {b.hash for b in new.blocks if b.hash}
    for n, (_, h, text) in enumerate(cells):
        if h in present:
            continue
        earlier = {hh for _, hh, _ in cells[:n]}
        at = 0
        for k, b in enumerate(new.blocks):
            if b.hash in earlier:
                at = k + 1
        # step past the additions and old translations that follow that cell's block
        while at < len(new.blocks) and (new.blocks[at].kind == "addition"
                                        or new.blocks[at].hash not in {hh for _, hh, _ in cells}):
            at += 1
        new.blocks.insert(at, Block("todo", h, text.strip("\n") + "\n", 0))
        present.add(h)
    return new


def translate(nb, tr: Translation, edition: Edition = ZH, english_name: str = ""):
    """The translated notebook: ``nb`` with its markdown cells replaced and the additions inserted.

    Raises ``ValueError`` listing every untranslated or stale cell: a translated edition is
    complete or it is not written.
    """
    found = problems(nb, tr, english_name)
    if found:
        raise ValueError(f"{len(found)} cell(s) of {english_name or 'the notebook'} have no current {edition.name} "
                         f"translation in {tr.path}:\n  " + "\n  ".join(map(str, found))
                         + f"\n(`python -m bertlab zh --todo` adds the English text to translate beside each)")
    done = tr.by_hash()
    # additions follow the translated cell before them in the file (or open the notebook)
    after: dict[str | None, list[Block]] = {}
    anchor = None
    for b in tr.blocks:
        if b.kind == "addition":
            first = b.text.strip().splitlines()[0]
            if edition.addition_label not in first:
                raise ValueError(f"{tr.path}:{b.line}: an added cell's first line must name it as an addition "
                                 f"(“{edition.addition_label}”), so a reader knows the English edition has no such "
                                 f"cell; it reads “{first[:60]}”")
            after.setdefault(anchor, []).append(b)
        elif b.hash in done:
            anchor = b.hash
    out = copy.deepcopy(nb)
    cells = []

    def addition(b: Block):
        digest = hashlib.sha256(b.text.encode("utf-8")).hexdigest()[:12]
        cell = nbformat.v4.new_markdown_cell(b.text.rstrip("\n"), id=f"{edition.lang}-{digest}")
        cell.metadata["tags"] = [f"{edition.lang}-only"]
        return cell

    pending: list[Block] = []   # after-code additions, waiting for the end of the code run

    def flush():
        cells.extend(addition(b) for b in pending)
        pending.clear()

    def place(anchor_hash):
        for b in after.get(anchor_hash, []):
            if b.after_code:
                pending.append(b)
            else:
                cells.append(addition(b))

    place(None)
    for cell in out.cells:
        if cell.cell_type == "markdown":
            flush()
            h = cell_hash(_source(cell))
            cell.source = done[h].text.rstrip("\n")
            cells.append(cell)
            place(h)
        else:
            cells.append(cell)
    flush()
    out.cells = cells
    out.metadata.pop("jupytext", None)   # generated from the English notebook, not paired with sources/
    out.metadata["bertlab"] = {"language": edition.bcp47, "translates": f"../{english_name}.ipynb"}
    return out


def english_notebooks() -> list[Path]:
    """The English notebooks, in order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb"))


def build_all(edition: Edition = ZH, write: bool = True) -> list[Path]:
    """Build every translated notebook into ``notebooks/<lang>/``; raise listing every problem first."""
    built, failures = [], []
    for path in english_notebooks():
        nb = nbformat.read(path, as_version=4)
        try:
            built.append((path, translate(nb, load(path, edition), edition, path.stem)))
        except ValueError as err:
            failures.append(str(err))
    if failures:
        raise ValueError("\n".join(failures))
    written = []
    if write:
        edition.notebooks.mkdir(parents=True, exist_ok=True)
        for path, nb in built:
            target = edition.notebooks / path.name
            tmp = target.with_suffix(".ipynb.tmp")
            tmp.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
            tmp.replace(target)     # never a half-written notebook
            written.append(target)
        for stale in edition.notebooks.glob("[0-9]*.ipynb"):
            if stale.name not in {p.name for p in english_notebooks()}:
                stale.unlink()
    return written


def status(edition: Edition = ZH) -> list[Problem]:
    """Every untranslated or stale cell of every notebook."""
    out = []
    for path in english_notebooks():
        out.extend(problems(nbformat.read(path, as_version=4), load(path, edition), path.stem))
    return out


def write_todo(edition: Edition = ZH) -> list[Path]:
    """Add ``todo`` blocks (the English text) for every untranslated cell; return the files changed."""
    changed = []
    for path in english_notebooks():
        tr = load(path, edition)
        new = with_todo(nbformat.read(path, as_version=4), tr)
        if len(new.blocks) != len(tr.blocks):
            new.path.parent.mkdir(parents=True, exist_ok=True)
            new.path.write_text(render(new), encoding="utf-8")
            changed.append(new.path)
    return changed


# ------------------------------------------------------------------------------------------
# Terminology: docs/glossary.md, and the checks that hold the translations to it
# ------------------------------------------------------------------------------------------

GLOSSARY = ROOT / "docs" / "glossary.md"
FENCE_RE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*\1[ \t]*$|\Z)", re.M | re.S)
NOT_PROSE_RE = re.compile(r"`[^`\n]+`|\$\$.*?\$\$|\$[^$\n]+\$|https?://\S+|\]\([^)]*\)|<[^>\n]+>|\[[A-Z]+\]", re.S)


@dataclass(frozen=True)
class Term:
    """One glossary row: the English forms, the one Chinese form, the forms not to use."""

    english: tuple[str, ...]
    chinese: str
    avoid: tuple[str, ...]

    @property
    def pattern(self) -> re.Pattern:
        alts = [re.escape(e).replace(r"\-", "[-\\s]?").replace(r"\ ", "[-\\s]") for e in self.english]
        return re.compile(rf"(?<![\w-])(?:{'|'.join(sorted(alts, key=len, reverse=True))})(?![\w-])", re.I)


def glossary(path: Path = GLOSSARY) -> list[Term]:
    """The rows of the glossary table (English | 中文 | 不用 | 说明)."""
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cols) < 3 or cols[0] in ("English", "") or set(cols[0]) <= set("-:"):
            continue
        split = lambda s: tuple(x.strip() for x in s.split(",") if x.strip())   # noqa: E731
        terms.append(Term(split(cols[0]), cols[1], split(cols[2])))
    if not terms:
        raise ValueError(f"{path}: no glossary table (| English | 中文 | 不用 | 说明 |)")
    return terms


def prose(markdown: str) -> str:
    """The running text of a markdown cell: no code, maths, links' targets, tags or `[CLS]`-style tokens."""
    return NOT_PROSE_RE.sub(" ", FENCE_RE.sub(" ", markdown))


def term_problems(english: str, translated: str, terms: list[Term]) -> list[str]:
    """Where ``translated`` departs from the glossary: a term the English uses whose Chinese form is
    missing, or a form the glossary says not to use."""
    en, zh = prose(english), prose(translated)
    forms = sorted({t.chinese for t in terms}, key=len, reverse=True)

    def outside(bad: str) -> str:
        # an avoided form may be part of a glossary form (段嵌入 in 片段嵌入): look for it outside those
        text = zh
        for form in forms:
            if bad in form and form != bad:
                text = text.replace(form, "□")
        return text

    out = []
    for t in terms:
        m = t.pattern.search(en)
        if m and t.chinese not in zh:
            out.append(f"the English says “{m.group(0)}”: the translation must say {t.chinese}")
        for bad in t.avoid:
            if bad in outside(bad):
                out.append(f"“{bad}” is not the glossary's term: use {t.chinese}")
    return out


# ------------------------------------------------------------------------------------------
# Numbers: a translation states the English cell's numbers, no fewer and no others
# ------------------------------------------------------------------------------------------

NUMBER_RE = re.compile(r"(?<![A-Za-z0-9_.,])(?P<num>[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?)(?P<unit>\s?[%×x])?(?![0-9])")


def numbers(markdown: str) -> tuple[set[str], set[str]]:
    """(every number in the prose, those that are measurements: decimals, percentages, multipliers)."""
    every, measured = set(), set()
    for m in NUMBER_RE.finditer(prose(markdown)):
        num = m["num"].replace(",", "")
        every.add(num)
        if "." in num or (m["unit"] and m["unit"].strip() in "%×"):
            measured.add(num)
    return every, measured


def number_problems(english: str, translated: str) -> list[str]:
    """Numbers the translation drops (decimals, percentages, multipliers) or adds (any number)."""
    en_all, en_measured = numbers(english)
    zh_all, _ = numbers(translated)
    out = [f"the English states {n}: the translation does not" for n in sorted(en_measured - zh_all)]
    out += [f"the translation states {n}, which the English cell does not (write counts the English spells out "
            f"in words as Chinese numerals)" for n in sorted(zh_all - en_all)]
    return out


def content_problems(english_path: Path, edition: Edition = ZH) -> list[str]:
    """Glossary and number departures in the translation of one notebook, as ``file:line: message``."""
    nb = nbformat.read(english_path, as_version=4)
    tr = load(english_path, edition)
    english = {h: text for _, h, text in _markdown_cells(nb)}
    terms = glossary()
    out = []
    for b in tr.blocks:
        if b.kind == "translation" and b.hash in english:
            found = term_problems(english[b.hash], b.text, terms) + number_problems(english[b.hash], b.text)
        elif b.kind == "addition":
            found = term_problems("", b.text, terms)
        else:
            continue
        out += [f"{tr.path.name}:{b.line}: {p}" for p in found]
    return out


# ------------------------------------------------------------------------------------------
# Translated documents (docs/teaching.zh-CN.md): each names the hash of the English text it translates
# ------------------------------------------------------------------------------------------

DOCS = ROOT / "docs"
DOC_MARK_RE = re.compile(r"<!-- translates (?P<source>[\w./-]+\.md) (?P<hash>[0-9a-f]{16}) -->")


def translated_documents(edition: Edition = ZH) -> list[Path]:
    """The translated documents of an edition: ``docs/*.zh-CN.md``."""
    return sorted(DOCS.glob(f"*.{edition.bcp47}.md"))


def document_mark(english: Path) -> str:
    """The line a translated document carries to say which English text it translates."""
    return f"<!-- translates {english.name} {cell_hash(english.read_text(encoding='utf-8'))} -->"


def document_problems(edition: Edition = ZH) -> list[str]:
    """Translated documents that do not name, by hash, the current text of the English one."""
    out = []
    for path in translated_documents(edition):
        m = DOC_MARK_RE.search(path.read_text(encoding="utf-8"))
        if not m:
            out.append(f"{path.name}: no `<!-- translates NAME.md HASH -->` line naming the English text it translates")
            continue
        english = path.parent / m["source"]
        if not english.is_file():
            out.append(f"{path.name}: translates {m['source']}, which does not exist")
        elif m["hash"] != cell_hash(english.read_text(encoding="utf-8")):
            out.append(f"{path.name}: {m['source']} changed since it was translated (git log -p docs/{m['source']} "
                       f"shows how); update the translation, then its first line to {document_mark(english)}")
    return out
