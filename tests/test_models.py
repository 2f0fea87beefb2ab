"""Models by name: real pretrained weights load cleanly, trained models come from the cache by
recipe, classifiers get named labels, and the me5 rebuild is a working multilingual encoder."""

import unicodedata

import numpy as np
import pytest
import torch
from transformers import AutoModel, BertForPreTraining, BertModel

import bertlab
from bertlab import me5, models
from bertlab.models import ModelNotFoundError

SENTIMENT = ["negative", "positive"]
READY = ["minilm-l6", "me5-small", "tiny-bert-bbc"]  # offline names that need no training here


@pytest.fixture(scope="module")
def minilm():
    return bertlab.load_tokenizer("minilm-l6"), bertlab.load_encoder("minilm-l6")


@pytest.fixture(scope="module")
def multilingual():
    return bertlab.load_tokenizer("me5-small"), bertlab.load_encoder("me5-small")


@pytest.fixture
def no_training(monkeypatch):
    """Quick profile, and any attempt to train a model fails the test."""
    monkeypatch.setenv("BERTLAB_PROFILE", "quick")

    def refuse(*args, **kwargs):
        raise AssertionError("a model was trained although a matching checkpoint was available")

    monkeypatch.setattr("bertlab.finetune.train", refuse)
    monkeypatch.setattr("bertlab.pretraining.pretrain_tiny_bert", refuse)
    for name in models.TRAINED:
        monkeypatch.setitem(models.TRAINED, name, refuse)


def same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# --------------------------------------------------------------------------- names
def test_every_offline_name_is_either_ready_or_made_by_a_recipe():
    assert set(READY) <= set(models.MODELS) and "minilm-rotten-tomatoes" in models.MODELS
    for name in set(models.MODELS) - set(READY):  # these are trained on first use, by their recipe
        assert name in models.TRAINED
        assert models.recipe(name, "quick") != models.recipe(name, "full")  # the profile sets the size


@pytest.mark.parametrize("name", READY)
def test_load_tokenizer_works_offline_for_every_name_that_needs_no_training(name, no_training, request):
    if name == "tiny-bert-bbc":  # ships in bertlab/checkpoints: prove it with a cache that lacks it
        request.getfixturevalue("empty_cache")
    tok = bertlab.load_tokenizer(name)
    text = "the government said the economy grew"
    ids = tok(text)["input_ids"]
    assert tok.is_fast
    assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id and tok.unk_token_id not in ids
    assert tok.decode(ids, skip_special_tokens=True) == text


def test_unknown_model_offline_says_so_and_lists_offline_names():
    with pytest.raises(ModelNotFoundError, match="bertlab-test/no-such-model.*'minilm-l6', 'me5-small'"):
        bertlab.load_tokenizer("bertlab-test/no-such-model")


def test_recipe_of_an_untrained_name_is_a_clear_error():
    with pytest.raises(ModelNotFoundError, match="'minilm-l6' is not a trained model.*minilm-rotten-tomatoes"):
        models.recipe("minilm-l6")


# --------------------------------------------------------------------------- MiniLM
def test_minilm_loads_with_no_missing_or_unexpected_keys():
    model, info = AutoModel.from_pretrained(models.model_path("minilm-l6"), output_loading_info=True)
    assert isinstance(model, BertModel)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert (model.config.num_hidden_layers, model.config.hidden_size) == (6, 384)


def test_minilm_tokenizer_is_bert_base_uncased_wordpiece(minilm):
    tok, _ = minilm
    assert tok.vocab_size == 30522
    assert [tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.sep_token_id,
            tok.mask_token_id] == [0, 100, 101, 102, 103]
    assert tok.tokenize("Hello, Embeddings!") == ["hello", ",", "em", "##bed", "##ding", "##s", "!"]


