"""Bad inputs get a one-sentence TypeError/ValueError that names the problem and the fix.

A specification, one test per bad input: the exception type, the words of the message that name the
problem, and that the message is one sentence (not a traceback from deep inside datasets or torch).
"""

import re

import datasets
import pytest

import bertlab
from bertlab import finetune

SENTIMENT = ["negative", "positive"]


@pytest.fixture(scope="module")
def encoder():
    """MiniLM's encoder (no head), from the real cache."""
    return bertlab.load_encoder("minilm-l6")


@pytest.fixture(scope="module")
def reviews(tok):
    """Two tokenized reviews with labels 0 and 1: valid training data for a 2-class classifier."""
    raw = datasets.Dataset.from_dict({"text": ["good", "bad"], "label": [0, 1]})
    return finetune.tokenize_dataset(tok, raw, max_length=16)


def assert_one_sentence(err: pytest.ExceptionInfo) -> None:
    """The message is one line and one sentence: it ends in a full stop and starts no second sentence."""
    message = str(err.value)
    assert "\n" not in message and message.endswith("."), message
    assert not re.search(r"\.\s+[A-Z]", message), f"more than one sentence: {message}"


def refuse_to_train(*args, **kwargs):
    """Stands in for the optimizer (or Trainer): reaching it means training began before the data was checked."""
    raise AssertionError("training began before the data was checked")


# --------------------------------------------------------------------------- texts that are not strings
@pytest.mark.parametrize("entry, says", [(None, r"is None, not a string: .*missing texts"),
                                         (3, r"is the int 3, not a string")], ids=["None", "a number"])
@pytest.mark.parametrize("run", [
    lambda request, texts: bertlab.predict(request.getfixturevalue("classifier"), request.getfixturevalue("tok"), texts),
    lambda request, texts: bertlab.embed(request.getfixturevalue("encoder"), request.getfixturevalue("tok"), texts),
], ids=["predict", "embed"])
def test_predict_and_embed_name_the_entry_that_is_not_a_text(request, run, entry, says):
    with pytest.raises(TypeError, match=rf"entry 1 of the texts {says}") as err:
        run(request, ["good", entry])
    assert_one_sentence(err)


def test_a_single_string_is_not_a_list_of_texts(classifier, tok):
    with pytest.raises(TypeError, match=r"must be a list of strings, got the single string 'good': "
                                        r"wrap it in a list, \['good'\]") as err:
        bertlab.predict(classifier, tok, "good")  # would otherwise score 'g', 'o', 'o', 'd'
    assert_one_sentence(err)


def test_tokenize_dataset_names_a_missing_text(tok):
    ds = datasets.Dataset.from_dict({"text": ["good", None], "label": [0, 1]})
    with pytest.raises(TypeError, match=r"entry 1 of the 'text' column is None, not a string: .*ds\.filter") as err:
        finetune.tokenize_dataset(tok, ds)
    assert_one_sentence(err)


def test_tokenize_dataset_names_texts_that_are_numbers_and_their_split(tok):
    ds = datasets.DatasetDict(train=datasets.Dataset.from_dict({"text": [3, 4], "label": [0, 1]}))
    with pytest.raises(TypeError, match=r"entry 0 of the 'text' column of split 'train' is the int 3") as err:
        finetune.tokenize_dataset(tok, ds)
    assert_one_sentence(err)


def test_tokenize_dataset_given_a_plain_list_says_how_to_make_a_dataset(tok):
    with pytest.raises(TypeError, match=r"needs a datasets\.Dataset or DatasetDict, got the list .*"
                                        r"Dataset\.from_dict") as err:
        finetune.tokenize_dataset(tok, ["good", None])
    assert_one_sentence(err)


# --------------------------------------------------------------------------- nothing to score
def test_predict_on_an_empty_split(classifier, tok):
    empty = finetune.tokenize_dataset(tok, datasets.Dataset.from_dict({"text": ["good"], "label": [1]}).select([]))
    with pytest.raises(ValueError, match=r"got no inputs: the dataset has no rows .*non-empty split") as err:
        bertlab.predict(classifier, tok, empty)
    assert_one_sentence(err)


def test_predict_on_an_empty_list(classifier, tok):
    with pytest.raises(ValueError, match=r"got no inputs: pass a non-empty list of texts") as err:
        bertlab.predict(classifier, tok, [])
    assert_one_sentence(err)


# --------------------------------------------------------------------------- not a model, tokenizer or texts
def test_embed_with_a_number_for_the_model(tok):
    with pytest.raises(TypeError, match=r"embed\(\) needs a PyTorch model as its first argument, got the int 12345: "
                                        r"call embed\(model, tokenizer, \.\.\.\)") as err:
        bertlab.embed(12345, tok, ["good"])
    assert_one_sentence(err)


def test_embed_with_the_tokenizer_and_model_swapped(encoder, tok):
    with pytest.raises(TypeError, match=r"embed\(\) needs a PyTorch model .*got a \w*Tokenizer\w* object") as err:
        bertlab.embed(tok, encoder, ["good"])
    assert_one_sentence(err)


def test_predict_with_a_model_name_instead_of_a_model(tok):
    with pytest.raises(TypeError, match=r"predict\(\) needs a PyTorch model .*got the str 'minilm-l6'.*"
                                        r"load_classifier") as err:
        bertlab.predict("minilm-l6", tok, ["good"])
    assert_one_sentence(err)


def test_embed_with_a_number_for_the_texts(encoder, tok):
    with pytest.raises(TypeError, match=r"the texts must be a list of strings, got the int 12345") as err:
        bertlab.embed(encoder, tok, 12345)
    assert_one_sentence(err)


