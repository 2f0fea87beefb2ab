"""Every number the prose states is one the committed outputs show; every stated run time is measured.

The contract (shared with everyone who edits prose; the spec is issue #14's CLAIMS_SPEC):

**Scanned documents.** Every markdown cell of ``notebooks/[0-9]*.ipynb``, ``README.md`` and every
page in ``docs/`` (``RESULTS.md``, the results page, and the developer notes): a test per document.

**What counts as a claim.** A number token of one of these kinds:

- a *decimal*: ``0.73``, ``−0.04``, ``+0.020``, ``1,275.5``, ``1.5e-07``, ``1e-4``, ``1½``
  (a leading sign, ``±``, ``≈`` or ``~`` is stripped: values are compared by magnitude);
- a *percentage*: ``94.4%``, ``10 %`` (integers too);
- a *time*: ``135 s``, ``0.82 ms``, ``3 minutes``, ``12 min``, ``2 h`` (integers too);
- a *multiplier*: ``30.7×``, ``1.4x``, ``8× smaller`` (integers too; ``2 × 768`` is arithmetic).

In a range (``2.0-2.3 tokens``, ``40-60%``, ``2-3×``) the lower end takes the upper end's unit,
so both ends are claims. A magnitude suffix (``22.7M``, ``0.4 M``, ``3.3 billion``) keeps the
token a decimal, backed either as written or scaled.

**Bare integers are not claims** (``512 tokens``, ``12 layers``, ``8,925 snippets``,
``seeds 0 1 2``): they are counts, sizes and settings that *define* the method, which the code
cells show, so demanding an output for each would only force noise prints. A rate, a share, a
duration or a ratio is a measurement, so it is a claim even when it is a whole number.

**What backs a claim.** A number in a stored output of a code cell (stream text, ``text/plain``,
``text/html`` with its tags removed, ``text/markdown``, an error's value; never images), of the
SAME notebook for a notebook, of ANY notebook or a committed run record (``runs/*.json``) for
README/RESULTS, that equals the claim at the claim's precision: ``|output − claim| ≤ half a unit of
the claim's last digit``. So ``0.73`` is backed by ``0.734``, ``94.4%`` by ``94.4`` or ``0.944``,
``1.5e-07`` by ``1.46e-07``, ``22.7M`` by ``22.7`` or ``22,713,216``, and a time by the same
number or by an output time in another unit (``8 minutes`` by ``482 s``). A less precise output
never backs a more precise claim (``0.7`` does not back ``0.73``).

**Exemptions**, each for a stated reason:

- *Run time*: the first time on the ``**Run time:**`` line (paragraph) of a notebook's first
  markdown cell: it is the quick-profile time, which ``test_stated_run_time_matches_the_recorded_
  execution`` holds to the notebook's execution timing metadata instead. Other numbers on that
  line (a full-profile or GPU time, say) are ordinary claims. Likewise, per-notebook run times
  in README or docs/ (``00 12 s, 01 12 s, ...``, or a table with a run-time column) are checked
  against that metadata, not against outputs.
- *Citations*: a number quoted from the literature is backed by its source, not by our outputs:
  exempt when the same source line carries ``(Author et al., YEAR)``, ``(Author, YEAR)`` or
  ``(Author and Author, YEAR)`` (``;``-separated lists and markdown links allowed; a citation
  that wraps over two source lines covers both).
- *Code*: inline code spans and fenced code blocks are code, not claims (do not put results in
  backticks to dodge this test). URLs, HTML tags and a heading's section number (``## 5.1``)
  are markup, not prose.
- *Method constants*: the explicit allow-list ``METHOD_CONSTANTS`` below, each entry a token, the
  words that must surround it, and a one-line reason (a learning rate, a tolerance, BERT's
  masking rates, a confidence level, a software version...).

**Full-profile and GPU figures** are backed by the GPU run record alone, ``results/gpu-full/``
(``make test-gpu record-full``, see ``bertlab/record.py``): its executed notebooks and its
``run.json`` (the machine, every wall time). A claim in a sentence that names a GPU (``GPU``,
``CUDA``, ``H200``) or the full profile (``full profile``, ``BERTLAB_PROFILE=full``) must be found
there, not in the quick-profile outputs; a notebook's such claims in its own record notebook or in
``run.json``. Without a record (none is committed until a GPU run lands), write "not measured yet"
without numbers.

**Run times** (``test_stated_run_time_matches_the_recorded_execution``): each notebook's first
markdown cell has a line starting ``**Run time:**`` whose first time (``about 8 minutes``,
``about 40 seconds``, ``about 1½ minutes``, ``under a minute``: the figure is what is compared,
"under"/"about" alike) must lie within a factor 1.5 of the committed execution, from the first
code cell's ``iopub.execute_input`` to the last code cell's ``shell.execute_reply``. A run
shorter than 30 s is compared against ``max(measured, 10 s)`` on the upper side (so "about 15
seconds" passes for a 9 s run). Missing timing metadata fails: re-execute with ``make execute``.
Per-notebook run times in README and docs/, where listed, are held to the same rule.

Run: ``.venv/bin/python -m pytest -q tests/test_claims.py`` (static; reads the JSON, a few seconds).
"""

from __future__ import annotations

