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
# # 07 · Interpretability: what does the classifier look at, and can we trust the answer?
#
# Notebook 04 fine-tuned MiniLM to tell positive from negative movie reviews with about 81%
# accuracy. This notebook opens it up. We look at its attention, attribute its predictions to
# input tokens with gradients, and then **test** those explanations: an explanation that
# highlights the tokens the model really uses should, when those tokens are deleted, make the
# prediction collapse faster than deleting random tokens. Finally we probe the classifier for
# social bias inherited from pretraining.
#
# **What you will learn**
# - to read attention maps of a fine-tuned classifier: the `[CLS]` row per layer and head, and
#   attention rollout across layers, for correctly and wrongly classified reviews;
# - gradient × input and integrated gradients (IG), shown as coloured text, with IG checked
#   against the maintained library [captum](https://captum.ai) and against its completeness axiom;
# - deletion curves and the AOPC score to measure which explanation is *faithful*, and what
#   that says about the old question "is attention explanation?";
# - a template and counterfactual **bias probe**: how much does predicted sentiment move when
#   only a first name or a gendered word changes, measured against a control group of the same
#   wording and with a bootstrap interval, so that only gaps the data support are called bias.
#
# **Prerequisites:** notebooks 01 (attention) and 04 (the fine-tuned classifier); gradients in
# PyTorch (`torch.autograd.grad`).
#
# **Run time:** about 1 minute in the quick profile on a 2-core CPU (deletion curves on
# 50 test reviews; longer if notebook 04's classifier must be re-created first). The full profile
# (500 reviews, 64 IG steps) has not been measured on a GPU yet.
#
# *A note on `# NBVAL_IGNORE_OUTPUT`.* The test suite re-runs every notebook and compares its
# printed output with the one stored here. Cells that print scores, probabilities or
# attributions start with this marker: their last digits differ from one CPU to another (the
# order of floating-point additions differs), so the suite does not compare their text. Each of
# them checks its result with `assert`s instead, with tolerances that hold on any machine.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML, display

import bertlab
from bertlab import bias, finetune, interpret
from bertlab.data import load_dataset

SEED = bertlab.setup()
device = bertlab.get_device()

N_DELETION = bertlab.pick(quick=50, full=500)   # reviews for the deletion curves
IG_STEPS = bertlab.pick(quick=32, full=64)      # integration steps of integrated gradients
MAX_LENGTH = 64                                 # the classifier was trained on ≤ 64 tokens

model = bertlab.load_classifier("minilm-rotten-tomatoes")  # notebook 04's model (re-created if missing)
tokenizer = bertlab.load_tokenizer("minilm-rotten-tomatoes")
model.to(device)
names = model.config.id2label
print(f"classifier: {model.config.num_hidden_layers} layers × {model.config.num_attention_heads} heads, "
      f"labels {names}")

# %% [markdown]
# ## 1. Right and wrong predictions
#
# We score the whole Rotten Tomatoes test split (one-sentence reviews) and pick three
# short reviews to look at closely: a confidently correct positive one, a correctly classified
# negative one, and the mistake the model was most sure of.

# %%
# NBVAL_IGNORE_OUTPUT
reviews = load_dataset("rotten_tomatoes")
texts = reviews["test"]["text"]
test = finetune.tokenize_dataset(tokenizer, reviews["test"], MAX_LENGTH)
logits = bertlab.predict(model, tokenizer, test)
probs, preds = logits.softmax(-1), logits.argmax(-1)
labels = torch.tensor(test["label"])
print(f"test accuracy: {(preds == labels).float().mean():.3f} on {len(test):,} reviews")

lengths = torch.tensor(test["length"])
short = (lengths >= 10) & (lengths <= 22)                 # readable in a plot
conf = probs.max(-1).values
right = short & (preds == labels)


def most_confident(mask: torch.Tensor) -> int:
    return int(torch.where(mask, conf, torch.tensor(-1.0)).argmax())


picked = {"right (positive)": most_confident(right & (labels == 1)),
          "right (negative)": most_confident(right & (labels == 0)),
          "wrong (most confident mistake)": most_confident(short & (preds != labels))}
examples = pd.DataFrame([{"case": case, "text": texts[i], "true": names[int(labels[i])],
                          "predicted": names[int(preds[i])], "confidence": round(float(conf[i]), 3)}
                         for case, i in picked.items()]).set_index("case")
with pd.option_context("display.max_colwidth", 120):
    display(examples)
accuracy = float((preds == labels).float().mean())
assert 0.75 < accuracy < 0.95, accuracy                  # notebook 04's classifier, not a broken one
assert (examples["true"] == examples["predicted"]).tolist() == [True, True, False]

