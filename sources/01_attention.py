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
# # 01 · Attention, the math
#
# Attention is the one operation that makes BERT what it is. In this notebook we build it from
# the equation up, with the vectors of a **real pretrained model** (MiniLM), and prove each
# step against PyTorch and against the pretrained layer itself.
#
# **What you will learn**
# - how queries, keys and values are made from token vectors, and why a dot product measures
#   how relevant one token is to another;
# - `Attention(Q, K, V) = softmax(QKᵀ/√d_k) V`, implemented in a few literal lines;
# - why we divide by √d_k (variance, saturation and vanishing gradients, measured);
# - padding masks, and why a padded batch must give each sentence the same result as running
#   it alone;
# - multi-head attention, `Concat(head_1..head_h) W^O`, as a formula and a diagram, reproducing
#   a pretrained MiniLM layer to 1e-5, and its O(n²) cost in sequence length, measured;
# - how to read (and not over-read) attention heatmaps: what "it" attends to, head by head.
#
# **Prerequisites:** notebook 00; matrix multiplication and the softmax function.
#
# **Run time:** about 10 seconds in the quick profile on a 2-core laptop CPU; the full profile
# (which also times longer sequences) has not been measured on a GPU yet.

# %%
import math
import sys

import matplotlib.pyplot as plt
import numpy as np
import torch

import bertlab
from bertlab import attention, efficiency, longdoc

SEED = bertlab.setup()
torch.set_printoptions(precision=3, sci_mode=False)

tokenizer = bertlab.load_tokenizer("minilm-l6")
# "eager" attention lets the model return its attention weights (output_attentions=True).
model = bertlab.load_encoder("minilm-l6", attn_implementation="eager")

# %% [markdown]
# ## 1. Queries, keys and values from a real sentence
#
# BERT's first layer receives one vector per token (token + position + segment embeddings; the
# details are in notebook 02). Attention then asks, for every token: *which other tokens should I
# gather information from?* Three learned linear maps turn each token vector into
# - a **query** `q` ("what am I looking for?"),
# - a **key** `k` ("what do I contain?"),
# - a **value** `v` ("what do I pass on if you pick me?").
#
# MiniLM has 12 heads of size `d_k = 32` per layer; we take the first head of the first layer.

# %%
sentence = "The animal didn't cross the street because it was too tired."
encoded = tokenizer(sentence, return_tensors="pt")
tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])

with torch.inference_mode():
    x = model.embeddings(input_ids=encoded["input_ids"], token_type_ids=encoded["token_type_ids"])
    self_attention = model.encoder.layer[0].attention.self
    d_k = self_attention.attention_head_size
    head = slice(0, d_k)  # the first head's 32 dimensions
    Q = self_attention.query(x)[0, :, head]
    K = self_attention.key(x)[0, :, head]
    V = self_attention.value(x)[0, :, head]

print(len(tokens), "tokens:", tokens)
print("x:", tuple(x.shape), " Q, K, V:", tuple(Q.shape), "each (tokens × d_k)")

# %% [markdown]
# The score of query *i* against key *j* is the dot product `q_i · k_j`: large when the two
# vectors point the same way. All scores at once are one matrix product, `Q Kᵀ`.

# %%
# NBVAL_IGNORE_OUTPUT
# float32 rounding differs across CPUs: the scores are not compared, the assert checks the ranking
scores = Q @ K.T / math.sqrt(d_k)
i = tokens.index("it")
top = scores[i].topk(3)
print(f"scores of '{tokens[i]}' against every token:\n", scores[i])
print("highest:", [(tokens[j], round(s, 2)) for s, j in zip(top.values.tolist(), top.indices.tolist())])
assert [tokens[j] for j in top.indices.tolist()] == ["it", "[CLS]", "tired"]

# %% [markdown]
# In this head, "it" scores highest against itself and `[CLS]`; "tired" comes third, and
# "animal" scores only 0.10. One head of the first layer is not resolving the pronoun: it is
# one of 72 heads (section 6), and these are scores before the softmax.

# %% [markdown]
# Softmax turns each row of scores into weights that are positive and sum to 1, and the output
# for each token is the weighted average of the values:
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right) V$$
#
# `attention.scaled_dot_product_attention` is this equation, line for line. You will write it
# yourself in the exercises (bertlab's code is shown after them), so here we only use it and
# check it against PyTorch's softmax.