# --------------------------------------------------------------------------- classifiers
def test_classifier_has_named_labels_right_head_size_and_the_pretrained_encoder(minilm):
    _, encoder = minilm
    clf = bertlab.load_classifier("minilm-l6", labels=["business", "sport", "tech"])
    assert clf.config.id2label == {0: "business", 1: "sport", 2: "tech"}
    assert clf.config.label2id == {"business": 0, "sport": 1, "tech": 2}
    assert clf.classifier.out_features == 3
    assert torch.equal(clf.bert.encoder.layer[5].output.dense.weight, encoder.encoder.layer[5].output.dense.weight)


def test_an_encoder_without_a_head_asks_for_labels():
    with pytest.raises(ValueError, match=r"'minilm-l6' has no classification head.*labels="):
        bertlab.load_classifier("minilm-l6")


@pytest.mark.parametrize("labels,problem", [
    ("positive", "a string is not a list of class names"),
    (["only"], "one class"),
    (["a", "a"], "repeated class"),
    ([], "no classes"),
])
def test_classifier_rejects_bad_label_lists_clearly(labels, problem):
    with pytest.raises(ValueError, match=r"labels must be a list of at least two distinct class names, got "
                                         + repr(labels).replace("[", r"\[").replace("]", r"\]")):
        bertlab.load_classifier("minilm-l6", labels=labels)


def test_trained_classifier_comes_from_the_cache_when_its_recipe_matches(cache_with_minilm, no_training):
    tokenizer = bertlab.load_tokenizer("minilm-l6")
    torch.manual_seed(0)
    fresh = bertlab.load_classifier("minilm-l6", labels=SENTIMENT)  # stands in for notebook 04's model
    folder = models.save_trained("minilm-rotten-tomatoes", fresh, tokenizer, {"test_accuracy": 0.5})
    assert folder.parent.parent == cache_with_minilm and folder.name == "minilm-rotten-tomatoes-quick"

    cached = bertlab.load_classifier("minilm-rotten-tomatoes")
    assert cached.config.id2label == {0: "negative", 1: "positive"}
    assert same_weights(cached, fresh)  # its head too: the cached model, not another fresh head
    assert models.checkpoint_info("minilm-rotten-tomatoes") == {
        "recipe": models.recipe("minilm-rotten-tomatoes", "quick"), "test_accuracy": 0.5}
    tok = bertlab.load_tokenizer("minilm-rotten-tomatoes")
    assert tok("a test")["input_ids"] == tokenizer("a test")["input_ids"]


def test_trained_classifier_is_made_again_when_its_recipe_changes(cache_with_minilm, no_training, monkeypatch):
    tokenizer = bertlab.load_tokenizer("minilm-l6")
    model = bertlab.load_classifier("minilm-l6", labels=SENTIMENT)
    models.save_trained("minilm-rotten-tomatoes", model, tokenizer)
    original = models.recipe
    changed = {**original("minilm-rotten-tomatoes"), "epochs": 99}
    monkeypatch.setattr(models, "recipe", lambda name, profile=None: changed if name == "minilm-rotten-tomatoes"
                        else original(name, profile))
    calls = []

    def retrain(folder):
        calls.append(folder)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        return {"retrained": True}

    monkeypatch.setitem(models.TRAINED, "minilm-rotten-tomatoes", retrain)
    bertlab.load_classifier("minilm-rotten-tomatoes")
    bertlab.load_classifier("minilm-rotten-tomatoes")
    assert len(calls) == 1  # made once by the new recipe, then reused
    assert models.checkpoint_info("minilm-rotten-tomatoes") == {"recipe": changed, "retrained": True}


def test_labels_put_a_fresh_head_of_that_size_on_a_trained_classifier(cache_with_minilm, no_training):
    tokenizer = bertlab.load_tokenizer("minilm-l6")
    trained = bertlab.load_classifier("minilm-l6", labels=SENTIMENT)
    models.save_trained("minilm-rotten-tomatoes", trained, tokenizer)
    topics = bertlab.load_classifier("minilm-rotten-tomatoes", labels=["business", "sport", "tech"])
    assert topics.classifier.out_features == 3 and topics.config.id2label[2] == "tech"
    assert torch.equal(topics.bert.encoder.layer[0].attention.self.query.weight,
                       trained.bert.encoder.layer[0].attention.self.query.weight)


