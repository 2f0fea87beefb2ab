# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
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
# # 04b · Fine-tuning experiments: `Trainer`, seeds, and does pretraining matter?
#
# Notebook 04 fine-tuned MiniLM once and got one number. This notebook asks three questions that
# a single run cannot answer, each with several fine-tuning runs on the *same* labelled data.
#
# **What you will learn**
# - to fine-tune with `transformers.Trainer` (current argument names: `eval_strategy`,
#   `processing_class`, `train_sampling_strategy`) and how each of its arguments maps onto the
#   plain PyTorch loop of notebook 04;
# - why one run is not a result: the spread across random seeds, reported as mean ± sd, and
#   what it means for comparing two models;
# - what pretraining buys: the same architecture from random initialisation, the small BERT we
#   pretrained ourselves in notebook 03, and pretrained MiniLM.
#
# **Prerequisites:** notebooks 03 (the small BERT) and 04 (the training loop).
#
# **Run time:** about 8 minutes in the quick profile on a 2-core laptop CPU (11 fine-tuning runs
# on 1,000 snippets each); the full profile (all 8,925 training snippets, 3 epochs, 3 seeds for
# every model) takes about 15 minutes on one GPU.
#
# Why a separate notebook: these experiments need eleven fine-tuning runs, which would push
# notebook 04 far past its time budget on a CPU.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import bertlab
from bertlab import finetune

SEED = bertlab.setup()

reviews = bertlab.load_dataset("rotten_tomatoes")
names = reviews["train"].features["label"].names
tokenizer = bertlab.load_tokenizer("minilm-l6")
encoded = finetune.tokenize_dataset(tokenizer, reviews, max_length=64)

# The protocol every run below follows: the same labelled snippets, evaluated on the
# validation split (the test split stays reserved for notebook 04's final numbers).
N_TRAIN = bertlab.pick(quick=1000, full=len(encoded["train"]))
SEEDS = [0, 1, 2]
PROTOCOL = dict(epochs=bertlab.pick(quick=1, full=3), batch_size=16, lr=1e-4)
subset = reviews["train"].select(range(N_TRAIN))
train_set = encoded["train"].select(range(N_TRAIN))
# `subset` (texts, for the small BERT's own tokenizer) and `train_set` hold the same snippets:
assert train_set["input_ids"][0] == tokenizer(subset[0]["text"], truncation=True, max_length=64)["input_ids"]
eval_set = encoded["validation"]
print(f"{N_TRAIN:,} training snippets, {len(eval_set):,} validation snippets, protocol {PROTOCOL}")

# %% [markdown]
# ## 1. The same fine-tuning with `transformers.Trainer`
#
# `Trainer` packages the loop of notebook 04. Here is the function that drives it with the same
# recipe; read it next to `finetune.train`:
#
# | notebook 04's loop | `TrainingArguments` |
# |---|---|
# | AdamW, no decay on biases/LayerNorm | `weight_decay=0.01` (Trainer excludes them too) |
# | linear warm-up (10%) then linear decay | `warmup_steps=0.1` (a float below 1 is a ratio), `lr_scheduler_type="linear"` |
# | `clip_grad_norm_(…, 1.0)` | `max_grad_norm=1.0` |
# | `DataCollatorWithPadding` + `LengthGroupedSampler` | `data_collator=…`, `train_sampling_strategy="group_by_length"` |
# | validate each epoch, keep the best weights | `eval_strategy="epoch"`, `save_strategy="epoch"`, `load_best_model_at_end=True` |
# | autocast on CUDA | `bf16=True` on a GPU |
# | the tokenizer | `processing_class=tokenizer` (formerly `tokenizer=`) |

# %%
bertlab.show_source(finetune.train_with_trainer)

# %% [markdown]
# We train MiniLM with both, on the same 1,000 snippets with the same hyperparameters. Each
# call to `finetune.run` seeds everything *before* building the model, so the seed changes the
# new classification head's initial weights, the batch order and the dropout masks.

# %%
def minilm():
    return bertlab.load_classifier("minilm-l6", names)


runs = []
for seed in SEEDS:
    runs.append({"model": "MiniLM (pretrained)", "trainer": "bertlab loop",
                 **finetune.run(minilm, tokenizer, train_set, eval_set, seed, **PROTOCOL)})
for seed in bertlab.pick(quick=[0], full=SEEDS):
    runs.append({"model": "MiniLM (pretrained)", "trainer": "Trainer",
                 **finetune.run(minilm, tokenizer, train_set, eval_set, seed,
                              fit=finetune.train_with_trainer, **PROTOCOL)})

# %%
# NBVAL_IGNORE_OUTPUT
table = pd.DataFrame(runs)
print(table.round(3).to_string(index=False))
loop = table[table.trainer == "bertlab loop"]["accuracy"]
hf = table[table.trainer == "Trainer"]["accuracy"]
print(f"\nbertlab loop: {loop.mean():.3f} ± {loop.std():.3f} (mean ± sd over {len(loop)} seeds)")
print(f"Trainer:      {hf.mean():.3f} (seeds {list(table[table.trainer == 'Trainer'].seed)})")
tolerance = max(3 * loop.std(), 0.03)
assert abs(hf.mean() - loop.mean()) <= tolerance, "Trainer and the loop should agree within the seed spread"
print(f"Trainer agrees with the loop within {tolerance:.3f} (3 sd of the loop, at least 0.03)")