# %%
out, weights = attention.scaled_dot_product_attention(Q, K, V)
print("output:", tuple(out.shape), " weights:", tuple(weights.shape))
print("each row of weights sums to 1:", torch.allclose(weights.sum(-1), torch.ones(len(tokens))))
assert torch.allclose(weights, torch.softmax(scores, dim=-1), atol=1e-6)

# %% [markdown]
# ## 2. Why divide by √d_k?
#
# If the entries of `q` and `k` are independent with mean 0 and variance 1, then
# `q · k = Σ q_m k_m` is a sum of `d_k` terms of variance 1, so its **variance is d_k**. With
# `d_k = 64` (BERT-base) typical scores are ±8, with 1024 they are ±32. Let us measure it.

# %%
generator = torch.Generator().manual_seed(SEED)
dims = [8, 16, 32, 64, 128, 256, 512, 1024]
variances = []
for d in dims:
    q, k = torch.randn(2, 20_000, d, generator=generator)
    variances.append((q * k).sum(-1).var().item())

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.loglog(dims, variances, "o-", label="measured Var(q·k)")
ax.loglog(dims, dims, "k--", lw=1, label="d_k")
ax.loglog(dims, [v / d for v, d in zip(variances, dims)], "s-", label="Var(q·k / √d_k)")
ax.set_xlabel("d_k"), ax.set_ylabel("variance"), ax.legend()
plt.show()
for d, v in zip(dims, variances):
    assert abs(v / d - 1) < 0.1, (d, v)  # variance = d_k within 10%
print("Var(q·k) ≈ d_k at every size (within 10%); dividing by √d_k brings it back to ≈ 1.")

# %% [markdown]
# Why is a large variance bad? Softmax of large numbers **saturates**: one weight goes to 1,
# the rest to 0, and the gradient (Jacobian `diag(p) − p pᵀ`) vanishes, so the layer stops
# learning. Below: 16 keys, random unit-variance q and k, with and without the scaling.

# %%
# NBVAL_IGNORE_OUTPUT
# float32 sums differ in their last digits across CPUs: the printout is not compared, the assert checks
def softmax_stats(d: int, scaled: bool, n_keys: int = 16, trials: int = 500) -> tuple[float, float]:
    """Average max weight and Jacobian norm of softmax over random q·k scores."""
    q = torch.randn(trials, 1, d, generator=generator)
    k = torch.randn(trials, n_keys, d, generator=generator)
    s = (q @ k.transpose(1, 2)).squeeze(1)
    if scaled:
        s = s / math.sqrt(d)
    p = torch.softmax(s, dim=-1)
    jacobian = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    return p.max(-1).values.mean().item(), jacobian.norm(dim=(1, 2)).mean().item()


rows = {scaled: [softmax_stats(d, scaled) for d in dims] for scaled in (False, True)}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
for scaled, style in ((False, "o-"), (True, "s-")):
    label = "softmax(q·k / √d_k)" if scaled else "softmax(q·k)"
    ax1.semilogx(dims, [r[0] for r in rows[scaled]], style, label=label)
    ax2.semilogx(dims, [r[1] for r in rows[scaled]], style, label=label)
ax1.set_xlabel("d_k"), ax1.set_ylabel("average largest weight"), ax1.legend()
ax2.set_xlabel("d_k"), ax2.set_ylabel("‖∂softmax/∂scores‖ (average)"), ax2.legend()
plt.show()

unscaled_max, unscaled_grad = rows[False][-1]
scaled_max, scaled_grad = rows[True][-1]
print(f"d_k = 1024: largest weight {unscaled_max:.2f} unscaled vs {scaled_max:.2f} scaled; "
      f"gradient norm {unscaled_grad:.3f} vs {scaled_grad:.3f}")
assert unscaled_max > 0.9 and scaled_max < 0.5 and scaled_grad > 3 * unscaled_grad

# %% [markdown]
# Without scaling, attention becomes almost one-hot as `d_k` grows and its gradient shrinks
# several-fold; with scaling both stay the same at every size. That is the whole reason for the
# `/ √d_k` in the formula.
#
# ## 3. Padding masks
#
# Sentences in a batch have different lengths, so the shorter ones are padded with `[PAD]`.
# Padding must not change anything: a token must not attend to pads. A boolean mask marks which
# keys are real tokens, and masked scores are set to −∞ before the softmax (their weight
# becomes exactly 0).

# %%
bertlab.show_source(attention.padding_mask)

