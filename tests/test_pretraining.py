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