# %% [markdown]
# The two implementations agree within the spread that the seed alone produces. They are not
# bit-identical (the order of batches and of random draws differs), so "the same result" can
# only mean "the same within seed noise", which brings us to the next question.
#
# ## 2. One run is not a result
#
# Same data, same hyperparameters, same code: only the seed changed, and the validation
# accuracy moved. With small data the spread is large, which is exactly when people compare
# models on single runs.

# %%
fig, ax = plt.subplots(figsize=(6, 2.2))
for i, (trainer, group) in enumerate(table.groupby("trainer", sort=False)):
    ax.scatter(group["accuracy"], [i] * len(group), s=60, label=trainer)
    for _, row in group.iterrows():
        ax.annotate(f"seed {row.seed}", (row.accuracy, i), textcoords="offset points", xytext=(0, 7),
                    ha="center", fontsize=8)
ax.axvline(loop.mean(), color="gray", ls="--", lw=1, label="loop mean")
ax.axvspan(loop.mean() - loop.std(), loop.mean() + loop.std(), color="gray", alpha=0.15, label="loop mean ± sd")
ax.set_yticks([0, 1], table["trainer"].unique()), ax.set_ylim(-0.7, 1.7)
ax.set_xlabel("validation accuracy"), ax.legend(fontsize=8, loc="lower right")
plt.show()

# %% [markdown]
# How to read and report such numbers:
# - Report **mean ± standard deviation over at least 3 seeds** (sample sd, dividing by n − 1),
#   and say what the seed controls.
# - A difference between two models smaller than about two standard deviations of either is
#   not evidence of anything. With 3 seeds, a 95% confidence interval for the mean is wide:
#   ± 4.3 × sd / √3 (Student's t with 2 degrees of freedom), i.e. ± 2.5 sd.
# - The validation set is finite too: 1,276 snippets give accuracy a sampling standard error of
#   about √(0.73 × 0.27 / 1276) ≈ 0.012, on top of the seed spread.
# - Larger training sets (the full profile) shrink the seed spread; they do not remove it.
#
# ## 3. Does pretraining matter?
#
# We fine-tune, with the same 1,000 labelled snippets:
# - **MiniLM's architecture from random initialisation**: 22.7 M parameters, none of them
#   pretrained (`load_classifier(..., random_init=True)`);
# - **the small BERT of notebook 03** (2 layers, hidden 128, a 4,000-piece WordPiece vocabulary),
#   pretrained by us with MLM + NSP on ~1,500 BBC News articles for 8,000 steps; loaded from the
#   cache (`"tiny-bert-bbc"`), re-created if missing;
# - **the same small BERT from random initialisation**, to isolate what our pretraining did;
# - **pretrained MiniLM** (the runs above): distilled from a large model pretrained on billions of
#   words, then trained further on a billion sentence pairs.
#
# The small models train 5 epochs (a step costs them far less than a MiniLM step) at a higher
# learning rate (1e-3), as small models need; every model sees the same labelled snippets.

# %%
tiny_tokenizer = bertlab.load_tokenizer("tiny-bert-bbc")
tiny_train = finetune.tokenize_dataset(tiny_tokenizer, subset, max_length=64)
tiny_val = finetune.tokenize_dataset(tiny_tokenizer, reviews["validation"], max_length=64)
example = reviews["validation"][3]["text"]
print("MiniLM vocabulary:  ", tokenizer.tokenize(example)[:16])
print("BBC-trained 4k vocab:", tiny_tokenizer.tokenize(example)[:16])

TINY_PROTOCOL = dict(PROTOCOL, epochs=bertlab.pick(quick=5, full=10), lr=1e-3)
for seed in SEEDS:
    for label, random_init in (("tiny BERT (random init)", True), ("tiny BERT (pretrained, notebook 03)", False)):
        runs.append({"model": label, "trainer": "bertlab loop", **finetune.run(
            lambda: bertlab.load_classifier("tiny-bert-bbc", names, random_init=random_init),
            tiny_tokenizer, tiny_train, tiny_val, seed, **TINY_PROTOCOL)})
for seed in bertlab.pick(quick=[0], full=SEEDS):
    runs.append({"model": "MiniLM (random init)", "trainer": "bertlab loop", **finetune.run(
        lambda: bertlab.load_classifier("minilm-l6", names, random_init=True),
        tokenizer, train_set, eval_set, seed, **PROTOCOL)})

# %%
# NBVAL_IGNORE_OUTPUT
loop_runs = [r for r in runs if r["trainer"] == "bertlab loop"]
order = ["MiniLM (random init)", "tiny BERT (random init)", "tiny BERT (pretrained, notebook 03)", "MiniLM (pretrained)"]
summary = finetune.summarize_runs(loop_runs).loc[order]
majority = np.bincount(list(eval_set["label"])).max() / len(eval_set)
print(f"validation majority-class accuracy: {majority:.3f}")
summary.round(3)

