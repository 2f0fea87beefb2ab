"""The from-scratch encoder loads pretrained BERT weights and matches transformers.BertModel."""

import pytest
import torch

import bertlab
from bertlab import encoder


@pytest.fixture(scope="module")
def minilm():
    model = bertlab.load_encoder("minilm-l6")
    return bertlab.load_tokenizer("minilm-l6"), model, encoder.Encoder.from_hf(model)


def test_hidden_states_match_bertmodel_at_every_layer_with_padding(minilm):
    tok, model, scratch = minilm
    batch = tok(["one", "two words", "a much longer third sentence, with a comma"], padding=True,
                return_tensors="pt")
    with torch.inference_mode():
        ours, theirs = scratch(**batch), model(**batch, output_hidden_states=True)
    real = batch["attention_mask"].bool()
    assert len(ours.hidden_states) == len(theirs.hidden_states) == 7
    for o, t in zip(ours.hidden_states, theirs.hidden_states):
        assert torch.allclose(o[real], t[real], atol=1e-5)
    assert torch.allclose(ours.pooled, theirs.pooler_output, atol=1e-5)


def test_sentence_pairs_use_segment_embeddings(minilm):
    tok, model, scratch = minilm
    batch = tok("first segment", "second segment", return_tensors="pt")
    assert batch["token_type_ids"].sum() > 0
    with torch.inference_mode():
        assert torch.allclose(scratch(**batch).last_hidden_state, model(**batch).last_hidden_state, atol=1e-5)


def test_causal_mask_hides_the_future(minilm):
    tok, _, scratch = minilm
    batch = tok(["the bank of the river", "the bank of the casino"], return_tensors="pt")
    with torch.inference_mode():
        causal = scratch(**batch, mask="causal").last_hidden_state
        full = scratch(**batch, mask="bidirectional").last_hidden_state
    assert torch.allclose(causal[0, :4], causal[1, :4], atol=1e-6)  # [CLS] the bank of
    assert not torch.allclose(full[0, :4], full[1, :4], atol=1e-3)


def test_unknown_mask_kind_is_rejected(minilm):
    tok, _, scratch = minilm
    with pytest.raises(ValueError, match="bidirectional"):
        scratch(**tok("x", return_tensors="pt"), mask="sideways")


def test_too_long_input_says_how_to_fix_it():
    enc = encoder.Encoder(encoder.EncoderConfig(vocab_size=10, hidden_size=8, num_layers=1, num_heads=2,
                                                intermediate_size=16, max_position=4))
    with pytest.raises(ValueError, match="truncat"):
        enc(torch.zeros(1, 5, dtype=torch.long))


def test_parameter_breakdown_adds_up_to_the_model_size(minilm):
    _, model, scratch = minilm
    parts = encoder.parameter_breakdown(model)
    assert sum(parts.values()) == sum(p.numel() for p in model.parameters())
    assert parts == encoder.parameter_breakdown(scratch)
    assert parts["embeddings"] == (30522 + 512 + 2) * 384
