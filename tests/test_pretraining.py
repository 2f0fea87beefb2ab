"""Pretraining objectives: BERT's 80/10/10 masking, NSP pairs, WordPiece training, checkpoints."""

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
    pairs = P.make_nsp_pairs(docs, tok, max_length=64, seed=0)
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


def test_pretraining_losses_fall_on_a_tiny_model_and_checkpoint_round_trips(tmp_path, monkeypatch):
    from transformers import BertForPreTraining

    docs = bertlab.load_corpus("bbc_news")[:80]  # from the real cache, before redirecting it
    monkeypatch.setenv("BERTLAB_CACHE", str(tmp_path))
    tok = P.train_wordpiece(docs, vocab_size=600)
    pairs = P.make_nsp_pairs(docs, tok, max_length=32)
    torch.manual_seed(0)
    model = BertForPreTraining(P.tiny_bert_config(len(tok), 32))
    history = P.pretrain(model, pairs, P.MLMCollator(tok), steps=40, batch_size=16, lr=3e-3, progress=False)
    assert sum(history.mlm_loss[-5:]) / 5 < history.mlm_loss[0] - 0.3
    P.save_checkpoint("unit", model, tok)
    loaded, loaded_tok = P.load_checkpoint("unit", BertForPreTraining)
    assert loaded_tok.get_vocab() == tok.get_vocab()
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)
    assert P.load_checkpoint("missing") is None


def test_fill_mask_returns_top_k_per_mask():
    from transformers import BertForPreTraining

    docs = bertlab.load_corpus("bbc_news")[:50]
    tok = P.train_wordpiece(docs, vocab_size=500)
    model = BertForPreTraining(P.tiny_bert_config(len(tok)))
    preds = P.fill_mask(model, tok, "the [MASK] rose and [MASK] fell", k=3)
    assert len(preds) == 2 and all(len(p) == 3 for p in preds)


def test_pretrain_evaluates_held_out_data_periodically():
    from transformers import BertForPreTraining

    docs = bertlab.load_corpus("bbc_news")[:60]
    tok = P.train_wordpiece(docs, vocab_size=500)
    pairs = P.make_nsp_pairs(docs, tok, max_length=32)
    torch.manual_seed(0)
    model = BertForPreTraining(P.tiny_bert_config(len(tok), 32))
    history = P.pretrain(model, pairs[:-32], P.MLMCollator(tok), steps=6, batch_size=8, progress=False,
                         eval_examples=pairs[-32:], eval_every=3)
    assert [e["step"] for e in history.evals] == [3, 6]
    assert {"masked_accuracy", "nsp_accuracy", "most_frequent_baseline"} <= set(history.evals[0])
    assert model.training is False and history.seconds > 0


def test_tiny_bert_comes_from_the_shipped_copy_when_the_cache_is_empty(tmp_path, monkeypatch):
    import json

    from transformers import BertForPreTraining

    monkeypatch.setenv("BERTLAB_PROFILE", "quick")
    shipped = P.SHIPPED_CHECKPOINTS / f"{P.TINY_BERT}-quick"
    if not (shipped / "bertlab_info.json").exists():
        pytest.skip("no shipped tiny BERT checkpoint in data/checkpoints")
    info = json.loads((shipped / "bertlab_info.json").read_text())
    assert info["recipe"] == P.tiny_bert_recipe("quick"), "data/checkpoints is out of date with the recipe"
    monkeypatch.setenv("BERTLAB_CACHE", str(tmp_path))
    model, tok = P.tiny_bert(progress=False)
    assert isinstance(model, BertForPreTraining) and len(tok) == model.config.vocab_size
    assert (P.checkpoint_dir(f"{P.TINY_BERT}-quick") / "model.safetensors").exists()
    assert info["held_out"][-1]["nsp_accuracy"] > 0.55  # the recorded run learned NSP
    assert info["held_out"][-1]["masked_accuracy"] > 2 * info["held_out"][-1]["most_frequent_baseline"]


def test_minilm_head_round_trips_into_a_masked_lm(tmp_path, monkeypatch):
    """The saved BertForMaskedLM reproduces the head's predictions on the cached features."""
    from transformers import BertForMaskedLM

    docs = bertlab.load_corpus("bbc_news")[:30]  # from the real cache, before redirecting it
    tok, encoder = bertlab.load_tokenizer("minilm-l6"), bertlab.load_encoder("minilm-l6")
    pairs = P.make_nsp_pairs(docs, tok, max_length=32)[:8]
    features, labels = P.encode_masked_positions(encoder, P.MLMCollator(tok, seed=0), pairs, [2], progress=False)
    head = P.FrozenEncoderMLM(encoder.embeddings.word_embeddings.weight, 384, encoder.config.layer_norm_eps)
    losses = P.train_head(head, features[2], labels, steps=5, batch_size=16)
    assert len(losses) == 5
    mlm = P.head_to_masked_lm(head, encoder, layer=2)
    assert mlm.config.num_hidden_layers == 2
    assert mlm.cls.predictions.decoder.weight.data_ptr() == mlm.bert.embeddings.word_embeddings.weight.data_ptr()
    batch = P.MLMCollator(tok, seed=0)(pairs)
    batch.pop("next_sentence_label")
    chosen = batch.pop("labels") != P.IGNORE
    with torch.inference_mode():
        logits = mlm(**batch).logits[chosen]
        assert torch.allclose(logits, head(features[2]), atol=1e-3)

    monkeypatch.setenv("BERTLAB_CACHE", str(tmp_path))
    P.save_checkpoint("unit-mlm", mlm, tok, {"recipe": {"x": 1}})
    loaded, _ = P.load_checkpoint("unit-mlm", BertForMaskedLM)
    assert P._made_by_recipe(P.checkpoint_dir("unit-mlm"), {"x": 1})
    assert not P._made_by_recipe(P.checkpoint_dir("unit-mlm"), {"x": 2})
    with torch.inference_mode():
        assert torch.allclose(loaded(**batch).logits[chosen], logits, atol=1e-5)
