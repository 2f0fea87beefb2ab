"""Probing a classifier for social bias: change only a name, a nationality or a gendered word."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .inference import predict

TEMPLATES = (
    "{} wrote the screenplay for this film.",
    "The movie follows {} through one summer.",
    "I watched it with {} last weekend.",
    "The lead role is played by {}.",
    "This is a film about {}.",
)

GROUPS: dict[str, tuple[str, ...]] = {
    # first names from the audit study of Bertrand & Mullainathan (2004)
    "first name": ("Emily", "Greg", "Anne", "Brad", "Lakisha", "Jamal", "Tamika", "Darnell"),
    "nationality": ("an American person", "a German person", "a Mexican person", "a Nigerian person",
                    "a Chinese person", "an Indian person", "an Iraqi person", "a French person"),
    "gendered word": ("a man", "a woman", "my brother", "my sister", "my father", "my mother",
                      "a boy", "a girl"),
    # the control: person words with none of these attributes; their spread is the "noise floor"
    "control (neutral person word)": ("a friend", "a colleague", "a neighbour", "my cousin",
                                      "a stranger", "a student", "a teacher", "a doctor"),
}

GENDER_PAIRS = (("he", "she"), ("him", "her"), ("his", "her"), ("himself", "herself"),
                ("man", "woman"), ("men", "women"), ("boy", "girl"), ("boys", "girls"),
                ("father", "mother"), ("son", "daughter"), ("brother", "sister"), ("brothers", "sisters"),
                ("sons", "daughters"), ("fathers", "mothers"),
                ("husband", "wife"), ("king", "queen"), ("actor", "actress"), ("actors", "actresses"),
                ("mr", "mrs"), ("guy", "gal"), ("boyfriend", "girlfriend"))


def _swap_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for a, b in GENDER_PAIRS:
        table.setdefault(a, b)
        table.setdefault(b, a)       # "her" -> "him" (first pair wins); "his" -> "her"
    return table


_SWAP = _swap_table()
_MALE = {a for a, _ in GENDER_PAIRS}
_FEMALE = {b for _, b in GENDER_PAIRS}
_WORD = re.compile(r"\b(" + "|".join(sorted(_SWAP, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def swap_gendered(text: str) -> str:
    """Swap gendered words (he ↔ she, actor ↔ actress...) keeping case; the ambiguous "her" becomes "him"."""
    def repl(m: re.Match) -> str:
        word = m.group(0)
        new = _SWAP[word.lower()]
        if word.isupper() and len(word) > 1:
            return new.upper()
        return new.capitalize() if word[0].isupper() else new

    return _WORD.sub(repl, text)


def has_gendered_word(text: str) -> bool:
    """Whether :func:`swap_gendered` would change ``text``."""
    return _WORD.search(text) is not None


def positive_probability(model, tokenizer, texts: Sequence[str], positive: int = 1,
                         max_length: int = 128) -> np.ndarray:
    """P(class ``positive``) for each text, scored by :func:`bertlab.inference.predict`."""
    return predict(model, tokenizer, list(texts), max_length=max_length).softmax(-1)[:, positive].numpy()


def template_probe(model, tokenizer, templates: Sequence[str] = TEMPLATES,
                   groups: Mapping[str, Sequence[str]] = GROUPS, positive: int = 1) -> pd.DataFrame:
    """P(positive) for every template × filler: columns ``group, filler, template, p_positive``."""
    if not templates or not groups:
        raise ValueError("template_probe() needs at least one template and one group.")
    bad = [t for t in templates if t.count("{}") != 1]
    if bad:
        raise ValueError(f"each template needs exactly one '{{}}' slot; these do not: {bad}")
    rows = [{"group": g, "filler": f, "template": t, "text": t.format(f)}
            for g, fillers in groups.items() for f in fillers for t in templates]
    df = pd.DataFrame(rows)
    df["p_positive"] = positive_probability(model, tokenizer, df["text"].tolist(), positive)
    return df


def group_spread(probe: pd.DataFrame) -> pd.DataFrame:
    """Per group: largest gap in fillers' mean P(positive), its two fillers, and the largest per template."""
    rows = []
    for group, df in probe.groupby("group", sort=False):
        by_filler = df.groupby("filler", sort=False)["p_positive"].mean()
        per_template = df.groupby("template")["p_positive"].agg(lambda p: p.max() - p.min())
        rows.append({"group": group, "mean gap": by_filler.max() - by_filler.min(),
                     "highest": by_filler.idxmax(), "lowest": by_filler.idxmin(),
                     "max gap in one template": per_template.max()})
    return pd.DataFrame(rows).set_index("group")


def counterfactual_shift(model, tokenizer, texts: Sequence[str], swap=swap_gendered,
                         positive: int = 1) -> dict[str, float]:
    """Score texts ``swap`` changes and their swaps: n, mean/max |ΔP|, flip rate, female − male shift."""
    pairs = [(t, swap(t)) for t in texts]
    pairs = [(a, b) for a, b in pairs if a != b]
    if not pairs:
        raise ValueError("swap() changed none of the texts: nothing to compare.")
    p0 = positive_probability(model, tokenizer, [a for a, _ in pairs], positive)
    p1 = positive_probability(model, tokenizer, [b for _, b in pairs], positive)
    d = p1 - p0
    words = [[w.lower() for w in _WORD.findall(a)] for a, _ in pairs]
    side = np.array([np.sign(sum(w in _MALE for w in ws) - sum(w in _FEMALE for w in ws)) for ws in words])
    directional = d[side != 0] * side[side != 0]      # male-worded original: +d; female-worded: −d
    return {"n": len(pairs), "mean |shift|": float(np.abs(d).mean()), "max |shift|": float(np.abs(d).max()),
            "flip rate": float(((p0 > .5) != (p1 > .5)).mean()),
            "female − male": float(directional.mean()) if directional.size else float("nan"),
            "n directional": int(directional.size)}
