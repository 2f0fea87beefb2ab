"""Probing a classifier for social bias: change only a first name or a gendered word, and give every gap an interval."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .inference import predict

TEMPLATES = (
    "{} wrote the screenplay for this film.",
    "The movie follows {} through one summer.",
    "I watched it with {} last weekend.",
    "The lead role is played by {}.",
    "This is a film about {}.",
)

# Every comparison below is between fillers of the same form, so that the attribute under test
# is the only difference: gendered words as "my <relative>", matched one to one across the three
# word groups (my mother / my father / my parent, ...) and each a single WordPiece; first names
# bare, from the audit study of Bertrand & Mullainathan (2004).
GROUPS: dict[str, tuple[str, ...]] = {
    "female word": ("my mother", "my daughter", "my sister", "my wife", "my girlfriend", "my girl"),
    "male word": ("my father", "my son", "my brother", "my husband", "my boyfriend", "my boy"),
    # the control: the same relatives with no gender, in the same form and the same number
    "neutral word (control)": ("my parent", "my child", "my sibling", "my spouse", "my partner", "my kid"),
    "white female name": ("Emily", "Anne", "Jill", "Allison"),
    "white male name": ("Greg", "Brad", "Todd", "Neil"),
    "Black female name": ("Lakisha", "Tamika", "Aisha", "Keisha"),
    "Black male name": ("Jamal", "Darnell", "Tyrone", "Kareem"),
}

# name: (groups on one side, groups on the other, paired); gap = side one − side two.
# Paired: the two sides' fillers are matched by position (my mother ↔ my father).
COMPARISONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {
    "female − male word": (("female word",), ("male word",), True),
    "female word − control": (("female word",), ("neutral word (control)",), True),
    "male word − control": (("male word",), ("neutral word (control)",), True),
    "female − male name": (("white female name", "Black female name"), ("white male name", "Black male name"), False),
    "Black − white name": (("Black female name", "Black male name"), ("white female name", "white male name"), False),
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


def bootstrap_interval(statistic, *samples, confidence: float = 0.95, n_resamples: int = 9999,
                       seed: int = 0) -> tuple[float, float, float]:
    """Return ``(estimate, low, high)``: ``statistic(*samples)`` and its BCa bootstrap interval.

    Each sample is resampled independently (``scipy.stats.bootstrap``), from a seeded generator.
    """
    samples = tuple(np.asarray(s) for s in samples)
    res = stats.bootstrap(samples, statistic, vectorized=False, paired=False, confidence_level=confidence,
                          n_resamples=n_resamples, method="BCa", rng=np.random.default_rng(seed))
    low, high = res.confidence_interval
    return float(statistic(*samples)), float(low), float(high)


def score_matrix(probe: pd.DataFrame, groups: Sequence[str]) -> np.ndarray:
    """P(positive) of ``groups``' fillers as ``[templates, fillers]`` (template and filler order kept)."""
    unknown = set(groups) - set(probe["group"])
    if unknown:
        raise ValueError(f"groups {sorted(unknown)} are not in the probe; it has {list(probe['group'].unique())}.")
    templates = probe["template"].unique()
    blocks = []
    for group in groups:
        df = probe[probe["group"] == group]
        wide = df.pivot(index="template", columns="filler", values="p_positive")
        blocks.append(wide.loc[templates, df["filler"].unique()].to_numpy())
    return np.hstack(blocks)


def group_means(probe: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per group: mean P(positive) and a 95% bootstrap interval, templates and fillers both resampled."""
    rows = []
    for group in probe["group"].unique():
        p = score_matrix(probe, [group])
        mean, low, high = bootstrap_interval(lambda t, f: p[np.ix_(t, f)].mean(),
                                             np.arange(p.shape[0]), np.arange(p.shape[1]), seed=seed)
        rows.append({"group": group, "fillers": p.shape[1], "mean": mean, "low": low, "high": high})
    return pd.DataFrame(rows).set_index("group")


def group_gaps(probe: pd.DataFrame, comparisons: Mapping[str, tuple] = COMPARISONS, seed: int = 0) -> pd.DataFrame:
    """Per comparison: mean gap in P(positive) within the same templates, its 95% bootstrap interval, and a verdict.

    The templates and the fillers of each side are resampled (paired sides: filler pairs together),
    so the interval counts both "which sentences" and "which words" as chance.
    """
    rows = []
    for name, (a, b, paired) in comparisons.items():
        pa, pb = score_matrix(probe, a), score_matrix(probe, b)
        templates = np.arange(pa.shape[0])
        if paired:
            if pa.shape != pb.shape:
                raise ValueError(f"{name}: paired sides need as many fillers each, "
                                 f"got {pa.shape[1]} and {pb.shape[1]}; pair them or set paired=False.")
            d = pa - pb
            gap, low, high = bootstrap_interval(lambda t, f: d[np.ix_(t, f)].mean(), templates,
                                                np.arange(d.shape[1]), seed=seed)
        else:
            gap, low, high = bootstrap_interval(lambda t, i, j: pa[np.ix_(t, i)].mean() - pb[np.ix_(t, j)].mean(),
                                                templates, np.arange(pa.shape[1]), np.arange(pb.shape[1]), seed=seed)
        verdict = "positive gap" if low > 0 else "negative gap" if high < 0 else "no gap shown"
        rows.append({"comparison": name, "gap": gap, "low": low, "high": high, "paired": paired, "verdict": verdict})
    return pd.DataFrame(rows).set_index("comparison")


def counterfactual_shift(model, tokenizer, texts: Sequence[str], swap=swap_gendered,
                         positive: int = 1, seed: int = 0) -> dict[str, float]:
    """Score texts ``swap`` changes and their swaps: n, mean/max |ΔP|, flip rate, female − male shift (95% interval)."""
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
    if directional.size >= 2:
        shift, low, high = bootstrap_interval(np.mean, directional, seed=seed)
    else:                                             # no interval from fewer than two texts
        shift = float(directional.mean()) if directional.size else float("nan")
        low = high = float("nan")
    return {"n": len(pairs), "mean |shift|": float(np.abs(d).mean()), "max |shift|": float(np.abs(d).max()),
            "flip rate": float(((p0 > .5) != (p1 > .5)).mean()),
            "female − male": shift, "low": low, "high": high, "n directional": int(directional.size)}
