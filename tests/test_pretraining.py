"""Pretraining objectives: BERT's 80/10/10 masking, NSP pairs, WordPiece training, the pretraining loop."""

import pytest
import torch

import bertlab
from bertlab import pretraining as P


def big_batch(n=400, length=128, vocab=1000, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab, (n, length), generator=g)
    special = torch.zeros_like(ids)
    ids[:, 0], ids[:, -1] = 2, 3  # [CLS] ... [SEP]
    special[:, 0] = special[:, -1] = 1
    ids[:, -20:-1], special[:, -20:-1] = 0, 1  # padding
    return ids, special


def test_masking_chooses_15_percent_of_real_tokens_with_80_10_10_split():
    ids, special = big_batch()
    inputs, labels = P.mask_tokens(ids, special, mask_token_id=4, vocab_size=1000,
                                   generator=torch.Generator().manual_seed(1))
    chosen = labels != P.IGNORE
    real = ~special.bool()
    share = chosen.sum().item() / real.sum().item()
    assert abs(share - 0.15) < 0.005
    n = chosen.sum().item()
    masked = (inputs[chosen] == 4).sum().item() / n
    unchanged = (inputs[chosen] == ids[chosen]).sum().item() / n
    assert abs(masked - 0.8) < 0.015
    assert abs(unchanged - 0.1) < 0.015  # (+ the rare random draw of the same token)
    assert abs(1 - masked - unchanged - 0.1) < 0.015


def test_special_tokens_and_padding_are_never_chosen():
    ids, special = big_batch()
    inputs, labels = P.mask_tokens(ids, special, 4, 1000, generator=torch.Generator().manual_seed(2))
    assert (labels[special.bool()] == P.IGNORE).all()
    assert torch.equal(inputs[special.bool()], ids[special.bool()])
    assert (labels[labels != P.IGNORE] == ids[labels != P.IGNORE]).all()


def test_split_sentences():
    doc = "Title line\n\nFirst sentence here. Second one! \"Third?\" Fourth 4 ends."
    assert P.split_sentences(doc) == ["Title line", "First sentence here.", "Second one!",
                                      '"Third?"', "Fourth 4 ends."]


def test_truncate_pair_fits_budget_and_trims_the_longer_side():
    a, b = P.truncate_pair(list(range(10)), list(range(100, 103)), 8)
    assert len(a) + len(b) == 8 and b == [100, 101, 102] and a == list(range(5, 10))


def test_nsp_pairs_are_balanced_and_well_formed():
    tok = bertlab.load_tokenizer("minilm-l6")
    docs = bertlab.load_corpus("bbc_news")[:60]
    pairs = P.make_nsp_pairs(tok, docs, max_length=64, seed=0)
    labels = [p["next_sentence_label"] for p in pairs]
    assert 0.4 < sum(labels) / len(labels) < 0.6
    for p in pairs[:50]:
        ids, types = p["input_ids"], p["token_type_ids"]
        assert len(ids) <= 64 and len(ids) == len(types)
        assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
        first_sep = ids.index(tok.sep_token_id)
        assert set(types[:first_sep + 1]) == {0} and set(types[first_sep + 1:]) == {1}


def test_trained_wordpiece_has_bert_special_tokens_and_requested_size():
    docs = bertlab.load_corpus("bbc_news")[:300]
    tok = P.train_wordpiece(docs, vocab_size=1000)
    assert len(tok) <= 1000
    assert tok.convert_ids_to_tokens(tok("economy grows")["input_ids"])[0] == "[CLS]"
    assert tok.mask_token_id is not None and tok.pad_token_id == 0


def test_pretraining_losses_fall_on_a_tiny_model():
    from transformers import BertForPreTraining

    docs = bertlab.load_corpus("bbc_news")[:80]
    tok = P.train_wordpiece(docs, vocab_size=600)
    pairs = P.make_nsp_pairs(tok, docs, max_length=32)
    torch.manual_seed(0)
    model = BertForPreTraining(P.tiny_bert_config(len(tok), 32))
    history = P.pretrain(model, pairs, P.MLMCollator(tok), steps=40, batch_size=16, lr=3e-3, progress=False,
                         device="cpu")
    assert len(history.mlm_loss) == len(history.nsp_loss) == 40
    assert sum(history.mlm_loss[-5:]) / 5 < history.mlm_loss[0] - 0.3