import bisect
import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bertlab.site import measured_seconds  # the run time the site's index shows too

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
README = ROOT / "README.md"
README_ZH = ROOT / "README.zh-CN.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
RUN_RECORDS = sorted((ROOT / "runs").glob("*.json"))
GPU_RECORD = ROOT / "results" / "gpu-full"  # make test-gpu record-full (bertlab/record.py)
GPU_SENTENCE_RE = re.compile(r"\b(GPUs?|CUDA|H200|full[- ]profile|BERTLAB_PROFILE=full)\b", re.I)

# --------------------------------------------------------------------------------------------
# Method constants: numbers that define the method, not measurements. An entry exempts a claim
# whose token (as written, sign stripped) fully matches ``token`` and whose surroundings match
# ``before`` (searched in the 60 characters before it) and ``after`` (the 40 after it); either
# may be None. Keep entries narrow: a measured number must never match one.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constant:
    token: str
    before: str | None
    after: str | None
    reason: str


METHOD_CONSTANTS: tuple[Constant, ...] = (
    Constant(r"9\s?minutes", r"budget\s+of\s+$", r"^\s+on\s+one\s+H200",
             "the GPU check's time budget (make test-gpu and make record-full together), a target, not a measurement"),
    Constant(r"9\s?分钟", r"按预算应在\s*$", r"^\s*内完成",
             "the GPU check's time budget, as README.zh-CN states it: a target, not a measurement"),
    Constant(r"15\s?%", None,
             r"^\s*(?:of\s+(?:the\s+)?(?:real\s+|input\s+)?tokens|masked\s+(?:positions|tokens))",
             "BERT's masking rate (15% of tokens), a setting of the objective"),
    Constant(r"15\s?%", r"Masking:\s*$", None,
             "BERT's masking rate (15% of tokens), a setting of the objective"),
    Constant(r"80\s?%", None, r"^(?:[^.]{0,50}?10\s?%\s*(?:a\s+)?random|\W{0,3}become\b)",
             "BERT's masking split 80/10/10: the share of picked tokens replaced by [MASK]"),
    Constant(r"10\s?%", None, r"^\W{0,3}(?:a\s+)?(?:random|unchanged|stay)",
             "BERT's masking split 80/10/10: random / unchanged shares"),
    Constant(r"10\s?%", r"(?:warm-?up\w*(?:\s+is)?|warm-up\s*\(?)\W{0,3}$", None,
             "the warm-up length as a share of the steps, a training setting"),
    Constant(r"[1-9]e-[0-9]", r"(?:\blr\b|learning\s+rate\b)[^.;]{0,40}$", None,
             "a learning rate, a training setting"),
    Constant(r"[1-9]e-[0-9]", None, r"^\W{0,3}(?:is\s+)?(?:higher|lower)\s+than",
             "a learning rate compared with another, a training setting"),
    Constant(r"[1-9]e-[0-9]", r"(?:usual|BERT-base's usual)\s*[0-9e\-−]*$", None,
             "the range of BERT-base learning rates (a setting quoted from common practice)"),
    Constant(r"[1-9]e-[0-9]+",
             r"(?:toleran\w*|atol|rtol|within|<|≤|inside\s+the|(?:\(|verified|exactly|layer"
             r"|reproduc\w*|match\w*|agree\w*|equal\w*)\W*(?:\w+\W+){0,2}to)\s*:?\s*$", None,
             "a tolerance an assert cell uses, a setting of the check, not a measurement"),
    Constant(r"[1-9]e-[0-9]+", None, r"^\s*(?:absolute\s+)?toleran",
             "a tolerance an assert cell uses, a setting of the check, not a measurement"),
    Constant(r"9[059]\s?%", None, r"^\s*(?:paired\s+)?(?:CI|confidence|intervals?|Wilson|bootstrap)",
             "a confidence level, chosen before measuring"),
    Constant(r"0\.1", r"dropout\s*(?:of|=|:|is)?\s*$", None, "a dropout rate, a model setting"),
    Constant(r"[0-9.]+", r"temperature\s*(?:T\s*)?=?\s*$", None, "a distillation temperature, a setting"),
    Constant(r"0\.[0-9]+", r"(?:α|alpha)\s*=\s*$", None, "the distillation loss weight, a setting"),
    Constant(r"[0-9]+\.[0-9]+", r"(?:sections?|§)\s*$", None, "a section number, not a measurement"),
    Constant(r"[0-9]+\.[0-9]+",
             r"(?:Python|python|torch|PyTorch|transformers|datasets|tokenizers|accelerate|CUDA"
             r"|numpy|onnx\w*|captum|version)\s*(?:==|=)?\s*$", None,
             "a software version, not a measurement"),
)

# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------

FRACTIONS = {"½": 0.5, "¼": 0.25, "¾": 0.75}
TIME_UNITS = {  # unit spelling -> seconds
    "ns": 1e-9, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "day": 86400.0, "days": 86400.0,
    "毫秒": 1e-3, "秒": 1.0, "分钟": 60.0, "小时": 3600.0,   # the Chinese edition's units (README.zh-CN.md, docs/*.zh-CN.md)
}
SCALES = {"k": 1e3, "K": 1e3, "thousand": 1e3, "M": 1e6, "million": 1e6,
          "B": 1e9, "bn": 1e9, "billion": 1e9, "G": 1e9, "trillion": 1e12}