# %%
fig, ax = plt.subplots(figsize=(7, 3))
frame = pd.DataFrame(loop_runs)
ax.barh(range(len(order)), summary["mean"], xerr=summary["std"].fillna(0), color="C0", alpha=0.5, capsize=4)
for i, name in enumerate(order):
    accs = frame[frame.model == name]["accuracy"]
    ax.scatter(accs, [i] * len(accs), color="C0", zorder=3, s=18)
ax.axvline(majority, color="C3", ls="--", lw=1, label="majority class")
ax.set_yticks(range(len(order)), order), ax.set_xlim(0.45, 0.85)
ax.set_xlabel(f"validation accuracy after fine-tuning on {N_TRAIN:,} snippets (mean ± sd, dots = seeds)")
ax.legend(loc="lower right", fontsize=8)
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
gain = summary.loc["MiniLM (pretrained)", "mean"] - summary.loc["MiniLM (random init)", "mean"]
tiny_gain = (summary.loc["tiny BERT (pretrained, notebook 03)", "mean"]
             - summary.loc["tiny BERT (random init)", "mean"])
print(f"pretraining gain, MiniLM architecture: {gain:+.3f}")
print(f"pretraining gain, tiny BERT (our 8,000-step pretraining): {tiny_gain:+.3f}")
assert gain >= 0.1, "pretrained MiniLM should beat its randomly initialised twin by a wide margin"
assert summary.loc["MiniLM (random init)", "mean"] <= majority + 0.07, "random init should stay near the majority class"

# %% [markdown]
# What the table says:
# - **Pretraining is most of the result.** The same 22.7 M-parameter architecture, randomly
#   initialised, does not move from the majority class on 1,000 labelled snippets: it would have
#   to learn English from them. Pretrained MiniLM reaches ~0.73 in the same 63 steps.
# - **Our own pretraining is too small to help here.** The tiny BERT saw ~500,000 words of
#   *news* for 8,000 steps; its vocabulary was learned on news too (compare how it splits the
#   review above), and movie-review sentiment needs words news rarely uses. Its gain came out
#   negative (≈ −0.04, about twice the sd of the pretrained runs); with 3 seeds the 95% intervals
#   (± 2.5 sd) of the two tiny models still overlap, so this is no proof that our pretraining
#   hurts, but there is no sign that it helps. BERT-base was pretrained on
#   3.3 billion words for 1 M steps of batch 256: roughly 10⁵ times our compute.
# - **Randomly initialised small models are not hopeless**: with 5 epochs the tiny random model
#   learns word-level cues, much like a bag-of-words classifier trained on 1,000 examples.
#
# ## Summary
# - `Trainer` and a plain loop with the same recipe give the same result within seed noise;
#   the table in section 1 maps each `TrainingArguments` field onto the loop.
# - One run is not a result: the seed alone moved validation accuracy by several points here
#   (sd ≈ 0.02 on 1,000 training snippets).
#   Report mean ± sd over ≥ 3 seeds and do not rank models on differences inside that spread.
# - Pretraining is what makes fine-tuning on 1,000 examples work: MiniLM's architecture from
#   random initialisation stays at the majority class; pretraining at scale (MiniLM) is what
#   pays, not pretraining as such.
#
# ## Exercises
# 1. Write `mean_sd(values)` returning the mean and the *sample* standard deviation (n − 1).
#    Check with `check_mean_sd`.
# 2. Write `confidence_interval(values, level)`: the Student-t interval for the mean of a few
#    runs. Check with `check_confidence_interval`, then compute it for the loop's three seeds.
# 3. Write `freeze_encoder(model)` so that only the classification head trains (a linear probe
#    on the pooled `[CLS]`). Check with `check_freeze_encoder`. *Going further:* run it through
#    `finetune.run` and compare with the fine-tuned MiniLM and with notebook 04's frozen
#    mean-pooled baseline. Which pooling is the better frozen feature for MiniLM, and why?
#
# ### Solutions

# %%
from exercises import check_confidence_interval, check_freeze_encoder, check_mean_sd


def mean_sd(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    return mean, (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5


assert check_mean_sd(mean_sd)

# %%
from scipy import stats


def confidence_interval(values: list[float], level: float = 0.95) -> tuple[float, float]:
    mean, sd = mean_sd(values)
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * sd / len(values) ** 0.5
    return mean - half, mean + half


assert check_confidence_interval(confidence_interval)

# %%
# NBVAL_IGNORE_OUTPUT
low, high = confidence_interval(list(loop))
print(f"95% confidence interval for the loop's mean accuracy: [{low:.3f}, {high:.3f}]")


# %%
def freeze_encoder(model: torch.nn.Module) -> torch.nn.Module:
    for p in model.bert.parameters():
        p.requires_grad = False
    return model


assert check_freeze_encoder(freeze_encoder)