def test_predict_without_a_tokenizer(classifier):
    with pytest.raises(TypeError, match=r"the tokenizer must be a transformers tokenizer, got None: "
                                        r".*load_tokenizer") as err:
        bertlab.predict(classifier, None, ["good"])
    assert_one_sentence(err)


def test_predict_with_an_encoder_asks_for_a_classifier(encoder, tok):
    with pytest.raises(TypeError, match=r"predict\(\) needs a classifier, but BertModel returns no logits") as err:
        bertlab.predict(encoder, tok, ["good"])
    assert_one_sentence(err)


def test_embed_with_a_classifier_asks_for_an_encoder(classifier, tok):
    with pytest.raises(TypeError, match=r"embed\(\) needs an encoder, .* no last_hidden_state") as err:
        bertlab.embed(classifier, tok, ["good"])
    assert_one_sentence(err)


# --------------------------------------------------------------------------- datasets without a text column
NO_TEXT = datasets.Dataset.from_dict({"sentence": ["good", "bad"], "label": [0, 1]})


def test_tokenize_dataset_without_a_text_column(tok):
    with pytest.raises(ValueError, match=r"needs a 'text' column, but the data has \['sentence', 'label'\]: "
                                         r"rename yours with ds\.rename_column") as err:
        finetune.tokenize_dataset(tok, NO_TEXT)
    assert_one_sentence(err)


def test_make_loader_without_a_text_column(tok):
    with pytest.raises(ValueError, match=r"has no 'text' column \(columns: \['sentence', 'label'\]\): "
                                         r"rename yours") as err:
        finetune.make_loader(tok, NO_TEXT)
    assert_one_sentence(err)


def test_make_loader_on_texts_that_are_not_tokenized_yet(tok):
    raw = datasets.Dataset.from_dict({"text": ["good", "bad"], "label": [0, 1]})
    with pytest.raises(ValueError, match=r"is not tokenized .*tokenize it first with "
                                         r"finetune\.tokenize_dataset") as err:
        finetune.make_loader(tok, raw)
    assert_one_sentence(err)


def test_train_without_a_text_column(classifier, tok, monkeypatch):
    monkeypatch.setattr(finetune, "make_optimizer", refuse_to_train)
    with pytest.raises(ValueError, match=r"train_set has no 'text' column \(columns: \['sentence', 'label'\]\)") as err:
        finetune.train(classifier, tok, NO_TEXT, device="cpu", progress=False)
    assert_one_sentence(err)


# --------------------------------------------------------------------------- labels, checked before any training step
def test_validation_labels_out_of_range_fail_before_any_training_step(classifier, tok, reviews, monkeypatch):
    raw = datasets.Dataset.from_dict({"text": ["ok", "meh"], "label": [1, 2]})
    bad_validation = finetune.tokenize_dataset(tok, raw)
    monkeypatch.setattr(finetune, "make_optimizer", refuse_to_train)
    with pytest.raises(ValueError, match=r"Label 2 is out of range for a classifier with 2 classes \(0\.\.1\) "
                                         r"at row 1 of eval_set: .*labels=") as err:
        finetune.train(classifier, tok, reviews, eval_set=bad_validation, device="cpu", progress=False)
    assert_one_sentence(err)


def test_validation_labels_out_of_range_fail_before_the_trainer_starts(classifier, tok, reviews, monkeypatch):
    raw = datasets.Dataset.from_dict({"text": ["ok", "meh"], "label": [5, 0]})
    bad_validation = finetune.tokenize_dataset(tok, raw)
    monkeypatch.setattr(finetune, "Trainer", refuse_to_train)
    with pytest.raises(ValueError, match=r"Label 5 is out of range .* at row 0 of eval_set") as err:
        finetune.train_with_trainer(classifier, tok, reviews, eval_set=bad_validation, progress=False)
    assert_one_sentence(err)


def test_class_names_instead_of_label_ids(classifier, tok, monkeypatch):
    named = finetune.tokenize_dataset(tok, datasets.Dataset.from_dict({"text": ["good", "bad"],
                                                                       "label": ["positive", "negative"]}))
    monkeypatch.setattr(finetune, "make_optimizer", refuse_to_train)
    with pytest.raises(TypeError, match=r"the labels of train_set must be integer class ids, got the str "
                                        r"'positive': .*class_encode_column") as err:
        finetune.train(classifier, tok, named, device="cpu", progress=False)
    assert_one_sentence(err)


def test_validation_set_without_labels(classifier, tok, reviews, monkeypatch):
    unlabelled = reviews.remove_columns("label")
    monkeypatch.setattr(finetune, "make_optimizer", refuse_to_train)
    with pytest.raises(ValueError, match=r"eval_set has no 'label' column") as err:
        finetune.train(classifier, tok, reviews, eval_set=unlabelled, device="cpu", progress=False)
    assert_one_sentence(err)


# --------------------------------------------------------------------------- class names for a new head
def test_load_classifier_with_one_string_for_the_labels():
    with pytest.raises(ValueError, match=r"labels must be a list .* got 'positive', a single string: "
                                         r"pass a list of every class name") as err:
        bertlab.load_classifier("minilm-l6", labels="positive")
    assert_one_sentence(err)


def test_load_classifier_with_label_ids_instead_of_names():
    with pytest.raises(TypeError, match=r"entry 0 of labels is the int 0, not a string: "
                                        r"pass the class names as strings") as err:
        bertlab.load_classifier("minilm-l6", labels=[0, 1])
    assert_one_sentence(err)