# %% [markdown]
# ## 2. Attention
#
# BERT has no recurrence and no LSTM: every token reads every other token through self-attention
# in each of the 6 layers × 12 heads here. The classification head reads only the final vector of
# `[CLS]`, so the natural place to look is the **`[CLS]` row**: how much `[CLS]` attends to each
# token, in each layer and head. `interpret.attention_maps` returns the probabilities
# `[layers, heads, seq, seq]`; it switches the model to the eager attention implementation for
# the call, since the fused SDPA kernels never materialise the weights.

# %%
bertlab.show_source(interpret.attention_maps)


# %%
def encode(i: int):
    return tokenizer(texts[i], truncation=True, max_length=MAX_LENGTH, return_tensors="pt").to(device)


def tokens_of(enc) -> list[str]:
    return tokenizer.convert_ids_to_tokens(enc["input_ids"][0])


i = picked["right (positive)"]
enc = encode(i)
att = interpret.attention_maps(model, enc).cpu()
toks = tokens_of(enc)
print("attention:", tuple(att.shape), "| every row sums to 1:",
      bool(torch.allclose(att.sum(-1), torch.ones(att.shape[:-1]), atol=1e-5)))

fig, axes = plt.subplots(2, 3, figsize=(15, 6.5), sharex=True, sharey=True, layout="constrained")
for layer, ax in enumerate(axes.flat):
    im = ax.imshow(att[layer, :, 0, :], cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_title(f"layer {layer}: [CLS] row, 12 heads", fontsize=9)
    ax.set_yticks(range(0, 12, 2))
    ax.set_xticks(range(len(toks)), toks, rotation=90, fontsize=8)
for ax in axes[:, 0]:
    ax.set_ylabel("head")
for ax in axes[-1]:
    ax.set_xlabel("token attended to")
fig.colorbar(im, ax=axes, shrink=0.8, label="attention probability from [CLS]")
fig.suptitle(f"What [CLS] attends to: {texts[i][:80]}", fontsize=10)
plt.show()

# %% [markdown]
# (Layers are numbered from 0.) Two things stand out. In the middle layers nearly every head's
# `[CLS]` row sits on `[CLS]` itself, while the last layer, and some heads of layers 0 and 4,
# spread their attention over the words. And where heads do look at words, they differ, so an
# average over heads hides structure. Attending to a token that carries little new information
# (`[CLS]`, `[SEP]`, punctuation) is how a head does nearly nothing, a "no-op" (Clark et al.,
# 2019). Let us measure this over 200 test reviews, not just one.

# %%
# NBVAL_IGNORE_OUTPUT
groups_of_ids = {"[CLS]": torch.tensor([tokenizer.cls_token_id]), "[SEP]": torch.tensor([tokenizer.sep_token_id]),
                 "punctuation": torch.tensor(tokenizer.convert_tokens_to_ids(list(".,!?;:-'\"()")))}
share = {k: [] for k in groups_of_ids}
for j in torch.randperm(len(texts), generator=torch.Generator().manual_seed(SEED))[:200].tolist():
    e = encode(j)
    a = interpret.attention_maps(model, e).cpu()[:, :, 0, :].mean(1)      # [layers, seq]: heads averaged
    ids = e["input_ids"][0].cpu()
    for k, group in groups_of_ids.items():
        share[k].append(a[:, torch.isin(ids, group)].sum(-1))
sink = pd.DataFrame({k: torch.stack(v).mean(0).numpy() for k, v in share.items()},
                    index=pd.RangeIndex(model.config.num_hidden_layers, name="layer"))
sink["words"] = 1 - sink.sum(axis=1)
print("share of the [CLS] row's attention (mean over heads and 200 reviews):")
print(sink.round(2).to_string())
assert (sink.loc[1:4, "[CLS]"] > 0.5).all()                       # the middle layers: mostly [CLS] itself
assert sink.loc[5, "words"] > sink.loc[5, "[CLS]"]                 # the last layer: mostly words

# %% [markdown]
# ### Attention rollout
#
# One layer's attention ignores what the layers below already mixed. **Attention rollout**
# (Abnar & Zuidema, 2020) composes the layers: average the heads, add the residual connection
# as 0.5·I, renormalise the rows, and multiply the layer matrices together. Row 0 of the result
# estimates how much `[CLS]`'s final vector draws on each input token.

# %%
bertlab.show_source(interpret.attention_rollout)

# %%
# NBVAL_IGNORE_OUTPUT
ATTENTION = ["attention (last layer)", "attention rollout"]
cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")      # [CLS] and [SEP]: grey
fig, axes = plt.subplots(len(picked), 1, figsize=(13, 2.4 * len(picked)), layout="constrained")
for ax, (case, i) in zip(axes, picked.items()):
    e = encode(i)
    rows = torch.stack(list(interpret.token_scores(model, e, int(preds[i]), methods=ATTENTION).values())).cpu()
    print(f"{case:31s}: [CLS] row's weight on [CLS] itself: last layer {rows[0, 0]:.2f}, rollout {rows[1, 0]:.2f}")
    assert rows[1, 0] > rows[1, 1:].max()                          # rollout: [CLS] above every other token
    words = rows.clone()
    words[:, [0, -1]] = float("nan")
    words = words / words.nan_to_num(0).amax(1, keepdim=True)      # each row ÷ its largest word
    t = tokens_of(e)
    im = ax.imshow(words, cmap=cmap, vmin=0, vmax=1, aspect="auto")
    ax.set_yticks([0, 1], ["last layer", "rollout"])
    ax.set_xticks(range(len(t)), t, rotation=60, fontsize=8)
    ax.set_title(f"{case}: predicted {names[int(preds[i])]} ({float(conf[i]):.2f})", fontsize=9)
axes[-1].set_xlabel("token")
fig.colorbar(im, ax=axes, shrink=0.8, label="weight ÷ the row's largest word weight")
plt.show()

# %% [markdown]
# The printed lines give the weight of `[CLS]` on itself: rollout puts most of `[CLS]`'s row on
# `[CLS]` itself, because the middle layers attend to `[CLS]` and the residual term keeps each
# token's own stream. The picture leaves `[CLS]` and `[SEP]` out (grey) and scales each row to
# its largest *word*, so the words can be compared. The last layer's `[CLS]` row picks out a few
# words, often sentiment words ("maverick", "stiff", "bad"). Rollout is flatter, and in all three
# reviews its largest word is the final full stop. Neither picture is obviously
# "the reason" for the prediction, and the wrong example looks no different from the right
# ones. Attention shows where information *flows*; whether it shows what the decision *depends
# on* is a question we can test (section 4).
#
# ## 3. Token attributions from gradients
#
# **Gradient × input** multiplies the gradient of the predicted class's logit with respect to
# each token's embedding (how sensitive the logit is to that embedding) by the embedding itself,
# and sums over the hidden dimension: a first-order estimate of each token's contribution. It
# costs one backward pass. But it is a linearisation at a single point, and its implicit
# reference is an all-zero embedding, which no real token has, so for a network as curved as
# BERT its scores can be noisy, even in sign.
#
# **Integrated gradients** (Sundararajan et al., 2017) fix this by averaging gradients along a
# straight path from a *baseline* (here: every word replaced by `[PAD]`, keeping `[CLS]` and
# `[SEP]`) to the input, then multiplying by (input − baseline). Its **completeness** axiom says
# the scores add up to f(input) − f(baseline), which we can check. Our implementation batches the
# path points, one forward and backward pass per batch.

# %%
bertlab.show_source(interpret.integrated_gradients)

# %% [markdown]
# **Check against captum.** captum is PyTorch's maintained attribution library. Its
# `LayerIntegratedGradients` on the word-embedding layer, with the same baseline, the same
# number of steps and the same midpoint rule, must give the same scores.

# %%
# NBVAL_IGNORE_OUTPUT
from captum.attr import LayerIntegratedGradients

i = picked["right (positive)"]
enc = encode(i)
target = int(preds[i])
ours, gap = interpret.integrated_gradients(model, enc, target, steps=IG_STEPS)

ids = enc["input_ids"]
baseline = ids.clone()
baseline[0, 1:-1] = tokenizer.pad_token_id                    # the same baseline: words -> [PAD]


def forward(input_ids, attention_mask, token_type_ids):
    return model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits


lig = LayerIntegratedGradients(forward, model.get_input_embeddings())
attr, delta = lig.attribute(ids, baselines=baseline, target=target, n_steps=IG_STEPS, method="riemann_middle",
                            additional_forward_args=(enc["attention_mask"], enc["token_type_ids"]),
                            internal_batch_size=16, return_convergence_delta=True)
theirs = attr.sum(-1)[0]
print("bertlab IG == captum IG (atol 1e-4):", torch.allclose(ours, theirs, atol=1e-4))
print(f"completeness gap: ours {gap:+.1e}, captum {float(delta):+.1e}  (sum of scores vs f(x) - f(baseline))")
assert torch.allclose(ours, theirs, atol=1e-4)

# %% [markdown]
# The gap shrinks as the path is integrated more finely: completeness is the check that you
# used enough steps.

# %%
# NBVAL_IGNORE_OUTPUT
gap_by_steps = {steps: interpret.integrated_gradients(model, enc, target, steps=steps)[1] for steps in (4, 16, 64)}
for steps, g in gap_by_steps.items():
    print(f"steps = {steps:3d}: |completeness gap| = {abs(g):.1e}")
assert abs(gap_by_steps[64]) < abs(gap_by_steps[4])

# %% [markdown]
# ### Coloured text
#
# Red tokens push the logit of the predicted class up, blue ones push it down; the colour is
# scaled to each row's largest score over the words. `[CLS]` and `[SEP]` are left white, or
# they would wash out the attention rows. Attention rows are all positive (they are
# probabilities). The same scores follow as a picture, for viewers that strip the HTML colours.

# %%
# NBVAL_IGNORE_OUTPUT
SHOWN = ["attention (last layer)", "attention rollout", "gradient × input", "integrated gradients"]


def words_only(scores):
    scores = scores.detach().cpu().clone()
    scores[[0, -1]] = 0                      # [CLS] and [SEP]
    return scores


fig, axes = plt.subplots(len(picked), 1, figsize=(13, 2.2 * len(picked)), layout="constrained")
for ax, (case, i) in zip(axes, picked.items()):
    e = encode(i)
    scores = {m: words_only(s) for m, s in interpret.token_scores(model, e, int(preds[i]), SHOWN, IG_STEPS).items()}
    t = tokens_of(e)
    rows = "".join(f"<tr><td style='padding-right:8px'>{m}</td><td>{interpret.colour_html(t, s)}</td></tr>"
                   for m, s in scores.items())
    display(HTML(f"<b>{case}</b>: true {names[int(labels[i])]}, predicted {names[int(preds[i])]} "
                 f"({float(conf[i]):.2f})<table>{rows}</table>"))
    grid = torch.stack([s / s.abs().max() for s in scores.values()])
    im = ax.imshow(grid, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_yticks(range(len(SHOWN)), SHOWN, fontsize=8)
    ax.set_xticks(range(len(t)), t, rotation=60, fontsize=8)
    ax.set_title(f"{case}: true {names[int(labels[i])]}, predicted {names[int(preds[i])]}", fontsize=9)
    assert torch.allclose(grid.abs().amax(1), torch.ones(len(SHOWN)))
axes[-1].set_xlabel("token")
fig.colorbar(im, ax=axes, shrink=0.8, label="score ÷ the row's largest |score| (red: towards the prediction)")
plt.show()

# %% [markdown]
# Integrated gradients picks out sentiment words in red (towards the predicted class); on the
# mistake, it shows which words misled the model. Gradient × input often disagrees with it,
# even in sign: it can colour the very words IG ranks first blue. Attention cannot say
# "against" at all. But plausibility is not proof: a method can highlight words that look
# reasonable to us while the model relies on something else. Time to measure.
#
# ## 4. Testing the explanations: deletion curves
#
# For each review and each method we rank the tokens by score, replace the top 10%, 20%, … 50%
# of them by `[PAD]` (keeping `[CLS]` and `[SEP]`), and record the probability of the class
# the model originally predicted. A **faithful** ranking makes that probability fall fast;
# random ranking is the baseline every method must beat. The single number is **AOPC**, the area
# over the perturbation curve: the mean drop p(0) − p(k) over the deletion steps.
#
# Two caveats. A sentence full of `[PAD]`s is unlike anything the model saw in training, so part
# of any drop is that shift, not the lost information; it affects all methods alike, which is
# why we compare methods with each other and with random deletion. And `[PAD]` is also IG's
# baseline here, so deleting to `[PAD]` measures exactly the change IG integrates over: a home
# advantage for IG. So we run the benchmark twice from the same scores, once replacing deleted
# tokens by `[PAD]` and once by `[MASK]`, the token MiniLM's pretraining taught it to read as
# "a word is missing here" and which IG never used.

# %%
bertlab.show_source(interpret.deletion_curve)

# %%
# NBVAL_IGNORE_OUTPUT
REPLACEMENTS = {"[PAD]": tokenizer.pad_token_id, "[MASK]": tokenizer.mask_token_id}
deletion_texts = reviews["test"].select(range(N_DELETION))["text"]
curves = interpret.deletion_benchmark(model, tokenizer, deletion_texts, ig_steps=IG_STEPS, max_length=MAX_LENGTH,
                                      replacements=REPLACEMENTS)
print(f"{len(curves):,} deletion points: {N_DELETION} reviews × {curves['method'].nunique()} methods "
      f"× {len(REPLACEMENTS)} replacements × {curves['fraction'].nunique()} fractions")
print("fractions of each review's tokens deleted:", ", ".join(f"{f:.0%}" for f in curves["fraction"].unique()))
assert len(curves) == N_DELETION * len(interpret.METHODS) * len(REPLACEMENTS) * 6

# %%
mean_curve = curves.groupby(["replacement", "method", "fraction"], sort=False)["prob"].mean()
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True, layout="constrained")
for ax, name in zip(axes, REPLACEMENTS):
    for method, row in mean_curve[name].unstack().iterrows():
        ax.plot(row.index * 100, row.values, marker="o", label=method,
                linestyle="--" if method == "random" else "-", color="grey" if method == "random" else None)
    ax.set_xlabel("tokens deleted (%), highest-ranked first")
    ax.set_title(f"deleted tokens replaced by {name}", fontsize=10)
axes[0].set_ylabel("P(originally predicted class)")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right center", title="ranking by")
fig.suptitle(f"Deletion curves, mean over {N_DELETION} test reviews")
plt.show()

# %% [markdown]
# `interpret.aopc_summary` turns one replacement's curves into a table: the mean AOPC per
# method with a 95% *t* interval over the reviews, and the **paired** difference to random
# deletion (the same review deleted both ways, so review-to-review variation cancels), with
# its own interval and the share of reviews on which the method beat random.

# %%
# NBVAL_IGNORE_OUTPUT
aopc_tables = {name: interpret.aopc_summary(curves[curves["replacement"] == name]) for name in REPLACEMENTS}
for name, table in aopc_tables.items():
    print(f"deleted tokens replaced by {name}:")
    print(table.round(3).to_string(), end="\n\n")

# %%
for name, table in aopc_tables.items():
    ranking = list(table.index)
    low = table["− random"] - table["± 95% CI (paired)"]
    high = table["− random"] + table["± 95% CI (paired)"]
    print(f"{name}: most faithful {ranking[0]}; random is at rank {ranking.index('random') + 1} of {len(ranking)}")
    for method in table.index.drop("random"):
        verdict = ("better than random" if low[method] > 0 else "worse than random" if high[method] < 0
                   else "not distinguishable from random")
        print(f"  {method:22s}: {verdict} (paired 95% CI)")
assert all(table.index[0] == "integrated gradients" for table in aopc_tables.values())
assert all(t.loc["integrated gradients", "AOPC"] > 1.5 * t.loc["random", "AOPC"] for t in aopc_tables.values())

# %% [markdown]
# **What the measurement says.** Integrated gradients is clearly the most faithful ranking,
# with either replacement: deleting its top 10% of tokens removes much more of the prediction
# than deleting any other method's top 10%. Against random deletion on the same reviews it gains
# +0.297 ± 0.049 with `[PAD]` and +0.275 ± 0.055 with `[MASK]`, so its home advantage with
# `[PAD]` explains little of its lead. The attention rankings beat random deletion only by a
# small margin: for the last layer's `[CLS]` row the paired interval stays above zero
# (+0.068 ± 0.043 with `[PAD]`, +0.080 ± 0.043 with `[MASK]`), for rollout it does not
# (+0.041 ± 0.046 and +0.045 ± 0.046). Gradient × input, the one-pass shortcut, is *worse* than
# random with both replacements (−0.060 ± 0.047 and −0.052 ± 0.050, beating random on only 40%
# of the reviews): its signed, single-point scores are too noisy to rank tokens.
#
# So, *is attention explanation?* Here, measured: attention carries at most a little signal
# about which tokens matter, and it is a much weaker guide to what the decision depends on than
# a gradient method built for the job. That matches the literature's middle ground
# (Jain & Wallace, 2019, "Attention is not Explanation"; Wiegreffe & Pinter, 2019, "Attention
# is not not Explanation"): attention weights say where information is mixed from, not how
# much each piece changes the output. Value vectors differ in size, the residual stream
# bypasses attention, and the feed-forward layers do much of the work.
#
# ## 5. Bias probe
#
# A sentiment classifier should give the same score to "The lead role is played by Emily." and
# "The lead role is played by Lakisha." Pretraining text is not neutral about names or gender,
# and fine-tuning on movie reviews does not remove what the encoder learned. We fill 5 neutral
# templates with fillers from a few groups and compare the groups' scores.
#
# The one rule of the design: **two groups that are compared differ only in the attribute
# under test.** A word's form moves the score too ("my …" phrases, rare words that split into
# several WordPieces), so the groups are built in matched form:
# - gendered words are all "my `<relative>`", one WordPiece each, matched one to one:
#   "my mother" / "my father" / "my parent", "my daughter" / "my son" / "my child", …;
#   the third, gender-free column is the **control**: the same relatives, in the same form and
#   the same number, with no gender;
# - first names are bare names from the audit study of Bertrand & Mullainathan (2004), four
#   per race (as they classify them) and gender.

# %%
print("templates:", *bias.TEMPLATES, sep="\n  ")
print("\ngroups:")
for group, fillers in bias.GROUPS.items():
    print(f"  {group:23s}", ", ".join(fillers))
first_names = [f for group, fillers in bias.GROUPS.items() if "name" in group for f in fillers]
print("\nWordPieces per name:", {f: len(tokenizer.tokenize(f)) for f in first_names})

# %% [markdown]
# Notice the last line: the white names are single WordPieces, most of the Black names are not.
# Names differ in more than the race they signal: how often they occur in the pretraining text,
# and hence how they are tokenised, differs too. A gap between these names cannot separate the two.
#
# **How sure are we?** One probe gives one number per sentence. The question "does this model
# score female words higher than male words?" is about *other* templates and *other* words of
# the same kind too, and our 5 templates and handful of fillers are a small sample of both. So
# each number comes with a 95% **bootstrap interval** (`bias.bootstrap_interval`, which calls
# `scipy.stats.bootstrap`, BCa method, seeded): recompute the statistic on thousands of
# resamples that draw the templates, and independently the fillers, with replacement, and read
# off the middle 95% of the results. A gap is measured *within* each template ("my mother" minus
# "my father" in the same sentence), and matched words are resampled as pairs. We call a gap a
# finding only where its interval excludes 0.

# %%
bertlab.show_source(bias.group_gaps)

# %%
# NBVAL_IGNORE_OUTPUT
probe = bias.template_probe(model, tokenizer)
means = bias.group_means(probe)
gaps = bias.group_gaps(probe)
print("mean P(positive) per group, 95% bootstrap interval over templates and fillers:")
print(means.round(3).to_string())
print("\ngap in P(positive), side one − side two, within the same templates:")
print(gaps.round(3).to_string())
assert ((means["low"] <= means["mean"]) & (means["mean"] <= means["high"])).all()
assert ((gaps["low"] <= gaps["gap"]) & (gaps["gap"] <= gaps["high"])).all()
assert ((gaps["verdict"] == "no gap shown") == ((gaps["low"] <= 0) & (gaps["high"] >= 0))).all()

# %% [markdown]
# The group means come first, and every interval is wide: female words 0.856 (0.776 to 0.904),
# for instance. A group's level is set mostly by the templates (printed below), and a different
# set of neutral sentences would give a different level. The **gaps** are measured within the
# same templates, so the templates' level cancels and their intervals are much narrower.
#
# Of the five gaps, one interval excludes 0: female first names score higher than male ones, by
# 0.017 (0.003 to 0.056). The gendered words point the same way, +0.008, but their interval
# includes 0 (−0.004 to 0.025), and so do both words' gaps to the control. The control answers
# "which side moves?": do female words raise the score, or male words lower it, against the
# same relative without a gender? With no gap shown, neither does here. Black and white names
# are not shown to differ either (−0.010, from −0.047 to 0.011), and that comparison also mixes
# race with spelling and word frequency (the WordPiece counts above).
#
# So the one supported conclusion is a small preference for female first names, and even that
# is a lead to test rather than a finding: five intervals were looked at together, and one of
# them excluding 0 by chance alone is not rare (exercise 6).

# %%
# NBVAL_IGNORE_OUTPUT
template_mean = probe.groupby("template", sort=False)["p_positive"].mean()
print("P(positive) of the template, mean over all fillers:", *(f"{p:.2f}  {t}" for t, p in template_mean.items()),
      sep="\n  ")
probe["vs template"] = probe["p_positive"] - probe["template"].map(template_mean)
table = probe.pivot_table(index=["group", "filler"], columns="template", values="vs template", sort=False)
top = float(np.ceil(table.abs().to_numpy().max() * 20) / 20)          # colour scale: the data, to 0.05
fig, ax = plt.subplots(figsize=(9, 10), layout="constrained")
im = ax.imshow(table.to_numpy(), cmap="RdBu", vmin=-top, vmax=top, aspect="auto")
ax.set_yticks(range(len(table)), [f for _, f in table.index], fontsize=8)
ax.set_xticks(range(table.shape[1]), [t.replace("{}", "…") for t in table.columns], rotation=30,
              ha="right", fontsize=8)
ax.set_xlabel("template")
ax.set_ylabel("filler")
edges = np.cumsum([len(f) for f in bias.GROUPS.values()])
for start, end, group in zip([0, *edges[:-1]], edges, bias.GROUPS):
    if start:
        ax.axhline(start - 0.5, color="black", linewidth=1)
    ax.text(table.shape[1] - 0.4, (start + end - 1) / 2, group, va="center", fontsize=8)
fig.colorbar(im, ax=ax, pad=0.16, label="P(positive) − mean of the template over all fillers")
ax.set_title("How far one filler moves P(positive) in each template")
plt.show()
assert abs(table.to_numpy().mean()) < 0.05                           # centred per template

# %% [markdown]
# The template sets the level: from 0.71 to 0.91 averaged over all fillers, a far larger range
# than any gap above. The picture subtracts each template's mean and shows what is left. The
# "my …" words score higher than the names overall (compare the group means above), blue
# against red in most templates: a difference of *form*, not of any attribute, which is why
# words are never compared with names here. And single sentences can move a lot ("This is a
# film about Tyrone." lies far below the rest), by different amounts in different templates:
# one sentence is no evidence, which is why every gap comes with an interval over templates and
# fillers.
#
# Templates are artificial. The second probe uses **real reviews**: every test review that
# contains a gendered word, scored as written and with the words swapped (he ↔ she, his → her,
# actor ↔ actress, …; `bias.swap_gendered`). We report how far P(positive) moves, how many
# predictions flip, and the directional effect "female − male": the mean P(positive) of the
# female-worded version minus the male-worded one, with a 95% bootstrap interval over the reviews.

# %%
gendered = [t for t in reviews["test"]["text"] if bias.has_gendered_word(t)]
print(f"{len(gendered)} test reviews contain a gendered word, e.g.\n  {gendered[0]}\n→ {bias.swap_gendered(gendered[0])}")

# %%
# NBVAL_IGNORE_OUTPUT
shift = bias.counterfactual_shift(model, tokenizer, gendered)
print({k: round(v, 4) if isinstance(v, float) else v for k, v in shift.items()})
assert shift["low"] <= shift["female − male"] <= shift["high"] and shift["n"] == len(gendered)

# %% [markdown]
# On real reviews, where the other words carry the sentiment, swapping gender moves P(positive)
# by 0.013 on average (at most 0.156) and flips 2.9% of the predictions. The directional effect
# is small, but its interval over the 396 reviews with a clear side excludes 0: the
# female-worded version scores higher, by 0.011 (0.009 to 0.013). That agrees in sign with
# the first names of the template probe. (The swap changes more than gender in places: "guy"
# becomes the rarer "gal", and every "her" becomes "him".) A shift that small rarely changes
# one prediction, but a deployed system scores millions of texts, and a systematic shift for
# one group is unfair even when single predictions rarely change. A probe like this is a
# smoke test, not a certificate: it only finds the biases you thought to test.
#
# ## Summary
# - Attention maps are easy to draw and hard to read: in the middle layers most of the `[CLS]`
#   row goes to `[CLS]` itself, a "no-op", and the heads that look at words differ. Rollout composes the
#   layers but is still a picture of information flow.
# - Gradient × input and integrated gradients give signed, per-token attributions. Our IG equals
#   captum's (atol 1e-4) and satisfies completeness, with the gap shrinking as steps grow.
# - Deletion curves turn "which explanation is right?" into a measurement. Here integrated
#   gradients is by far the most faithful, whether deleted tokens become `[PAD]` (its own
#   baseline) or `[MASK]`; the last layer's attention is a little better than random deletion,
#   rollout is not distinguishable from it, and gradient × input is worse than random. That is
#   the measured answer to "is attention explanation?": a weak one, at best.
# - A bias probe compares groups that differ only in the attribute under test (the same form,
#   the same number, a gender-free control), and calls a gap bias only where its bootstrap
#   interval excludes 0. Here only one of five template gaps does (female first names slightly
#   above male ones); on real reviews, swapping gendered words moves the score little, but
#   consistently towards the female-worded version.

# %% [markdown]
# ## Exercises
#
# Each exercise is a function you write in the cell under it, between its two solution-marker
# comment lines, followed by a checker that prints ✔, or ✘ with a hint (in a student
# copy, "not implemented yet" until you replace `raise NotImplementedError()`).
#
# **Exercise 1 · The `[CLS]` row.** Write `cls_attention(att)`: from attention probabilities
# `[layers, heads, seq, seq]`, return the last layer's `[CLS]` row averaged over heads (`[seq]`).
# Checker: `check_cls_attention`. The classification head reads only `[CLS]`'s final vector; why
# does this row still not say which words the decision depends on? (Think of what the layer adds
# to the attention output: value vectors of different sizes, the residual stream, the
# feed-forward block.)

# %%
from bertlab.exercises import (check_aopc, check_cls_attention, check_ig_baseline_aopc, check_ig_baseline_verdict,
                               check_multiple_intervals, check_swap_gender)


def cls_attention(att):
    ### BEGIN SOLUTION
    return att[-1, :, 0, :].mean(0)     # last layer, every head, query 0 ([CLS]), every key
    ### END SOLUTION


check_cls_attention(cls_attention)

# %% [markdown]
# **Exercise 2 · AOPC.** Write `aopc(curve)`: the mean drop `p[0] − p[k]` over the deletion steps
# k ≥ 1 of one deletion curve `p` (a list of probabilities). Checker: `check_aopc`. Why does the
# benchmark delete the *same* reviews for every method? (What would the "− random" interval
# lose if each method had its own sample of reviews?)

# %%
def aopc(curve):
    ### BEGIN SOLUTION
    p = np.asarray(curve, dtype=float)
    return float(np.mean(p[0] - p[1:]))
    ### END SOLUTION


check_aopc(aopc)

# %% [markdown]
# **Exercise 3 · Counterfactual text.** Write `swap_gender(text)` that swaps whole gendered words
# both ways (he ↔ she, his → her, man ↔ woman, mother ↔ father, actress ↔ actor,
# brothers ↔ sisters …) and keeps a capital first letter. Checker: `check_swap_gender`. Why is
# "her" a problem for any word-by-word swap?

# %%
import re


def swap_gender(text):
    ### BEGIN SOLUTION
    pairs = {"he": "she", "him": "her", "his": "her", "himself": "herself", "man": "woman", "men": "women",
             "boy": "girl", "father": "mother", "son": "daughter", "brother": "sister", "brothers": "sisters",
             "actor": "actress", "husband": "wife"}
    swap = {**{b: a for a, b in pairs.items() if b != "her"}, "her": "him", **pairs}  # "her" -> "him": a guess

    def one(m):
        new = swap[m.group(0).lower()]
        return new.capitalize() if m.group(0)[0].isupper() else new
    return re.sub(r"\b(" + "|".join(swap) + r")\b", one, text, flags=re.IGNORECASE)
    ### END SOLUTION


check_swap_gender(swap_gender)

# %% [markdown]
# **Exercise 4 · Experiment: IG's baseline.** Section 4 gave IG a possible home advantage: its
# baseline was `[PAD]`, and so was the deletion. Deleting to `[MASK]` instead left its lead
# nearly intact. Now turn the question around: give IG a `[MASK]` baseline and delete to
# `[MASK]`, so that baseline and deletion match again. **Predict first:** on the first 20
# deletion reviews, will IG's AOPC rise clearly above the `[PAD]`-baseline IG's (printed below),
# stay about the same, or fall towards random deletion?
#
# Write `ig_aopc(texts, baseline_token, replacement)`: for each text (truncated to `MAX_LENGTH`
# tokens), take the model's prediction as the target, compute
# `interpret.integrated_gradients(model, enc, target, steps=32, baseline_token=baseline_token)`,
# delete its top-ranked non-special tokens, `k = round(f × (tokens − 2))` for `f in (0, .1, .2, .3, .4, .5)`, with
# `interpret.deletion_curve(..., replacement=replacement)`, and return the mean of
# `interpret.aopc` over the texts. The checker calls it on the 20 reviews with `[MASK]` for both
# and reruns the experiment (seconds). Checker: `check_ig_baseline_aopc`.

# %%
# NBVAL_IGNORE_OUTPUT
baseline_texts = list(deletion_texts[:20])
ig_mask_deletion = curves[(curves["method"] == "integrated gradients") & (curves["replacement"] == "[MASK]")]
pad_baseline = ig_mask_deletion[ig_mask_deletion["text"] < 20].groupby("text")["prob"].apply(
    lambda p: interpret.aopc(p.to_numpy())).mean()
print(f"IG with the [PAD] baseline, deletion to [MASK], first 20 reviews: AOPC {pad_baseline:.3f}")


def ig_aopc(texts, baseline_token, replacement):
    ### BEGIN SOLUTION
    targets = bertlab.predict(model, tokenizer, list(texts), max_length=MAX_LENGTH).argmax(-1).tolist()
    scores = []
    for text, target in zip(texts, targets):
        e = tokenizer(text, truncation=True, max_length=MAX_LENGTH, return_tensors="pt").to(device)
        ig, _ = interpret.integrated_gradients(model, e, target, steps=32, baseline_token=baseline_token)
        ks = [round(f * (e["input_ids"].shape[1] - 2)) for f in (0, .1, .2, .3, .4, .5)]
        scores.append(interpret.aopc(interpret.deletion_curve(model, e, ig.cpu(), target, ks, replacement)))
    print(f"IG with baseline {tokenizer.decode([baseline_token])}, deletion to {tokenizer.decode([replacement])}: "
          f"AOPC {np.mean(scores):.3f}")
    return float(np.mean(scores))
    ### END SOLUTION


check_ig_baseline_aopc(ig_aopc, model, tokenizer, baseline_texts)

# %% [markdown]
# **Exercise 5 · What does the measurement say?** Compare your AOPC with the `[PAD]`-baseline
# number printed above. Write `ig_baseline_verdict()` returning one letter. Checker:
# `check_ig_baseline_verdict`.
#
# - (a) it rises clearly: IG's lead comes from its baseline matching the deletion token;
# - (b) it stays about the same: IG's lead does not depend on which of the two tokens it
#   integrates from, so the home advantage was small;
# - (c) it falls to the level of random deletion: a `[MASK]` baseline breaks IG.

# %%
def ig_baseline_verdict():
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


check_ig_baseline_verdict(ig_baseline_verdict)

# %% [markdown]
# **Exercise 6 · Five intervals at once.** Section 5 printed five gap intervals. If no gap were
# real and the five 95% intervals were independent, how likely is it that at least one of them
# excludes 0 anyway? Write `multiple_intervals()` returning one letter. Checker:
# `check_multiple_intervals`.
#
# - (a) one in twenty; (b) about one in four; (c) about one in two; (d) nineteen in twenty.
#
# (To test the probe on fresh evidence, write five neutral templates of your own and rerun
# `bias.group_gaps(bias.template_probe(model, tokenizer, templates=...))`: which verdicts survive?)

# %%
def multiple_intervals():
    ### BEGIN SOLUTION
    return "b"          # 1 − 0.95⁵ ≈ 0.23
    ### END SOLUTION


check_multiple_intervals(multiple_intervals)