def test_labels_replace_the_trained_head_even_with_the_same_number_of_classes(cache_with_minilm, no_training):
    tokenizer = bertlab.load_tokenizer("minilm-l6")
    trained = bertlab.load_classifier("minilm-l6", labels=SENTIMENT)
    models.save_trained("minilm-rotten-tomatoes", trained, tokenizer)
    relabelled = bertlab.load_classifier("minilm-rotten-tomatoes", labels=["bad", "good"])
    assert relabelled.config.id2label == {0: "bad", 1: "good"}
    assert not torch.equal(relabelled.classifier.weight, trained.classifier.weight)
    assert torch.count_nonzero(relabelled.classifier.bias) == 0                # freshly initialised
    assert torch.equal(relabelled.bert.pooler.dense.weight, trained.bert.pooler.dense.weight)


def test_checkpoint_info_names_the_problem_for_models_that_are_not_trained():
    with pytest.raises(ModelNotFoundError, match="not a trained model"):
        models.checkpoint_info("minilm-l6")


def test_random_init_keeps_the_architecture_and_labels_but_not_the_weights():
    pretrained = bertlab.load_classifier("minilm-l6", labels=["a", "b"])
    scratch = bertlab.load_classifier("minilm-l6", labels=["a", "b"], random_init=True)
    assert scratch.config.num_hidden_layers == pretrained.config.num_hidden_layers
    assert scratch.config.id2label == {0: "a", 1: "b"}
    assert sum(p.numel() for p in scratch.parameters()) == sum(p.numel() for p in pretrained.parameters())
    assert not torch.allclose(pretrained.bert.encoder.layer[0].attention.self.query.weight,
                              scratch.bert.encoder.layer[0].attention.self.query.weight)


def test_save_trained_refuses_names_that_are_not_trained_models(empty_cache, minilm):
    tok, encoder = minilm
    with pytest.raises(ModelNotFoundError, match="not a trained model"):
        models.save_trained("minilm-l6", encoder, tok)
    assert not (empty_cache / "checkpoints").exists()


# --------------------------------------------------------------------------- tiny BERT (notebook 03)
def test_tiny_bert_comes_from_the_shipped_copy_when_the_cache_is_empty(empty_cache, no_training):
    model = models.load_model("tiny-bert-bbc", BertForPreTraining)
    tok = bertlab.load_tokenizer("tiny-bert-bbc")
    assert isinstance(model, BertForPreTraining) and not model.training
    assert len(tok) == model.config.vocab_size
    assert (empty_cache / "checkpoints" / "tiny-bert-bbc-quick" / "model.safetensors").exists()
    info = models.checkpoint_info("tiny-bert-bbc")
    assert info["recipe"] == models.recipe("tiny-bert-bbc", "quick"), "bertlab/checkpoints is out of date with the recipe"
    assert info["held_out"][-1]["nsp_accuracy"] > 0.55  # the recorded run learned NSP
    assert info["held_out"][-1]["masked_accuracy"] > 2 * info["held_out"][-1]["most_frequent_baseline"]


# --------------------------------------------------------------------------- me5-small
def test_dequantize_q4_0_block_layout():
    # One block: scale 0.5, nibble j (low) -> weight j, high nibble -> weight j+16.
    scale = np.array([0.5], dtype=np.float16).view(np.uint8)
    qs = np.array([(j % 16) | ((15 - j % 16) << 4) for j in range(16)], dtype=np.uint8)
    raw = np.concatenate([scale, qs])
    w = me5.dequantize_q4_0(raw, 1, 32)[0]
    assert np.allclose(w[:16], (np.arange(16) - 8) * 0.5)
    assert np.allclose(w[16:], (15 - np.arange(16) - 8) * 0.5)


def test_me5_rebuild_is_a_bert_model_with_the_e5_shape(multilingual):
    _, model = multilingual
    assert isinstance(model, BertModel)
    c = model.config
    assert (c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.vocab_size) == (12, 384, 12, 250037)