def test_fill_mask_ranks_the_model_predictions_at_each_mask():
    from transformers import BertForPreTraining

    docs = bertlab.load_corpus("bbc_news")[:50]
    tok = P.train_wordpiece(docs, vocab_size=500)
    torch.manual_seed(0)
    model = BertForPreTraining(P.tiny_bert_config(len(tok))).eval()
    favourite = 200  # make one token the model's clear favourite everywhere
    with torch.no_grad():
        model.cls.predictions.bias[favourite] += 30.0
    text = "the [MASK] rose and [MASK] fell"
    preds = P.fill_mask(model, tok, text, k=3)
    assert len(preds) == 2 and all(len(p) == 3 for p in preds)
    enc = tok(text, return_tensors="pt")
    with torch.inference_mode():
        probs = model(**enc).prediction_logits[0].softmax(-1)
    masks = (enc["input_ids"][0] == tok.mask_token_id).nonzero().flatten()
    for p, position in zip(preds, masks):
        assert p[0] == (tok.convert_ids_to_tokens(favourite), 1.0)
        top = probs[position].topk(3)
        assert [t for t, _ in p] == tok.convert_ids_to_tokens(top.indices.tolist())
        assert [v for _, v in p] == pytest.approx(top.values.tolist(), abs=5e-4)  # rounded to 3 places
    with pytest.raises(ValueError, match=r"no \[MASK\]"):
        P.fill_mask(model, tok, "no mask here")


def test_pretrain_evaluates_held_out_data_periodically():
    from transformers import BertForPreTraining

    docs = bertlab.load_corpus("bbc_news")[:60]
    tok = P.train_wordpiece(docs, vocab_size=500)
    pairs = P.make_nsp_pairs(tok, docs, max_length=32)
    torch.manual_seed(0)
    model = BertForPreTraining(P.tiny_bert_config(len(tok), 32))
    history = P.pretrain(model, pairs[:-32], P.MLMCollator(tok), steps=6, batch_size=8, progress=False,
                         eval_examples=pairs[-32:], eval_every=3, device="cpu")
    assert [e["step"] for e in history.evals] == [3, 6]
    assert {"masked_accuracy", "nsp_accuracy", "most_frequent_baseline"} <= set(history.evals[0])
    assert model.training is False and history.seconds > 0


# --------------------------------------------------------------------------- BERT, GPT and ELECTRA (notebook 09)
@pytest.fixture(scope="module")
def small_blocks():
    docs = bertlab.load_corpus("bbc_news")[:60]
    tok = P.train_wordpiece(docs, vocab_size=500)
    return tok, P.pack_blocks(tok, docs, 32)


def test_packed_blocks_are_full_cls_sep_windows_of_the_concatenated_text(small_blocks):
    tok, blocks = small_blocks
    assert len(blocks) > 50
    assert {len(b["input_ids"]) for b in blocks} == {32}
    assert all(b["input_ids"][0] == tok.cls_token_id and b["input_ids"][-1] == tok.sep_token_id for b in blocks)
    docs = bertlab.load_corpus("bbc_news")[:60]
    stream = [t for d in tok(docs, add_special_tokens=False)["input_ids"] for t in d]
    assert blocks[1]["input_ids"][1:-1] == stream[30:60]  # consecutive, nothing skipped or repeated
    with pytest.raises(ValueError, match="too short"):
        P.pack_blocks(tok, docs, 2)


def test_the_causal_model_sees_only_the_left_and_is_scored_on_the_next_token(small_blocks):
    tok, blocks = small_blocks
    torch.manual_seed(0)
    model = P.objective_model("clm", P.tiny_bert_config(len(tok), 32)).eval()
    ids = torch.tensor([blocks[0]["input_ids"]])
    changed = ids.clone()
    changed[0, 20] = 7
    with torch.no_grad():
        a, b = model.bert(input_ids=ids).last_hidden_state, model.bert(input_ids=changed).last_hidden_state
        assert torch.equal(a[0, :20], b[0, :20]) and not torch.allclose(a[0, 20:], b[0, 20:])
        batch = P.CausalLMCollator(tok)(blocks[:2])
        logits = model(input_ids=batch["input_ids"]).logits
        want = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                                 batch["input_ids"][:, 1:].reshape(-1))
        assert P.causal_lm_losses(model, batch)["clm"].item() == pytest.approx(want.item(), abs=1e-5)