COMPARATIVES = r"(?:faster|slower|smaller|larger|bigger|more|less|fewer|cheaper|higher|lower|longer|shorter)"
_TIME = "|".join(sorted(map(re.escape, TIME_UNITS), key=len, reverse=True))
_SCALE = "|".join(sorted(map(re.escape, SCALES), key=len, reverse=True))
_NUMBER = r"""
    (?P<num>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+\.[0-9]+|[0-9]+)
    (?P<frac>[½¼¾])?
    (?:[eE](?P<exp>[+\-−]?[0-9]+))?
"""
_SUFFIX = rf"""
    (?P<suffix>
        (?P<pct>\s?%)
      | (?P<time>\s?(?:{_TIME}))(?![A-Za-z0-9_])
      | (?P<mult>[×x](?![A-Za-z0-9_])|\s?×(?=\s+{COMPARATIVES}\b))
      | (?P<scale>\s?(?:{_SCALE}))(?![A-Za-z0-9_])
    )?
"""
CLAIM_RE = re.compile(
    r"(?<![A-Za-z0-9_.,/\\])" + _NUMBER + r"(?![0-9]|[.,][0-9])"
    + r"(?P<range>[ ]?[-–][ ]?" + _NUMBER.replace("?P<", "?P<r_") + r"(?![0-9]|[.,][0-9]))?"
    + _SUFFIX, re.X)

OUT_NUM_RE = re.compile(
    r"(?<![0-9.])(?P<num>[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?)(?:[eE](?P<exp>[+\-−]?[0-9]+))?(?![0-9])"
    rf"(?P<pct>\s?%)?(?:\s?(?P<time>{_TIME})(?![A-Za-z0-9_]))?")

NAME = r"[A-Z][A-Za-z'’\-]+"
AUTHOR = rf"(?:(?:van|von|de|der|den|di|du|la|le)\s+)*{NAME}"
ENTRY = rf"{AUTHOR}(?:\s+et\s+al\.?|\s+(?:and|&)\s+{AUTHOR})?\s*,\s*(?:19|20)[0-9]{{2}}[a-z]?"
ITEM = rf"(?:{ENTRY}|\[\s*{ENTRY}\s*\]\([^)\s]*\))"
CITATION_RE = re.compile(
    rf"\(\s*{ITEM}(?:\s*;\s*{ITEM})*\s*\)|\[\s*\(\s*{ENTRY}(?:\s*;\s*{ENTRY})*\s*\)\s*\]\([^)\s]*\)")

FENCE_RE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*\1[ \t]*$|\Z)", re.M | re.S)
INLINE_CODE_RE = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
MARKUP_RE = re.compile(r"<!--.*?-->|<[A-Za-z/][^>\n]*>|\]\([^)\s]*\)|https?://[^\s)>\]]+"
                       r"|^[ \t]*#{1,6}[ \t]+[0-9][0-9.]*", re.S | re.M)
RUN_TIME_LINE_RE = re.compile(r"^\*\*Run time:\*\*.*?(?=\n[ \t]*\n|\Z)", re.M | re.S)


def _blank(text: str, pattern: re.Pattern) -> str:
    """``text`` with every match of ``pattern`` replaced by spaces (newlines kept): offsets stay."""
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)


def _value(num: str, frac: str | None, exp: str | None) -> tuple[float, float]:
    """The magnitude of a number token and half a unit of its last digit."""
    mantissa = num.replace(",", "")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    value, half = float(mantissa), 0.5 * 10.0 ** -decimals
    if frac:
        value, half = value + FRACTIONS[frac], 0.125 if frac in "¼¾" else 0.25
    if exp:
        scale = 10.0 ** int(exp.replace("−", "-"))
        value, half = value * scale, half * scale
    return value, half


@dataclass
class Claim:
    where: str          # "cell 12" or "line 40"
    token: str          # as written
    kind: str           # decimal, percent, time, multiplier
    value: float
    half: float         # half a unit of the last digit
    seconds: float | None = None   # for a time: the value in seconds (half scaled alike)
    scale: float | None = None     # for 22.7M: 1e6
    context: str = ""
    start: int = 0      # offset in the document text (cell source or file)

    def __str__(self):
        return f"{self.where}: {self.token!r} ({self.kind}) in “…{self.context}…”"


def _context(text: str, start: int, end: int, width: int = 30) -> str:
    return " ".join(text[max(0, start - width):end + width].split())


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def run_time_span(text: str) -> tuple[int, int, float] | None:
    """The first time stated on the ``**Run time:**`` line of ``text``: (start, end, seconds)."""
    m = RUN_TIME_LINE_RE.search(text)
    if not m:
        return None
    words = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
             "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
             "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "forty-five": 45,
             "fifty": 50, "sixty": 60, "ninety": 90}
    quantity = (r"(?P<num>[0-9]+(?:\.[0-9]+)?)(?P<frac>[½¼¾])?|(?P<lone>[½¼¾])"
                r"|(?P<half>half\s+an?)|(?P<word>" + "|".join(sorted(words, key=len, reverse=True)) + r")")
    units = r"(?P<unit>seconds?|secs?|s|minutes?|mins?|min|hours?|hrs?|h)"
    t = re.compile(rf"(?<![A-Za-z0-9_])(?:{quantity})[\s-]?{units}(?![A-Za-z0-9_])", re.I)
    hit = t.search(text, m.start() + len("**Run time:**"), m.end())
    if not hit:
        return None
    if hit["num"]:
        n = float(hit["num"]) + FRACTIONS.get(hit["frac"] or "", 0.0)
    elif hit["lone"]:
        n = FRACTIONS[hit["lone"]]
    elif hit["half"]:
        n = 0.5
    else:
        n = words[hit["word"].lower()]
    unit = hit["unit"].lower()
    unit = {"secs": "s", "sec": "s", "mins": "min", "hrs": "h", "hr": "h"}.get(unit, unit)
    return hit.start(), hit.end(), n * TIME_UNITS[unit]


