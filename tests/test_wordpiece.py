"""From-scratch WordPiece equals the library's fast BERT tokenizer."""

import bertlab
from bertlab import wordpiece
from bertlab.models import model_path


def vocab():
    return wordpiece.load_vocab(f"{model_path('minilm-l6')}/vocab.txt")


def test_vocab_has_bert_special_ids():
    v = vocab()
    assert len(v) == 30522
    assert [v[t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")] == [0, 100, 101, 102, 103]


def test_greedy_longest_match_first():
    v = {"un": 0, "##aff": 1, "##able": 2, "##a": 3, "##ff": 4, "[UNK]": 5}
    assert wordpiece.wordpiece("unaffable", v) == ["un", "##aff", "##able"]
    assert wordpiece.wordpiece("unx", v) == ["[UNK]"]


def test_basic_tokenize_lowercases_strips_accents_splits_punctuation_and_cjk():
    assert wordpiece.basic_tokenize("Héllo, World!") == ["hello", ",", "world", "!"]
    assert wordpiece.basic_tokenize("我爱NLP") == ["我", "爱", "nlp"]


def test_matches_library_tokenizer_on_real_reviews():
    tok = bertlab.load_tokenizer("minilm-l6")
    v = vocab()
    texts = list(bertlab.load_dataset("rotten_tomatoes")["test"]["text"])
    texts += list(bertlab.load_dataset("polarity_zh")["test"]["text"])[:200]
    texts += list(bertlab.load_dataset("polarity_de")["test"]["text"])
    assert [wordpiece.tokenize(t, v) for t in texts] == [tok.tokenize(t) for t in texts]


def test_encode_pair_matches_library_ids_and_segments():
    tok = bertlab.load_tokenizer("minilm-l6")
    ours = wordpiece.encode("Is it raining?", vocab(), pair="No, it's sunny 🙂.")
    theirs = tok("Is it raining?", "No, it's sunny 🙂.")
    assert ours["input_ids"] == theirs["input_ids"]
    assert ours["token_type_ids"] == theirs["token_type_ids"]