def test_me5_rebuild_loads_with_no_missing_or_unexpected_keys():
    _, info = AutoModel.from_pretrained(models.model_path("me5-small"),
                                        add_pooling_layer=False, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]


@pytest.mark.parametrize("text", [
    "The film was surprisingly good.",
    "这部电影非常好看，我很喜欢！",
    "Le service était très lent, je ne recommande pas.",
    "Das Buch hat mir überhaupt nicht gefallen.",
])
def test_me5_tokenizer_round_trips_text(multilingual, text):
    tok, _ = multilingual
    ids = tok(text)["input_ids"]
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id
    assert tok.unk_token_id not in ids
    # The tokenizer normalises with NFKC (full-width ，！ become , !), as sentencepiece does.
    assert tok.decode(ids, skip_special_tokens=True) == unicodedata.normalize("NFKC", text)


PAIRS = [  # (english, translation) — each pair says the same thing
    ("The weather is beautiful today.", "今天天气很好。"),
    ("I would like a cup of coffee, please.", "Je voudrais une tasse de café, s'il vous plaît."),
    ("The train to Berlin is late again.", "Der Zug nach Berlin hat schon wieder Verspätung."),
    ("My brother plays football every Sunday.", "我哥哥每个星期天都踢足球。"),
]


def test_me5_puts_translations_closer_than_unrelated_sentences(multilingual):
    tok, model = multilingual
    english = [f"query: {e}" for e, _ in PAIRS]
    foreign = [f"query: {f}" for _, f in PAIRS]
    a = bertlab.embed(model, tok, english)
    b = bertlab.embed(model, tok, foreign)
    sim = a @ b.T  # cosine similarities (embeddings are normalised)
    for i in range(len(PAIRS)):
        others = torch.cat([sim[i, :i], sim[i, i + 1:]])
        assert sim[i, i] > others.max(), f"pair {i}: {sim[i].tolist()}"


def test_the_trained_sentiment_classifier_scores_at_least_0_78_on_raw_test_texts():
    """The issue's bar: notebook 04's classifier, loaded by name, through predict on raw texts."""
    model = bertlab.load_classifier("minilm-rotten-tomatoes")   # from the cache, or re-created (≈ 2 min)
    tokenizer = bertlab.load_tokenizer("minilm-rotten-tomatoes")
    test = bertlab.load_dataset("rotten_tomatoes")["test"]
    logits = bertlab.predict(model, tokenizer, test["text"], max_length=64)
    assert logits.shape == (len(test), 2)
    accuracy = float((logits.argmax(-1).numpy() == np.array(test["label"])).mean())
    assert accuracy >= 0.78, f"test accuracy {accuracy:.3f}"


def test_notebook_09s_three_objectives_ship_with_recipes_and_load_with_their_heads():
    from transformers import BertForMaskedLM, BertLMHeadModel

    from bertlab import pretraining

    recipes = {o: models.recipe(n, "quick") for o, n in models.OBJECTIVE_MODELS.items()}
    assert {r["objective"] for r in recipes.values()} == set(models.OBJECTIVE_MODELS)
    assert len({r["mlm_steps"] for r in recipes.values()}) == 1  # one compute budget for all three
    assert isinstance(models.load_pretrained("mlm"), BertForMaskedLM)
    clm = models.load_pretrained("clm")
    assert isinstance(clm, BertLMHeadModel) and clm.config.is_decoder
    electra = models.load_pretrained("electra")
    assert isinstance(electra, pretraining.ReplacedTokenDetector)
    info = {o: models.checkpoint_info(n) for o, n in models.OBJECTIVE_MODELS.items()}
    totals = [i["total_flops"] for i in info.values()]
    assert max(totals) / min(totals) < 1.001  # equal compute, up to rounding the steps
    with pytest.raises(ValueError, match="mlm, clm, electra"):
        models.load_pretrained("gpt")