def test_electra_replaces_only_masked_positions_and_labels_what_changed(small_blocks):
    tok, blocks = small_blocks
    torch.manual_seed(0)
    model = P.objective_model("electra", P.tiny_bert_config(len(tok), 32))
    assert model.generator.config.hidden_size == 64 and model.discriminator.config.num_labels == 1
    batch = P.MLMCollator(tok, seed=0)(blocks[:8])
    _, corrupted, replaced = model.corrupt(batch)
    original = torch.where(batch["labels"] != P.IGNORE, batch["labels"], batch["input_ids"])
    chosen = batch["labels"] != P.IGNORE
    assert torch.equal(corrupted[~chosen], original[~chosen])
    assert torch.equal(replaced.bool(), corrupted != original)
    assert set(P.electra_losses(model, batch)) == {"generator", "discriminator"}


@pytest.mark.parametrize("objective", ["mlm", "clm", "electra"])
def test_every_objective_trains_through_the_one_pretraining_loop(small_blocks, objective):
    tok, blocks = small_blocks
    torch.manual_seed(0)
    model = P.objective_model(objective, P.tiny_bert_config(len(tok), 32))
    spec = P.get_objective(objective)
    history = P.pretrain(model, blocks[:-16], spec.collator(tok, seed=0), steps=30, batch_size=16, lr=3e-3,
                         progress=False, device="cpu", objective=objective, eval_examples=blocks[-16:], eval_every=15)
    for name, losses in history.losses.items():
        assert len(losses) == 30 and sum(losses[-5:]) / 5 < sum(losses[:5]) / 5, name
    assert [e["step"] for e in history.evals] == [15, 30]


def test_equal_compute_gives_costlier_objectives_fewer_steps(small_blocks):
    tok, blocks = small_blocks
    config = P.tiny_bert_config(len(tok), 32)
    steps, flops, mlm_flops = P.equal_compute_steps("mlm", 100, config, tok, blocks[:8])
    assert steps == 100 and flops == mlm_flops > 0
    for objective in ("clm", "electra"):
        steps, flops, mlm_flops = P.equal_compute_steps(objective, 100, config, tok, blocks[:8])
        assert flops > mlm_flops and steps == round(100 * mlm_flops / flops)


def test_an_unknown_objective_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="mlm, clm, electra"):
        P.get_objective("gpt")


def test_guessing_a_token_the_causal_model_never_uses_the_right_hand_side(small_blocks):
    tok, blocks = small_blocks
    torch.manual_seed(0)
    config = P.tiny_bert_config(len(tok), 32)
    clm, mlm = P.objective_model("clm", config).eval(), P.objective_model("mlm", config).eval()
    args = (tok.mask_token_id, tok.sep_token_id, blocks[:40])
    assert P.guess_tokens(clm, "clm", *args, where="middle") == P.guess_tokens(clm, "clm", *args, where="end")
    assert P.guess_tokens(mlm, "mlm", *args)["positions"] == 40
    with pytest.raises(ValueError, match="middle"):
        P.guess_tokens(mlm, "mlm", *args, where="start")
    text = P.continue_text(clm, "clm", tok, "the economy", n=3)
    assert text.startswith("the economy") and len(tok(text, add_special_tokens=False)["input_ids"]) >= 4


def test_the_encoder_inside_each_pretraining_model_is_a_bert_model(small_blocks):
    from transformers import BertModel

    tok, _ = small_blocks
    config = P.tiny_bert_config(len(tok), 32)
    for objective in ("mlm", "clm", "electra"):
        assert isinstance(P.encoder_of(P.objective_model(objective, config)), BertModel)
    with pytest.raises(TypeError, match="load_pretrained"):
        P.encoder_of(torch.nn.Linear(2, 2))