# %%
# NBVAL_IGNORE_OUTPUT
# float32 rounding differs across CPUs: the differences are not compared, the asserts check them
sentences = ["The cat sat on the mat.", "Attention lets every token look at every other token at once."]
batch = tokenizer(sentences, padding=True, return_tensors="pt")
print(batch["attention_mask"])

mha = attention.MultiHeadSelfAttention.from_bert_layer(model.encoder.layer[0])
with torch.inference_mode():
    xb = model.embeddings(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"])
    masked, _ = mha(xb, attention.padding_mask(batch["attention_mask"]))
    unmasked, _ = mha(xb)
    for s, text in enumerate(sentences):
        alone = tokenizer(text, return_tensors="pt")
        xs = model.embeddings(input_ids=alone["input_ids"], token_type_ids=alone["token_type_ids"])
        single, _ = mha(xs)
        n = xs.shape[1]
        same = torch.allclose(masked[s, :n], single[0], atol=1e-5)
        diff = (unmasked[s, :n] - single[0]).abs().max().item()
        print(f"sentence {s}: padded batch with mask == alone: {same};  "
              f"without mask, max difference {diff:.3f}")
        assert same
        assert (diff > 0.1) if s == 0 else (diff < 1e-5)  # only the padded sentence is hurt without a mask

# %% [markdown]
# With the mask, the padded batch gives each sentence exactly (to 1e-5) what it gets alone; the
# longer sentence has no padding, so it is unaffected either way, but without the mask the short
# sentence's tokens attend to the pads and its vectors change.
#
# ## 4. Multi-head attention
#
# One head can only compute one weighted average per token. BERT runs several heads in parallel,
# each on its own `d_k`-sized slice: project to Q, K, V (hidden × hidden each), **split** the
# hidden dimension into heads, attend in each head, **merge** the heads back, and apply an
# **output projection**. MiniLM: hidden 384 = 12 heads × 32. In symbols (Vaswani et al., 2017):
#
# $$\mathrm{MultiHead}(Q, K, V) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_h)\, W^O,
# \qquad \mathrm{head}_i = \mathrm{Attention}(Q W_i^Q,\ K W_i^K,\ V W_i^V)$$
#
# In self-attention Q, K and V are all the same token vectors `x`. Each head has its own
# projections (384 × 32 here), so each can look for something different; `Concat` lays the 12
# heads' 32 numbers side by side again (384 per token), and `W^O` (384 × 384) mixes them.
# `attention.MultiHeadSelfAttention` does exactly this with one big matrix for all heads' Q
# (and K, V) and a reshape that splits it; its code follows the exercises, since merging the
# heads back is one of them.

# %%
from bertlab import diagrams

fig = diagrams.multi_head_attention(heads=3, hidden=384, head_size=32)
plt.show()

# %% [markdown]
# **Verification against the pretrained layer.** We give our module the weights of MiniLM's
# first layer and compare its output with what the real `BertModel` computes inside that
# layer (captured with a forward hook on the layer's output projection), on a padded batch.
# Tolerance: 1e-5 absolute in float32.

# %%
# NBVAL_IGNORE_OUTPUT
# float32 rounding differs across CPUs: the output is not compared, the assert checks the tolerance
captured = {}
layer = model.encoder.layer[0]
hook = layer.attention.output.dense.register_forward_hook(
    lambda module, inputs, output: captured.update(projected=output))
with torch.inference_mode():
    reference = model(**batch, output_attentions=True)
hook.remove()

with torch.inference_mode():
    ours, our_weights = mha(xb, attention.padding_mask(batch["attention_mask"]))
out_error = (ours - captured["projected"]).abs().max().item()
weight_error = (our_weights - reference.attentions[0]).abs().max().item()
print(f"max |ours − MiniLM layer 0| output: {out_error:.1e}, attention weights: {weight_error:.1e}")
assert torch.allclose(ours, captured["projected"], atol=1e-5)
assert torch.allclose(our_weights, reference.attentions[0], atol=1e-5)

# %% [markdown]
# **Verification against PyTorch.** `torch.nn.functional.scaled_dot_product_attention` is the
# fused kernel real models use. Ours must agree on random inputs of several shapes, with random
# masks and with a causal mask (tolerance 1e-5).

# %%
for shape in [(1, 1, 4, 8), (2, 12, 10, 32), (3, 4, 37, 64)]:
    q, k, v = (torch.randn(*shape, generator=generator) for _ in range(3))
    n = shape[2]
    random_mask = torch.rand(shape[0], 1, n, n, generator=generator) > 0.5
    random_mask[..., 0] = True  # every query may see at least one key
    for name, mask in (("no mask", None), ("random mask", random_mask),
                       ("causal", attention.causal_mask(n))):
        ours, _ = attention.scaled_dot_product_attention(q, k, v, mask)
        theirs = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        assert torch.allclose(ours, theirs, atol=1e-5), (shape, name)
print("scaled_dot_product_attention == torch's on 3 shapes × 3 masks (atol 1e-5)")

# %% [markdown]
# ## 5. The cost: O(n²) in sequence length
#
# The score matrix is `n × n` per head: doubling the sentence length quadruples the work and
# the memory of attention (the linear projections only double). This is why BERT stops at 512
# tokens (notebook 05 deals with longer documents). We time one attention call (12 heads of 32,
# MiniLM's shape) at growing lengths, taking the median of 5 runs after a warm-up.

# %%
lengths = bertlab.pick(quick=[128, 256, 512, 1024, 2048], full=[128, 256, 512, 1024, 2048, 4096, 8192])
device = bertlab.get_device()  # timed where the workbook trains: the GPU if there is one
timings = []
with torch.inference_mode():
    for n in lengths:
        print(f"timing attention at n = {n} on {device.type} ...", file=sys.stderr, flush=True)  # not compared
        q, k, v = (torch.randn(1, 12, n, 32, generator=generator).to(device) for _ in range(3))
        time_it = efficiency.median_latency(lambda: attention.scaled_dot_product_attention(q, k, v),
                                            warmup=1, repeats=5, device=device)
        timings.append(time_it["median"])

# %%
# NBVAL_IGNORE_OUTPUT
slope = np.polyfit(np.log(lengths[-3:]), np.log(timings[-3:]), 1)[0]
for n, t in zip(lengths, timings):
    mem = 12 * n * n * 4 / 2**20
    print(f"n = {n:5d}: {t * 1e3:8.1f} ms, score matrices {mem:7.1f} MiB, "
          f"{longdoc.encoder_flops(n, hidden=384, layers=1)['attention'] / 1e9:6.2f} GFLOP")
print(f"log-log slope over the longest lengths: {slope:.2f} (2 = quadratic)")
if timings[-1] > 1e-3:  # the work dominates; a GPU can finish these lengths faster than its fixed overheads
    assert slope > 1.4, "attention time should grow roughly quadratically with length"
else:
    print(f"the longest call took {timings[-1] * 1e3:.2f} ms: fixed overheads, not the n² work, dominate here")

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.loglog(lengths, timings, "o-", label="measured")
ax.loglog(lengths, [timings[-1] * (n / lengths[-1]) ** 2 for n in lengths], "k--", lw=1, label="∝ n²")
ax.set_xlabel("sequence length n"), ax.set_ylabel("seconds per attention call"), ax.legend()
ax.set_xticks(lengths, [str(n) for n in lengths])
ax.minorticks_off()
plt.show()

# %% [markdown]
# Measured times are not a clean n² line, and they vary from machine to machine (this output is
# not compared by CI): fixed overheads can dominate short lengths, and once the score matrices
# outgrow the CPU caches the time can rise even faster than n² (a slope above 2). Memory grows
# exactly as n²: 12 heads × 8192² floats would already be 3 GiB for a single layer.
#
# ## 6. Looking at a pretrained model's attention
#
# Every layer and head of MiniLM produces an `n × n` weight matrix. Here is one head, for our
# sentence: rows are the attending tokens (queries), columns the attended ones (keys).

# %%
with torch.inference_mode():
    attentions = model(**encoded, output_attentions=True).attentions  # 6 layers × [1, 12, n, n]
attention.attention_heatmap(attentions[2][0, 0], tokens, title="layer 2, head 0")
plt.show()

# %% [markdown]
# Which tokens does "it" attend to? Its row in this head, and the head (of all 72) that puts the
# most weight on "animal":

# %%
# NBVAL_IGNORE_OUTPUT
# float32 rounding differs across CPUs: the weights are not compared, the asserts check the pattern
stack = torch.stack([a[0] for a in attentions])  # [layers, heads, n, n]
it_rows = stack[:, :, i]  # every head's weights for the query "it": [layers, heads, n]
animal, street = tokens.index("animal"), tokens.index("street")
top = it_rows[2, 0].topk(3)
print("layer 2, head 0, 'it' attends to:",
      ", ".join(f"{tokens[j]} {w:.2f}" for w, j in zip(top.values.tolist(), top.indices.tolist())))
best = int(it_rows[..., animal].flatten().argmax())
layer_best, head_best = divmod(best, it_rows.shape[1])
print(f"layer {layer_best}, head {head_best}: 'it' → animal {it_rows[layer_best, head_best, animal]:.2f}, "
      f"street {it_rows[layer_best, head_best, street]:.2f}")
print(f"averaged over all 72 heads: 'it' → [CLS] {it_rows[..., 0].mean():.2f}, animal "
      f"{it_rows[..., animal].mean():.2f}, street {it_rows[..., street].mean():.2f}")
assert [tokens[j] for j in top.indices[:2].tolist()] == ["because", "[CLS]"]
assert (layer_best, head_best) == (3, 1) and it_rows[3, 1, animal] > 0.5 > it_rows[3, 1, street]

# %% [markdown]
# What to notice: in layer 2, head 0, "it" looks mostly at "because" (0.48) and `[CLS]` (0.38),
# not at the animal. One head, layer 3 head 1, does what the textbook picture shows: it puts
# 0.68 of "it"'s weight on "animal" and only 0.05 on "street". Averaged over all 72 heads,
# though, `[CLS]` gets 0.36 and "animal" 0.07: resolving the pronoun is the job of a few heads,
# not of attention in general, so do not read one heatmap as "what the model thinks".
#
# Now all 72 heads at once, on **one shared colour scale** (0 to 1, colourbar on the right): a
# bright square is a weight near 1, so a head that attends to one token shows one bright cell
# per row, and a diffuse head stays dark everywhere.

# %%
fig = attention.attention_grid(attentions)
plt.show()

# %% [markdown]
# Rather than squinting at 72 pictures, we can *measure* simple patterns: for each head, the
# average weight a token puts on the previous token, on the next one, on itself, and on the
# special `[CLS]`/`[SEP]` tokens.

# %%
# NBVAL_IGNORE_OUTPUT
# float32 rounding differs across CPUs: the table is not compared, the assert checks the patterns
import pandas as pd

n = stack.shape[-1]
patterns = {
    "previous token": stack.diagonal(offset=-1, dim1=-2, dim2=-1).mean(-1),
    "next token": stack.diagonal(offset=1, dim1=-2, dim2=-1).mean(-1),
    "itself": stack.diagonal(dim1=-2, dim2=-1).mean(-1),
    "[CLS] or [SEP]": stack[..., [0, n - 1]].sum(-1).mean(-1),
}
table = pd.DataFrame({
    name: [f"layer {int(i) // 12}, head {int(i) % 12}: {float(v.flatten()[i]):.2f}"
           for i in v.flatten().topk(2).indices]
    for name, v in patterns.items()
}, index=["strongest head", "second"]).T
assert patterns["previous token"].max() > 0.9 and patterns["next token"].max() > 0.4
assert (patterns["[CLS] or [SEP]"].flatten().topk(2).values > 0.8).all()
table

# %% [markdown]
# Some heads put most of their weight on the previous or the next token (a positional
# pattern), and several put much of it on `[CLS]`/`[SEP]`. Attention to `[SEP]` is often a
# "no-op": the head has nothing useful to add for that token and parks its weight there.
#
# **What a heatmap cannot tell you.** A weight says how much of a token's *value vector* was
# mixed in, not how much that token mattered for the prediction: values differ in size, the
# output projection and the residual path mix things further, and there are 72 heads and 6
# layers of such mixing. Notebook 07 tests explanations against the model's behaviour instead of
# trusting pictures.
#
# ## Summary
# - Queries, keys and values are three linear projections of each token vector; `q·k` scores
#   relevance; softmax turns scores into weights; the output is a weighted average of values.
# - Dividing by √d_k keeps the score variance at 1; without it softmax saturates and its
#   gradient shrinks as d_k grows (measured above).
# - Padding masks set the scores of pad keys to −∞; a padded batch then matches running each
#   sentence alone (verified to 1e-5).
# - Multi-head attention = split, attend per head, merge, project. Our ~40-line module
#   reproduces a pretrained MiniLM layer to 1e-5, and our function matches PyTorch's fused kernel.
# - Attention costs O(n²) time and memory in sequence length (time measured above; the exact
#   log-log slope depends on the machine).
#
# ## Exercises
# Each exercise is a function you write in the cell, in the region nbgrader's solution
# markers enclose (a student copy has `raise NotImplementedError()` there); the cell's last
# line runs its checker from `bertlab/exercises/`, which says what is right or names the mistake.
# Don't scroll below the exercises before trying: bertlab's own code for them is shown there.

# %%
from bertlab.exercises import (check_attention, check_causal_mask, check_merge_heads, check_scaling_choice,
                               check_softmax)

# %% [markdown]
# **1. A stable softmax.** Implement `my_softmax(x)` over the last dimension, without
# `torch.softmax`. It must survive `[1000, 1001, 1002]`, where `exp` overflows float32.
# Checker: `check_softmax`.

# %%
def my_softmax(x: torch.Tensor) -> torch.Tensor:
    ### BEGIN SOLUTION
    e = (x - x.max(dim=-1, keepdim=True).values).exp()
    return e / e.sum(dim=-1, keepdim=True)
    ### END SOLUTION


check_softmax(my_softmax)

# %% [markdown]
# **2. GPT's mask.** Implement `my_causal_mask(n)`: a bool `[n, n]` mask in which query `i`
# may see keys `0..i` only (rows are queries, columns keys), what GPT uses instead of BERT's
# all-True mask. Checker: `check_causal_mask`.

# %%
def my_causal_mask(n: int) -> torch.Tensor:
    ### BEGIN SOLUTION
    return torch.ones(n, n).tril().bool()
    ### END SOLUTION


check_causal_mask(my_causal_mask)

# %% [markdown]
# **3. Attention for a whole batch.** Implement `my_attention(q, k, v, mask)` for
# `[batch, heads, n, d]` inputs and a bool mask that broadcasts to `[batch, heads, n, n]`
# (True = may attend), without calling bertlab or `torch.nn.functional.scaled_dot_product_attention`.
# Checker: `check_attention` (it compares with PyTorch's kernel).

# %%
def my_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                 mask: torch.Tensor | None = None) -> torch.Tensor:
    ### BEGIN SOLUTION
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(dim=-1) @ v
    ### END SOLUTION


