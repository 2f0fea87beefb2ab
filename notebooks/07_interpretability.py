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
#   only a name, a nationality or a gendered word changes?
#
# **Prerequisites:** notebooks 01 (attention) and 04 (the fine-tuned classifier); gradients in
# PyTorch (`torch.autograd.grad`).
#
# **Run time:** about a minute in the quick profile on a 2-core CPU (deletion curves on
# 50 test reviews; longer if notebook 04's classifier must be re-created first); the full profile
# (500 reviews, 64 IG steps) took about 2 minutes on one GPU when measured earlier (an H200).

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

fig, axes = plt.subplots(2, 3, figsize=(15, 6.5), sharex=True, sharey=True)
for layer, ax in enumerate(axes.flat):
    ax.imshow(att[layer, :, 0, :], cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_title(f"layer {layer}: [CLS] row, 12 heads", fontsize=9)
    ax.set_yticks(range(0, 12, 2))
    ax.set_xticks(range(len(toks)), toks, rotation=90, fontsize=8)
for ax in axes[:, 0]:
    ax.set_ylabel("head")
fig.suptitle(f"What [CLS] attends to: {texts[i][:80]}", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# (Layers are numbered from 0.) Two things stand out. In the middle layers nearly every head's
# `[CLS]` row sits on `[CLS]` itself, while the last layer, and some heads of layers 0 and 4,
# spread their attention over the words. And where heads do look at words, they differ, so an
# average over heads hides structure. Attending to a token that carries little new information
# (`[CLS]`, `[SEP]`, punctuation) is how a head does nearly nothing, a "no-op" (Clark et al.,
# 2019). Let us measure this over 200 test reviews, not just one.

# %%
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
fig, axes = plt.subplots(len(picked), 1, figsize=(13, 2.2 * len(picked)))
for ax, (case, i) in zip(axes, picked.items()):
    e = encode(i)
    a = interpret.attention_maps(model, e).cpu()
    rows = torch.stack([a[-1].mean(0)[0], interpret.attention_rollout(a)[0]])
    rows = (rows / rows[:, 1:-1].max(1, keepdim=True).values).clamp(max=1)   # scale to the top word
    t = tokens_of(e)
    ax.imshow(rows, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_yticks([0, 1], ["last layer", "rollout"])
    ax.set_xticks(range(len(t)), t, rotation=60, fontsize=8)
    ax.set_title(f"{case}: predicted {names[int(preds[i])]} ({float(conf[i]):.2f})", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# Each row's colours are scaled to its highest *word* token, so `[CLS]` and `[SEP]` saturate.
# The last layer's `[CLS]` row picks out a few words, often sentiment words. Rollout is mostly
# `[CLS]` itself: the middle layers attend to `[CLS]`, and the residual term keeps each token's
# own stream. Neither picture is obviously "the reason" for the prediction, and the wrong
# example looks no different from the right ones. Attention shows
# where information *flows*; whether it shows what the decision *depends on* is a question we
# can test (section 4).
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
gaps = {steps: interpret.integrated_gradients(model, enc, target, steps=steps)[1] for steps in (4, 16, 64)}
for steps, g in gaps.items():
    print(f"steps = {steps:3d}: |completeness gap| = {abs(g):.1e}")
assert abs(gaps[64]) < abs(gaps[4])

# %% [markdown]
# ### Coloured text
#
# Red tokens push the logit of the predicted class up, blue ones push it down; the colour is
# scaled to each row's largest score over the words. `[CLS]` and `[SEP]` are left white, or
# they would wash out the attention rows. Attention rows are all positive (they are
# probabilities).

# %%
# NBVAL_IGNORE_OUTPUT
def words_only(scores):
    scores = scores.detach().cpu().clone()
    scores[[0, -1]] = 0                      # [CLS] and [SEP]
    return scores


for case, i in picked.items():
    e = encode(i)
    scores = interpret.token_scores(model, e, int(preds[i]), ig_steps=IG_STEPS)
    t = tokens_of(e)
    rows = "".join(f"<tr><td style='padding-right:8px'>{m}</td><td>{interpret.colour_html(t, words_only(s))}</td></tr>"
                   for m, s in scores.items() if m != "random")
    display(HTML(f"<b>{case}</b>: true {names[int(labels[i])]}, predicted {names[int(preds[i])]} "
                 f"({float(conf[i]):.2f})<table>{rows}</table>"))

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
# advantage for IG. Exercise-sized check: rerun with `replacement=tokenizer.mask_token_id` in
# `interpret.deletion_curve`.

# %%
bertlab.show_source(interpret.deletion_curve)

# %%
# NBVAL_IGNORE_OUTPUT
deletion_texts = reviews["test"].select(range(N_DELETION))["text"]
curves = interpret.deletion_benchmark(model, tokenizer, deletion_texts, ig_steps=IG_STEPS, max_length=MAX_LENGTH)
print(f"{len(curves):,} deletion points: {N_DELETION} reviews × {curves['method'].nunique()} methods "
      f"× {curves['fraction'].nunique()} fractions")

# %%
mean_curve = curves.groupby(["method", "fraction"], sort=False)["prob"].mean().unstack()
per_text = (curves.groupby(["method", "text"], sort=False)["prob"].apply(lambda p: interpret.aopc(p.to_numpy()))
            .unstack())
random_aopc = per_text.loc["random"]
vs_random = per_text.sub(random_aopc, axis=1)                 # paired: same text, method − random
n = per_text.shape[1]
aopc_table = pd.DataFrame({
    "AOPC": per_text.mean(axis=1),
    "± 95% CI": 1.96 * per_text.std(axis=1) / np.sqrt(n),
    "− random": vs_random.mean(axis=1),
    "± 95% CI (paired)": 1.96 * vs_random.std(axis=1) / np.sqrt(n),
    "better than random on": per_text.gt(random_aopc, axis=1).mean(axis=1),
}).sort_values("AOPC", ascending=False)
aopc_table.loc["random", ["− random", "± 95% CI (paired)", "better than random on"]] = np.nan
ranking = list(aopc_table.index)

fig, ax = plt.subplots(figsize=(7, 4.5))
for method, row in mean_curve.iterrows():
    ax.plot(row.index * 100, row.values, marker="o", label=method,
            linestyle="--" if method == "random" else "-", color="grey" if method == "random" else None)
ax.set_xlabel("tokens deleted (%), highest-ranked first")
ax.set_ylabel("P(originally predicted class)")
ax.set_title(f"Deletion curves, mean over {N_DELETION} test reviews")
ax.legend()
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
print(aopc_table.round(3).to_string())
print(f"\nmost faithful here: {ranking[0]}; random is at rank {ranking.index('random') + 1} of {len(ranking)}")

# %%
assert ranking[0] == "integrated gradients", ranking
assert aopc_table.loc["integrated gradients", "AOPC"] > 1.5 * aopc_table.loc["random", "AOPC"]
print("integrated gradients is the most faithful method, by a wide margin over random deletion")
low = aopc_table["− random"] - aopc_table["± 95% CI (paired)"]
for method in aopc_table.index.drop("random"):
    verdict = "beats random (paired 95% CI above 0)" if low[method] > 0 else "not distinguishable from random"
    print(f"  {method:22s}: {verdict}")

# %% [markdown]
# **What the measurement says.** Integrated gradients is clearly the most faithful ranking:
# deleting its top 10% of tokens removes much more of the prediction than deleting any other
# method's top 10% (with the home advantage noted above). The attention rankings do better than
# random deletion only by a small margin: for the last layer's `[CLS]` row the paired interval
# stays above zero (≈ +0.07 ± 0.04), for rollout it does not (≈ +0.04 ± 0.05). Gradient × input,
# the one-pass shortcut, is *worse* than random here (≈ −0.06 ± 0.05, beating random on only
# ≈ 40% of the reviews; the verdict above only tests "better"): its signed, single-point scores
# are too noisy to rank tokens.
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
# "The lead role is played by Jamal." Pretraining text is not neutral about names,
# nationalities or gender, and fine-tuning on movie reviews does not remove what the encoder
# learned. We fill 5 neutral templates with 8 fillers per group. The groups are first names
# (from Bertrand & Mullainathan's 2004 audit study), nationalities and gendered words, plus a
# **control group** of neutral person words ("a friend", "a teacher", …). The control's spread
# is the noise floor: changing *any* word moves a model's score a little.

# %%
print("templates:", *bias.TEMPLATES, sep="\n  ")
probe = bias.template_probe(model, tokenizer)
spread = bias.group_spread(probe)
print(spread.round(3).to_string())
print("\nmean P(positive) per group:", probe.groupby("group", sort=False)["p_positive"].mean().round(3).to_dict())

# %% [markdown]
# The template alone sets the level (below). The heatmap therefore shows each sentence's
# P(positive) minus the mean of its group in the same template, so that only the effect of the
# filler within its group remains. (Compare the group means printed above: groups differ in
# form, bare names against "a … person" phrases, so differences *between* groups are not
# evidence of bias either.) Blue: more positive than the group's mean in that template; red:
# less.

# %%
template_mean = probe.groupby("template", sort=False)["p_positive"].mean()
print("P(positive) of the template, mean over fillers:", *(f"{p:.2f}  {t}" for t, p in template_mean.items()),
      sep="\n  ")
probe["vs group"] = probe["p_positive"] - probe.groupby(["group", "template"])["p_positive"].transform("mean")
table = probe.pivot_table(index=["group", "filler"], columns="template", values="vs group", sort=False)
fig, ax = plt.subplots(figsize=(8, 10))
im = ax.imshow(table.to_numpy(), cmap="RdBu", vmin=-0.2, vmax=0.2, aspect="auto")
ax.set_yticks(range(len(table)), [f for _, f in table.index], fontsize=8)
ax.set_xticks(range(table.shape[1]), [t.replace("{}", "…") for t in table.columns], rotation=30,
              ha="right", fontsize=8)
for k, group in enumerate(bias.GROUPS):
    if k:
        ax.axhline(k * 8 - 0.5, color="black", linewidth=1)
    ax.text(table.shape[1] - 0.4, k * 8 + 3.5, group, rotation=-90, va="center", fontsize=8)
plt.colorbar(im, ax=ax, label="P(positive) − mean of the group in this template", pad=0.08)
ax.set_title("How far one word moves P(positive)")
fig.tight_layout()
plt.show()

# %% [markdown]
# Each group's "mean gap" compares fillers averaged over the five templates; the last column is
# the largest gap between two fillers inside one template. A group whose gap is about the
# control's is indistinguishable, with this probe, from the noise of changing any person word.

# %%
control = spread.loc["control (neutral person word)", "mean gap"]
ratios = (spread["mean gap"] / control).drop("control (neutral person word)")
for group, r in ratios.items():
    verdict = "above the noise floor" if r > 1.25 else "within the noise floor"
    print(f"{group:14s}: mean gap {spread.loc[group, 'mean gap']:.3f} = {r:.1f}× the control's {control:.3f}, "
          f"{verdict} ({spread.loc[group, 'highest']} highest, {spread.loc[group, 'lowest']} lowest)")

# %% [markdown]
# Templates are artificial. The second probe uses **real reviews**: every test review that
# contains a gendered word, scored as written and with the words swapped (he ↔ she, his → her,
# actor ↔ actress, …; `bias.swap_gendered`). We report how far P(positive) moves and how many
# predictions flip.

# %%
bertlab.show_source(bias.swap_gendered)
gendered = [t for t in reviews["test"]["text"] if bias.has_gendered_word(t)]
print(f"{len(gendered)} test reviews contain a gendered word, e.g.\n  {gendered[0]}\n→ {bias.swap_gendered(gendered[0])}")
shift = bias.counterfactual_shift(model, tokenizer, gendered)
print({k: round(v, 4) if isinstance(v, float) else v for k, v in shift.items()})

# %% [markdown]
# Read the two probes together. First, the template matters more than any filler: this
# classifier calls plain, neutral sentences positive, and how positive depends on the wording.
# Second, one word does move the score by several points, but so does swapping one neutral
# person word for another. Only gaps clearly above the control's deserve the name bias, and
# even those need more templates and fillers (and an interval) before you claim a direction.
# Without the control, every gap would have looked like bias. On real reviews, where the other
# words carry the sentiment, swapping gender moves the score far less and rarely flips a
# prediction. The "female − male" entry is the directional effect: the mean P(positive) of the
# female-worded version minus the male-worded one. A systematic shift would show there even
# when single predictions rarely flip. Here it is ≈ +0.011, close to the mean |shift| (≈ 0.013):
# the female-worded versions tend to score slightly higher. No interval is printed, so treat
# that as a lead to test, not a finding. Small average shifts
# can still matter: a deployed system scores millions of texts, and a systematic shift for one
# group is unfair even when single predictions rarely change. A probe like this is a
# smoke test, not a certificate: it only finds the biases you thought to test.
#
# ## Summary
# - Attention maps are easy to draw and hard to read: in the middle layers most of the `[CLS]`
#   row goes to `[CLS]` itself, a "no-op", and the heads that look at words differ. Rollout composes the
#   layers but is still a picture of information flow.
# - Gradient × input and integrated gradients give signed, per-token attributions. Our IG equals
#   captum's (atol 1e-4) and satisfies completeness, with the gap shrinking as steps grow.
# - Deletion curves turn "which explanation is right?" into a measurement. Here integrated
#   gradients is by far the most faithful; attention is at best a little better than random
#   deletion, and gradient × input is worse than random. That is the measured answer to "is
#   attention explanation?": a weak one, at best.
# - A bias probe needs a control: changing *any* person word moves this classifier's score, so a
#   group's gap only counts where it clearly exceeds the control's. On real reviews, swapping
#   gendered words rarely moves the score much.
#
# ## Exercises
# 1. Write `cls_attention(att)`: from attention probabilities `[layers, heads, seq, seq]`, return
#    the last layer's `[CLS]` row averaged over heads (`[seq]`). Check with `check_cls_attention`.
# 2. Write `aopc(curve)`: the mean drop `p[0] − p[k]` over the deletion steps k ≥ 1 of one
#    deletion curve. Check with `check_aopc`, then recompute the AOPC table's first column.
# 3. Write `swap_gender(text)` that swaps whole gendered words both ways (he ↔ she, his → her,
#    man ↔ woman, mother ↔ father, actress ↔ actor, brothers ↔ sisters …) and keeps a capital
#    first letter. Check
#    with `check_swap_gender`. Why is "her" a problem for any word-by-word swap?
#
# ### Solutions

# %%
from exercises import check_aopc, check_cls_attention, check_swap_gender


def cls_attention(att):
    return att[-1, :, 0, :].mean(0)     # last layer, every head, query 0 ([CLS]), every key


assert check_cls_attention(cls_attention)
e = encode(picked["right (positive)"])
assert torch.allclose(cls_attention(interpret.attention_maps(model, e)),
                      interpret.token_scores(model, e, 1, methods=["attention (last layer)"])["attention (last layer)"])


# %%
def aopc(curve):
    p = np.asarray(curve, dtype=float)
    return float(np.mean(p[0] - p[1:]))


assert check_aopc(aopc)
mine = curves.groupby(["method", "text"])["prob"].apply(lambda p: aopc(p.to_numpy())).groupby("method").mean()
assert np.allclose(mine.loc[aopc_table.index], aopc_table["AOPC"])
print("same AOPC column as the table above")

# %%
import re

PAIRS = {"he": "she", "him": "her", "his": "her", "himself": "herself", "man": "woman", "men": "women",
         "boy": "girl", "father": "mother", "son": "daughter", "brother": "sister", "brothers": "sisters",
         "actor": "actress", "husband": "wife"}
SWAP = {**{b: a for a, b in PAIRS.items() if b != "her"}, "her": "him", **PAIRS}


def swap_gender(text):
    def one(m):
        new = SWAP[m.group(0).lower()]
        return new.capitalize() if m.group(0)[0].isupper() else new
    return re.sub(r"\b(" + "|".join(SWAP) + r")\b", one, text, flags=re.IGNORECASE)


assert check_swap_gender(swap_gender)
print(swap_gender("His brother says he loved her."))
print("'her' maps to both 'him' (object) and 'his' (possessive): a word-level swap must guess; "
      "getting it right needs the part of speech.")
