"""bertlab.crosslingual: tokenizer statistics, translation report, few-shot sampling, encoder fine-tuning.

(Confidence intervals for accuracies come from scipy: binomtest(k, n).proportion_ci(method="wilson").)"""

import numpy as np
import pytest
import torch

import bertlab
from bertlab import crosslingual as xl


def test_count_words_counts_chinese_characters_and_spaced_words():
    assert xl.count_words("a good film") == 3
    assert xl.count_words("这部电影很好") == 6
    assert xl.count_words("iPhone 很好 ok") == 4


def test_tokenization_stats_on_the_english_vocabulary():
    tok = bertlab.load_tokenizer("minilm-l6")
    en = xl.tokenization_stats(tok, ["the film was good", "a bad movie"])
    assert en["tokens_per_word"] == pytest.approx(1.0) and en["unk_rate"] == 0.0
    odd = xl.tokenization_stats(tok, ["🙂🙃"])          # emoji are not in BERT's uncased vocabulary
    assert odd["unk_rate"] == 1.0
    with pytest.raises(ValueError, match="no texts"):
        xl.tokenization_stats(tok, [])


def test_translation_report_recognises_aligned_and_scrambled_spaces():
    base = torch.eye(3)
    aligned = torch.cat([base, base + 0.1 * torch.randn(3, 3, generator=torch.Generator().manual_seed(0))])
    ids, langs = [0, 1, 2, 0, 1, 2], ["en"] * 3 + ["fr"] * 3
    good = xl.translation_report(aligned, ids, langs)
    assert good["retrieval_accuracy"] == 1.0 and good["translation_cosine"] > good["unrelated_cosine"]
    scrambled = xl.translation_report(torch.cat([base, base[[1, 2, 0]]]), ids, langs)
    assert scrambled["retrieval_accuracy"] == 0.0
    with pytest.raises(ValueError, match="pivot"):
        xl.translation_report(aligned, ids, ["fr"] * 6)


def test_balanced_sample_is_balanced_seeded_and_bounded():
    labels = [0] * 90 + [1] * 10
    idx = xl.balanced_sample(labels, 16, seed=1)
    assert len(set(idx)) == 16 and np.bincount(np.array(labels)[idx]).tolist() == [8, 8]
    assert (xl.balanced_sample(labels, 16, seed=1) == idx).all()
    assert not (xl.balanced_sample(labels, 16, seed=2) == idx).all()
    many = xl.balanced_sample(labels, 30)                      # class 1 runs out: take the rest from 0
    assert np.bincount(np.array(labels)[many]).tolist() == [20, 10]
    with pytest.raises(ValueError, match="only 100"):
        xl.balanced_sample(labels, 101)


def test_few_shot_examples_move_the_classifier_towards_the_target():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(200, 2)); ys = (xs[:, 0] > 0).astype(int)          # source: label by feature 0
    xp = rng.normal(size=(200, 2)); yp = (xp[:, 1] > 0).astype(int)          # target: label by feature 1
    xt = rng.normal(size=(200, 2)); yt = (xt[:, 1] > 0).astype(int)
    zero = xl.few_shot_accuracy((xs, ys), (xp, yp), (xt, yt), k=0)
    some = xl.few_shot_accuracy((xs, ys), (xp, yp), (xt, yt), k=64, target_weight=10)
    assert zero < 0.65 and some > 0.8
    predicted = xl.few_shot_predictions((xs, ys), (xp, yp), xt, k=64, target_weight=10)
    assert predicted.shape == yt.shape and np.mean(predicted == yt) == some


def test_few_shot_with_k_zero_is_the_source_only_classifier():
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(100, 3)); ys = (xs[:, 0] > 0).astype(int)
    xp = rng.normal(size=(50, 3)); yp = (xp[:, 1] > 0).astype(int)
    xt = rng.normal(size=(80, 3))
    source_only = xl.fit_logreg(xs, ys).predict(xt)
    assert (xl.few_shot_predictions((xs, ys), (xp, yp), xt, k=0) == source_only).all()


def test_finetune_encoder_trains_all_but_the_word_embeddings():
    before = bertlab.load_encoder("minilm-l6")
    texts = ["a great film", "an awful film", "loved it", "hated it"] * 4
    labels = [1, 0, 1, 0] * 4
    encoder = xl.finetune_encoder("minilm-l6", texts, labels, ["negative", "positive"],
                                  max_steps=2, batch_size=8, lr=1e-3, progress=False, device="cpu")
    assert torch.equal(encoder.embeddings.word_embeddings.weight, before.embeddings.word_embeddings.weight)
    assert not torch.equal(encoder.encoder.layer[0].attention.self.query.weight,
                           before.encoder.layer[0].attention.self.query.weight)
    with pytest.raises(ValueError, match="no training texts"):
        xl.finetune_encoder("minilm-l6", [], [], ["negative", "positive"])
