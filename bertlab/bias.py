"""Probing a classifier for social bias: change only a name, a nationality or a gendered word.

A sentiment classifier should not care whether a neutral sentence is about Emily or Jamal, a
German or a Nigerian, a man or a woman. Pretrained encoders learned from text that does care, and
fine-tuning does not necessarily remove it. Two measurements:

* :func:`template_probe`: neutral template sentences, one slot, a list of fillers per group;
  the spread of the predicted probability across fillers is the bias signal;
* :func:`counterfactual_shift`: real reviews with gendered words swapped (he ↔ she, ...); how
  much the probability moves and how often the predicted label flips.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import torch

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
    # the control: person words that carry none of these attributes. Their spread is the
    # "noise floor" any change of word causes; the other groups are compared with it.
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
    """Swap gendered words (he ↔ she, his → her, actor ↔ actress ...), keeping capitalisation.

    "her" is ambiguous (him / his); it becomes "him", a known limitation of word-level swaps.
    """
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


@torch.inference_mode()
def positive_probability(model, tokenizer, texts: Sequence[str], positive: int = 1, batch_size: int = 64,
                         max_length: int = 128) -> np.ndarray:
    """P(class ``positive``) for each text (dynamic padding, batched)."""
    if len(texts) == 0:
        raise ValueError("no texts to score.")
    device = next(model.parameters()).device
    model.eval()
    out = []
    for s in range(0, len(texts), batch_size):
        enc = tokenizer(list(texts[s:s + batch_size]), padding=True, truncation=True,
                        max_length=max_length, return_tensors="pt").to(device)
        out.append(model(**enc).logits.float().softmax(-1)[:, positive].cpu())
    return torch.cat(out).numpy()


def template_probe(model, tokenizer, templates: Sequence[str] = TEMPLATES,
                   groups: Mapping[str, Sequence[str]] = GROUPS, positive: int = 1) -> "pandas.DataFrame":  # noqa: F821
    """P(positive) for every template × filler: columns ``group, filler, template, p_positive``."""
    import pandas as pd

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


def group_spread(probe: "pandas.DataFrame") -> "pandas.DataFrame":  # noqa: F821
    """Per group: the largest gap between two fillers' mean P(positive) (over templates), which
    fillers they are, and the largest gap within a single template."""
    import pandas as pd

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
    """Score ``texts`` and their swapped versions (only those that ``swap`` changes).

    Returns the number of changed texts, the mean and max |ΔP(positive)|, the share of
    predictions that flip, and the directional effect: mean P(positive) of the female-worded
    version minus the male-worded one, over texts whose gendered words are mostly of one side
    (a shift that the two swap directions would cancel in a plain signed mean).
    """
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