def claims_in(text: str, *, where=None, exempt_spans=()) -> list[Claim]:
    """Every claim in markdown ``text`` that no exemption covers (see the module docstring).

    ``where(offset)`` labels a claim (default: its line in ``text``); claims starting inside one
    of ``exempt_spans`` (offsets) are left out.
    """
    where = where or (lambda offset: f"line {_line_of(text, offset)}")
    prose = _blank(_blank(text, FENCE_RE), INLINE_CODE_RE)
    cited_lines = set()
    for m in CITATION_RE.finditer(prose):
        cited_lines.update(range(_line_of(prose, m.start()), _line_of(prose, m.end()) + 1))
    prose = _blank(prose, MARKUP_RE)
    out = []
    for m in CLAIM_RE.finditer(prose):
        ends = [("", m.start(), m.group("num"), m.group("frac"), m.group("exp"))]
        if m.group("range"):
            r = m.start("range") + len(m.group("range")) - len(m.group("range").lstrip(" -–"))
            ends.append(("r", r, m.group("r_num"), m.group("r_frac"), m.group("r_exp")))
        suffix = (m.group("suffix") or "").strip()
        unit_kind = ("percent" if m.group("pct") else "time" if m.group("time")
                     else "multiplier" if m.group("mult") else None)
        for prefix, start, num, frac, exp in ends:
            is_decimal = bool("." in num or frac or exp)
            kind = unit_kind or ("decimal" if is_decimal else None)
            if kind is None:
                continue  # a bare integer (or one with a magnitude suffix): a count, not a claim
            if prefix == "r" or not m.group("range"):
                token_end, token = m.end(), prose[start:m.end()].strip()
            else:
                token_end = m.start("range")
                token = prose[start:token_end].strip() + (suffix if unit_kind else "")
            if any(a <= start < b for a, b in exempt_spans):
                continue
            if _line_of(prose, start) in cited_lines:
                continue
            if _method_constant(prose, start, token_end, token):
                continue
            value, half = _value(num, frac, exp)
            claim = Claim(where(start), token, kind, value, half,
                          context=_context(text, start, token_end), start=start)
            if kind == "time":
                s = TIME_UNITS[m.group("time").strip()]
                claim.seconds = value * s
            if m.group("scale") and is_decimal:
                claim.scale = SCALES[m.group("scale").strip()]
            out.append(claim)
    return out


def _method_constant(prose: str, start: int, end: int, token: str) -> Constant | None:
    bare = token.lstrip("+-−±≈~ ")
    before = re.sub(r"\s+", " ", prose[max(0, start - 60):start])
    after = re.sub(r"\s+", " ", prose[end:end + 40])
    for c in METHOD_CONSTANTS:
        if not re.fullmatch(c.token, bare):
            continue
        if c.before and not re.search(c.before, before, re.I):
            continue
        if c.after and not re.search(c.after, after, re.I):
            continue
        return c
    return None


# --------------------------------------------------------------------------------------------
# Backing: the numbers stored outputs show
# --------------------------------------------------------------------------------------------

ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TAG_RE = re.compile(r"<style.*?</style>|<script.*?</script>|<[^>]+>", re.S | re.I)


class Backing:
    """The numbers (magnitudes) of some stored outputs, and their times in seconds."""

    def __init__(self):
        self._values: list[float] = []
        self._seconds: list[float] = []
        self._sorted = True

    def add_text(self, text: str):
        text = ANSI_RE.sub("", text)
        for m in OUT_NUM_RE.finditer(text):
            num = m.group("num")
            pieces = [num] + (num.split(",") if "," in num else [])
            for piece in pieces:
                v = float(piece.replace(",", ""))
                if m.group("exp"):
                    v *= 10.0 ** int(m.group("exp").replace("−", "-"))
                self._values.append(v)
                if m.group("pct"):
                    self._values.append(v / 100)
                if m.group("time") and piece is num:
                    self._seconds.append(v * TIME_UNITS[m.group("time")])
        self._sorted = False

    def add_json(self, obj):
        if isinstance(obj, bool):
            return
        if isinstance(obj, (int, float)):
            self._values.append(abs(float(obj)))
            self._sorted = False
        elif isinstance(obj, str):
            self.add_text(obj)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                self.add_json(v)
        elif isinstance(obj, list):
            for v in obj:
                self.add_json(v)

    def add_notebook(self, nb: dict):
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            for o in cell.get("outputs", []):
                if o["output_type"] == "stream":
                    self.add_text(_joined(o.get("text", "")))
                elif o["output_type"] in ("execute_result", "display_data"):
                    data = o.get("data", {})
                    for mime in ("text/plain", "text/markdown"):
                        if mime in data:
                            self.add_text(_joined(data[mime]))
                    if "text/html" in data:
                        self.add_text(TAG_RE.sub(" ", _joined(data["text/html"])))
                elif o["output_type"] == "error":
                    self.add_text(f"{o.get('ename', '')}: {o.get('evalue', '')}")

    @staticmethod
    def _near(values: list[float], target: float, half: float) -> bool:
        eps = 1e-9 * max(abs(target), half) + 1e-300
        i = bisect.bisect_left(values, target - half - eps)
        return i < len(values) and values[i] <= target + half + eps

    def backs(self, claim: Claim) -> bool:
        if not self._sorted:
            self._values.sort()
            self._seconds.sort()
            self._sorted = True
        candidates = [(claim.value, claim.half)]
        if claim.kind == "percent":
            candidates.append((claim.value / 100, claim.half / 100))
        if claim.scale:
            candidates.append((claim.value * claim.scale, claim.half * claim.scale))
        if any(self._near(self._values, v, h) for v, h in candidates):
            return True
        if claim.seconds is not None:
            per = claim.seconds / claim.value if claim.value else 1.0
            return self._near(self._seconds, claim.seconds, claim.half * per)
        return False