check_attention(my_attention)

# %% [markdown]
# **4. Concat the heads.** Each head returns `[batch, heads, n, d]`. Implement
# `my_merge_heads(x)`, the `Concat` of the formula: a `[batch, n, heads·d]` tensor whose row for
# token `t` holds head 0's `d` numbers for token `t`, then head 1's, and so on. Think about which
# dimensions must be next to each other before you reshape. Checker: `check_merge_heads`.

# %%
def my_merge_heads(x: torch.Tensor) -> torch.Tensor:
    ### BEGIN SOLUTION
    batch, heads, n, d = x.shape
    return x.transpose(1, 2).reshape(batch, n, heads * d)
    ### END SOLUTION


check_merge_heads(my_merge_heads)

# %% [markdown]
# **5. Experiment: the temperature of attention.** MiniLM divides the scores `Q Kᵀ` by
# √d_k = √32. *Predict first:* if it divided by 1 (no scaling) or by d_k = 32 instead, would the
# largest weight in the row of "it" (section 1's `Q`, `K`, `i`, `tokens`) grow or shrink, and
# would a different key come out on top? Then measure it inside `scaling_choice()`: print the
# largest weight and its key for each divisor, and return the letter that matches:
# - (a) a larger divisor makes the weights sharper (the largest weight goes up);
# - (b) a larger divisor makes the weights flatter, and the top key stays the same;
# - (c) the divisor changes which key gets the most weight.
#
# Checker: `check_scaling_choice`.

# %%
# NBVAL_IGNORE_OUTPUT
# the printed weights are float32 model outputs, which differ in their last digits across CPUs
def scaling_choice() -> str:
    ### BEGIN SOLUTION
    raw = Q @ K.T  # unscaled scores of every query against every key
    for divisor in (1.0, math.sqrt(d_k), float(d_k)):
        w = torch.softmax(raw[i] / divisor, dim=-1)
        print(f"divide by {divisor:5.2f}: largest weight {w.max():.2f}, on {tokens[int(w.argmax())]!r}")
    return "b"
    ### END SOLUTION


check_scaling_choice(scaling_choice)

# %% [markdown]
# ## Solutions from the library
#
# bertlab's own versions of the exercises' functions, the code tested against PyTorch and
# MiniLM above: the softmax, scaled dot-product attention, and the multi-head module (its
# `merge_heads` is exercise 4).

# %%
bertlab.show_source(attention.softmax)
bertlab.show_source(attention.scaled_dot_product_attention)
bertlab.show_source(attention.MultiHeadSelfAttention)