def _joined(source) -> str:
    return "".join(source) if isinstance(source, list) else source


# --------------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------------


def notebook_claims(nb: dict) -> list[Claim]:
    """Every non-exempt claim in ``nb``'s markdown cells, labelled with the cell index."""
    out = []
    first_markdown = next((i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"), None)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = _joined(cell["source"])
        spans = []
        if i == first_markdown:
            rt = run_time_span(text)
            if rt:
                spans.append(rt[:2])
        out += claims_in(text, where=lambda offset, i=i: f"cell {i}", exempt_spans=spans)
    return out


def sentence_of(text: str, start: int) -> str:
    """The sentence around offset ``start`` of ``text`` (bounded by a full stop, a blank line, a list item,
    a heading or a table cell)."""
    bounds = re.compile(r"(?<=[.!?])\s+(?=[A-Z*(`\"“-])|(?<=[。！？])|\n\s*\n|\n\s*(?:[-*+]|\d+\.)\s+|\n#|\|")
    left = max((m.end() for m in bounds.finditer(text, 0, start)), default=0)
    right = next((m.start() for m in bounds.finditer(text, start)), len(text))
    return text[left:right]


def is_gpu_claim(text: str, claim: Claim) -> bool:
    """True when ``claim`` stands in a sentence about a GPU or the full profile (backed by the GPU record only)."""
    return bool(GPU_SENTENCE_RE.search(sentence_of(text, claim.start)))


def gpu_record(folder: Path = GPU_RECORD, stem: str | None = None) -> Backing:
    """The GPU run record's numbers: its ``run.json`` and its notebooks (only ``stem``'s, if given)."""
    backing = Backing()
    if (folder / "run.json").is_file():
        backing.add_json(json.loads((folder / "run.json").read_text()))
    for path in sorted(folder.glob("[0-9]*.ipynb")):
        if stem is None or path.stem == stem:
            backing.add_notebook(_load(path))
    return backing


def unbacked_in_notebook(nb: dict, record: Backing | None = None) -> list[Claim]:
    """The claims of ``nb``'s markdown cells that none of its own stored outputs backs (GPU claims: ``record``)."""
    backing, record = Backing(), record or Backing()
    backing.add_notebook(nb)
    out = []
    for claim in notebook_claims(nb):
        text = _joined(nb["cells"][int(claim.where.split()[-1])]["source"])
        if not (record if is_gpu_claim(text, claim) else backing).backs(claim):
            out.append(claim)
    return out


def unbacked_in_markdown(text: str, backing: Backing, exempt_spans=(), record: Backing | None = None) -> list[Claim]:
    """The claims of a markdown file (README, RESULTS) that ``backing`` does not back (GPU claims: ``record``)."""
    record = record or Backing()
    return [c for c in claims_in(text, exempt_spans=exempt_spans)
            if not (record if is_gpu_claim(text, c) else backing).backs(c)]


def all_outputs() -> Backing:
    backing = Backing()
    for path in NOTEBOOKS:
        backing.add_notebook(_load(path))
    for path in RUN_RECORDS:
        backing.add_json(json.loads(path.read_text()))
    return backing


_CACHE: dict[Path, dict] = {}


def _load(path: Path) -> dict:
    if path not in _CACHE:
        _CACHE[path] = json.loads(path.read_text())
    return _CACHE[path]


def _report(name: str, unbacked: list[Claim], backing_what: str) -> str:
    lines = [f"{name}: {len(unbacked)} claim(s) that {backing_what} shows at the claim's "
             f"precision (back each with a printed output, cite its source on the same line as "
             f"(Author et al., YEAR), or rephrase without the number; rules: tests/test_claims.py):"]
    lines += [f"  {c}" for c in unbacked]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Run times
# --------------------------------------------------------------------------------------------

FACTOR = 1.5


def time_agrees(stated: float, measured: float) -> bool:
    upper = max(measured, 10.0) if measured < 30 else measured
    return measured / FACTOR <= stated <= upper * FACTOR


def readme_notebook_times(text: str) -> list[tuple[str, float, tuple[int, int], str]]:
    """Per-notebook run times README states: (notebook id, seconds, span, context).

    Two forms are read: a markdown table with a column headed "run time"/"time" whose row names
    a notebook (``00``, ``04b``, ``notebooks/04b_....ipynb``), and an inline list of
    ``NN <time>`` pairs (``00 12 s, 01 12 s, ...``). Ids that are not notebooks are ignored.
    """
    ids = {p.name.split("_")[0] for p in NOTEBOOKS}
    unit = r"(?:seconds?|secs?|s|minutes?|mins?|min|hours?|h|秒|分钟|小时)"
    out = []
    # inline lists
    pair = re.compile(rf"(?<![A-Za-z0-9_.,/-])(?P<id>[0-9]{{2}}[a-z]?)\s+(?:\(\w+\)\s+)?"
                      rf"(?P<t>(?P<n>[0-9][0-9,]*(?:\.[0-9]+)?)\s?(?P<u>{unit}))(?![A-Za-z0-9_])")
    for m in pair.finditer(text):
        if m["id"] in ids:
            sec = float(m["n"].replace(",", "")) * TIME_UNITS[_unit(m["u"])]
            out.append((m["id"], sec, (m.start("t"), m.end("t")), _context(text, m.start(), m.end())))
    # tables with a time column
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    i = 0
    while i < len(lines) - 1:
        if lines[i].lstrip().startswith("|") and re.match(r"^\s*\|?\s*:?-{3,}", lines[i + 1]):
            header = [h.strip().lower() for h in lines[i].strip().strip("|").split("|")]
            col = next((k for k, h in enumerate(header) if re.search(r"\brun ?time\b|^time$|\btime \(|运行时间", h)), None)
            j = i + 2
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                cells = lines[j].strip().strip("|").split("|")
                if col is not None and col < len(cells):
                    name = re.search(r"(?:notebooks/)?(?<![0-9])([0-9]{2}[a-z]?)(?:_|\b)", cells[0])
                    t = re.search(rf"(?P<n>[0-9][0-9,]*(?:\.[0-9]+)?)\s?(?P<u>{unit})(?![A-Za-z])", cells[col])
                    if name and name.group(1) in ids and t:
                        start = offsets[j] + len(lines[j]) - len(lines[j].lstrip()) + 1 \
                            + sum(len(c) + 1 for c in cells[:col]) + t.start()
                        sec = float(t["n"].replace(",", "")) * TIME_UNITS[_unit(t["u"])]
                        out.append((name.group(1), sec, (start, start + len(t.group())),
                                    " ".join(lines[j].split())[:100]))
                j += 1
            i = j
        else:
            i += 1
    return out


def _unit(u: str) -> str:
    u = u.lower()
    return {"secs": "s", "sec": "s", "mins": "min", "hrs": "h", "hr": "h"}.get(u, u)


# --------------------------------------------------------------------------------------------
# The tests on the committed documents
# --------------------------------------------------------------------------------------------

DOCUMENTS = [*NOTEBOOKS, README, README_ZH, *DOCS]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_stated_number_is_backed_by_a_stored_output(path):
    name = str(path.relative_to(ROOT))
    if path.suffix == ".ipynb":
        unbacked = unbacked_in_notebook(_load(path), gpu_record(stem=path.stem))
        assert not unbacked, _report(name, unbacked, "no stored output of this notebook (for a GPU or "
                                     "full-profile figure: of its GPU record, results/gpu-full/)")
    else:
        text = path.read_text()
        spans = [span for _, _, span, _ in readme_notebook_times(text)]
        unbacked = unbacked_in_markdown(text, all_outputs(), spans, gpu_record())
        assert not unbacked, _report(name, unbacked, "no notebook's stored output nor run record (for a GPU "
                                     "or full-profile figure: the GPU record, results/gpu-full/)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stated_run_time_matches_the_recorded_execution(path):
    nb = _load(path)
    first = next((c for c in nb["cells"] if c["cell_type"] == "markdown"), {"source": ""})
    stated = run_time_span(_joined(first["source"]))
    assert stated, (f"{path.name}: the first markdown cell needs a line starting `**Run time:**` that "
                    f"states the quick-profile time with a number and a unit (about 40 seconds, about "
                    f"8 minutes)")
    try:
        measured, missing = measured_seconds(nb), None
    except LookupError as e:
        measured, missing = None, str(e)
    assert missing is None, f"{path.name}: {missing}"
    source = _joined(first["source"])
    line = " ".join(source[source.index("**Run time:**"):stated[1]].split())
    assert time_agrees(stated[2], measured), (
        f"{path.name}: “{line}…” states {stated[2]:.0f} s but the committed execution "
        f"took {measured:.1f} s (first code cell's iopub.execute_input to last's shell.execute_reply); "
        f"allowed: {measured / FACTOR:.0f}-{(max(measured, 10) if measured < 30 else measured) * FACTOR:.0f} s")


@pytest.mark.parametrize("path", [README, README_ZH, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_per_notebook_run_times_in_readme_and_docs_match_the_recorded_executions(path):
    text = path.read_text()
    stated = readme_notebook_times(text)
    if not stated:
        pytest.skip(f"{path.name} lists no per-notebook run times (no `NN <time>` list, no table with a "
                    "time column naming notebooks): nothing to check")
    by_id = {p.name.split("_")[0]: p for p in NOTEBOOKS}
    wrong = []
    for nid, seconds, span, context in stated:
        try:
            measured = measured_seconds(_load(by_id[nid]))
        except LookupError as e:
            wrong.append(f"  line {_line_of(text, span[0])}: notebook {nid}: {e}")
            continue
        if not time_agrees(seconds, measured):
            wrong.append(f"  line {_line_of(text, span[0])}: notebook {nid} stated {text[span[0]:span[1]]!r} "
                         f"({seconds:.0f} s), recorded execution {measured:.1f} s, in “…{context}…”")
    assert not wrong, (f"{path.name}: per-notebook run times that the notebooks' execution timing metadata "
                       "does not confirm within a factor 1.5:\n" + "\n".join(wrong))


# --------------------------------------------------------------------------------------------
# The checker bites: self-tests on in-memory notebooks
# --------------------------------------------------------------------------------------------


def _markdown(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(output_text, timing=None):
    cell = {"cell_type": "code", "metadata": {}, "source": "print(...)", "execution_count": 1,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": output_text}]}
    if timing:
        cell["metadata"]["execution"] = timing
    return cell


def _tokens(claims):
    return sorted(c.token for c in claims)


def test_checker_reports_a_number_no_output_contains_in_a_real_notebook():
    path = next(p for p in NOTEBOOKS if p.name.startswith("04_"))
    nb = copy.deepcopy(_load(path))
    before = {(c.where, c.token) for c in unbacked_in_notebook(nb)}
    nb["cells"].append(_markdown("Fine-tuned accuracy 0.987654, and the whole loop takes 123.4 s."))
    new = [c for c in unbacked_in_notebook(nb) if (c.where, c.token) not in before]
    assert _tokens(new) == ["0.987654", "123.4 s"]
    index = len(nb["cells"]) - 1
    assert all(c.where == f"cell {index}" for c in new)
    assert "Fine-tuned accuracy 0.987654" in str(new[0]) or "Fine-tuned accuracy 0.987654" in str(new[1])


def test_checker_passes_a_number_present_in_an_output_of_the_real_notebook():
    path = next(p for p in NOTEBOOKS if p.name.startswith("04_"))
    nb = copy.deepcopy(_load(path))
    backing = Backing()
    backing.add_notebook(nb)
    shown = next(m.group() for c in nb["cells"] if c["cell_type"] == "code"
                 for o in c["outputs"] if o["output_type"] == "stream"
                 for m in [re.search(r"(?<![0-9.])0\.[0-9]{3}(?![0-9])", _joined(o["text"]))] if m)
    before = len(unbacked_in_notebook(nb))
    nb["cells"].append(_markdown(f"It printed {shown} above, and {float(shown):.2f} rounded."))
    assert len(unbacked_in_notebook(nb)) == before


def test_checker_rules_on_an_in_memory_notebook():
    nb = {"cells": [
        _code("accuracy 0.8123  share 0.944  gap -0.0437  n 1,275.53  err 1.46e-07  ratio 30.72\n"
              "train 482.0 s   shift 0.25%   examples/s 59.2  params 22,713,216\n"),
        _markdown("Accuracy 0.81, i.e. 81.2% (or 94.4 %), a gap of −0.044 (≈ 0.04, ~0.044, ± 0.04),\n"
                  "1,275.5 examples, error 1.5e-07 (1.5e−07), 30.7× faster, 31x, about 8 minutes\n"
                  "(482 s), a 0.2 % shift, 59.2 examples/s, 22.7M parameters."),
    ]}
    assert unbacked_in_notebook(nb) == []
    nb["cells"].append(_markdown("But 0.82, 81.3%, 0.7%, 1,276.5, 1.6e-07, 31.7×, 9 minutes and 23.7M are not."))
    assert _tokens(unbacked_in_notebook(nb)) == sorted(
        ["0.82", "81.3%", "0.7%", "1,276.5", "1.6e-07", "31.7×", "9 minutes", "23.7M"])


def test_precision_is_the_claims_own():
    nb = {"cells": [_code("0.7 and 12.35\n"), _markdown("0.73 is not backed by 0.7; 12.3 and 12.4 are by 12.35.")]}
    assert _tokens(unbacked_in_notebook(nb)) == ["0.73"]


def test_bare_integers_are_not_claims_but_integer_rates_times_and_ratios_are():
    claims = claims_in("512 tokens, 12 layers, 8,925 snippets, seeds 0 1 2, 2 × 768 × 3072, "
                       "BERT-base (110M), fp32, MiniLM-L6, version 2.13.0; but 58% and 12 s and 3× are.")
    assert _tokens(claims) == ["12 s", "3×", "58%"]


def test_markup_is_not_prose():
    assert claims_in("## 5.1 Masking\n\nSee section 5.2; [the paper](https://arxiv.org/abs/1810.04805), "
                     "<img src='fig.png' width='50%'>, http://127.0.0.1:8888.") == []


def test_ranges_make_both_ends_claims():
    assert _tokens(claims_in("2.0-2.3 tokens, 40-60% cheaper, ≈ 2-3× faster, 10–50 %")) == \
        sorted(["2.0", "2.3", "40%", "60%", "2×", "3×", "10%", "50 %"])


def test_exemptions_code_citations_run_time_and_method_constants():
    text = ("# 09\n\n**Run time:** about 8 minutes in the quick profile; the full profile takes 15 minutes.\n\n"
            "Inline `acc = 0.987` and\n```python\nlr = 0.123\n```\n"
            "BERT-base reached 84.6% on it (Devlin et al., 2019); "
            "3.3 billion words ([Liu et al., 2019](https://x.org/1907.11692)).\n"
            "Distillation (Hinton et\nal., 2015) used 0.5 there.\n"
            "Tolerance: 1e-5; lr 1e-4; warm-up is 10% of the steps; paired 95% CI; torch 2.13 on Python 3.11.\n"
            "MLM masks 15% of real tokens (80% `[MASK]`, 10% random, 10% unchanged).\n"
            "But 0.555 is a claim, and so are a max error around 1e-6 and a loss that fell to 2e-3.\n")
    nb = {"cells": [_markdown(text), _code("nothing\n")]}
    assert _tokens(unbacked_in_notebook(nb)) == ["0.555", "15 minutes", "1e-6", "2e-3"]
    # without the citation the quoted numbers are claims
    uncited = (text.replace("(Devlin et al., 2019)", "").replace("(Hinton et\nal., 2015)", "")
               .replace("([Liu et al., 2019](https://x.org/1907.11692))", ""))
    nb = {"cells": [_markdown(uncited), _code("nothing\n")]}
    assert _tokens(unbacked_in_notebook(nb)) == sorted(
        ["0.555", "15 minutes", "1e-6", "2e-3", "84.6%", "3.3 billion", "0.5"])


def test_citation_forms():
    for cite in ("(Devlin et al., 2019)", "(Sanh, 2019)", "(Clark and Manning, 2019)",
                 "(Liu et al., 2019; Lan et al., 2020)", "([Wang et al., 2020](https://arxiv.org/abs/2002.10957))",
                 "[(Hinton et al., 2015)](https://arxiv.org/abs/1503.02531)"):
        assert claims_in(f"A quoted 10× more data and 0.844 {cite}.") == [], cite
    assert len(claims_in("A quoted 0.844 (2019).")) == 1


def test_a_claim_in_a_markdown_document_is_backed_by_any_notebook_or_run_record():
    backing = Backing()
    backing.add_notebook({"cells": [_code("accuracy 0.808\n")]})
    backing.add_json({"longer run": {"accuracy": 0.839, "seconds": 111.2}})
    assert _tokens(unbacked_in_markdown("accuracy 0.808; longer, 0.839 in 111 s, not 0.9", backing)) == ["0.9"]


def test_a_gpu_or_full_profile_figure_is_backed_by_the_gpu_record_alone(tmp_path):
    quick = Backing()
    quick.add_notebook({"cells": [_code("accuracy 0.808 in 50.1 s\n")]})
    text = "The quick run reaches 0.808. On an H200 the full profile reaches 0.808 in 50 s.\n\nIt took 50 s."
    assert _tokens(unbacked_in_markdown(text, quick)) == ["0.808", "50 s"]  # the H200 sentence's, not the others
    assert _tokens(unbacked_in_markdown(text, quick, record=gpu_record(tmp_path))) == ["0.808", "50 s"]
    (tmp_path / "run.json").write_text(json.dumps({"notebooks": {"04_finetuning": {"seconds": 50.3}}}))
    (tmp_path / "04_finetuning.ipynb").write_text(json.dumps({"cells": [_code("accuracy 0.808\n")]}))
    assert unbacked_in_markdown(text, quick, record=gpu_record(tmp_path)) == []
    bullets = "- Synchronise on GPUs when timing\n- int8 here: 0.808 of the accuracy"  # a list item is its own sentence
    assert unbacked_in_markdown(bullets, quick) == []
    nb = {"cells": [_markdown("With BERTLAB_PROFILE=full it reaches 0.912; here 0.812."), _code("0.912 0.812\n")]}
    assert _tokens(unbacked_in_notebook(nb)) == ["0.812", "0.912"]  # one sentence: both are full-profile claims
    record = Backing()
    record.add_text("accuracy 0.912 and 0.812")
    assert unbacked_in_notebook(nb, record) == []


def test_failure_message_names_cell_and_context():
    nb = {"cells": [_code("x\n"),
                    _markdown("The model reached an accuracy of 0.987654 on the test split, quick profile.")]}
    (claim,) = unbacked_in_notebook(nb)
    message = _report("nb.ipynb", [claim], "no stored output of this notebook")
    assert "cell 1" in message and "0.987654" in message and "an accuracy of 0.987654 on the test" in message


def test_run_time_phrases():
    def seconds(phrase):
        return run_time_span(f"**Run time:** {phrase} in the quick profile; 15 minutes on a GPU.")[2]
    assert seconds("about 8 minutes") == 480
    assert seconds("about 40 seconds") == 40
    assert seconds("about 40 s") == 40
    assert seconds("about 1½ minutes") == 90
    assert seconds("about 1.5 min") == 90
    assert seconds("under a minute") == 60
    assert seconds("about a minute") == 60
    assert seconds("half an hour") == 1800
    assert run_time_span("**Run time:** quick.\n\nLater: 3 minutes.") is None


def test_run_time_agreement_and_missing_metadata():
    assert time_agrees(480, 460) and time_agrees(15, 9) and not time_agrees(60, 6.7)
    assert not time_agrees(300, 100) and not time_agrees(100, 300) and time_agrees(8, 9)
    timing = lambda a, b: {"iopub.execute_input": a, "shell.execute_reply": b}  # noqa: E731
    nb = {"cells": [_code("", timing("2026-01-01T12:00:00.000Z", "2026-01-01T12:00:01Z")),
                    _code("", timing("2026-01-01T12:07:58Z", "2026-01-01T12:08:00.500000Z"))]}
    assert measured_seconds(nb) == 480.5
    del nb["cells"][0]["metadata"]["execution"]
    with pytest.raises(LookupError, match="make execute"):
        measured_seconds(nb)


def test_readme_time_forms():
    text = ("| what | time |\n|---|---|\n| notebooks | 00 12 s, 01 9 s, 04b 473 s, 99 5 s |\n\n"
            "| notebook | run time |\n|---|---|\n| [03](notebooks/03_pretraining.ipynb) | about 9 minutes |\n")
    got = {(nid, sec) for nid, sec, _, _ in readme_notebook_times(text)}
    assert {("00", 12.0), ("01", 9.0), ("04b", 473.0), ("03", 540.0)} <= got
    assert not any(nid == "99" for nid, _ in got)
