"""bertlab.efficiency: size, latency, int8 quantization, students and distillation loss."""

import pytest
import torch

import bertlab
from bertlab import efficiency


@pytest.fixture(scope="module")
def teacher():
    torch.manual_seed(0)
    return bertlab.load_classifier("minilm-l6").eval()


@pytest.fixture(scope="module")
def batch():
    tok = bertlab.load_tokenizer("minilm-l6")
    return tok(["a wonderful film", "a dull, lifeless film"], padding=True, return_tensors="pt")


def test_size_shrinks_with_int8_and_predictions_stay_close(teacher, batch):
    q = efficiency.quantize_int8(teacher)
    # only the Linear layers (10.6M of 22.7M parameters) shrink 4×; the 30,522 × 384 embedding stays fp32
    ratio = efficiency.model_size_mb(q) / efficiency.model_size_mb(teacher)
    assert 0.5 < ratio < 0.7
    with torch.inference_mode():
        a, b = teacher(**batch).logits, q(**batch).logits
    assert torch.allclose(a, b, atol=0.15)
    assert isinstance(teacher.bert.encoder.layer[0].attention.self.query, torch.nn.Linear)  # original untouched


def test_median_latency_counts_runs():
    calls = []
    out = efficiency.median_latency(lambda: calls.append(1), warmup=2, repeats=5)
    assert len(calls) == 7 and out["min"] <= out["median"] <= out["max"]
    with pytest.raises(ValueError):
        efficiency.median_latency(lambda: None, repeats=0)


def test_low_precision_dtypes_by_device(monkeypatch):
    monkeypatch.setattr(efficiency, "cpu_has_native_bf16", lambda: True)
    assert efficiency.low_precision_dtypes("cpu") == [torch.bfloat16]
    monkeypatch.setattr(efficiency, "cpu_has_native_bf16", lambda: False)
    assert efficiency.low_precision_dtypes("cpu") == []
    assert efficiency.low_precision_dtypes("meta") == []


def test_cpu_bf16_detection_reads_the_cpu_flags():
    assert efficiency.cpu_has_native_bf16("flags\t: fpu avx2 avx512f amx_bf16 amx_tile")
    assert efficiency.cpu_has_native_bf16("flags\t: fpu avx512_bf16")
    assert not efficiency.cpu_has_native_bf16("flags\t: fpu sse avx2 avx512f")      # AVX2/AVX-512 alone: emulated
    assert isinstance(efficiency.cpu_has_native_bf16(), bool)                       # this machine, whatever it has


def test_student_copies_spaced_layers(teacher, batch):
    student = efficiency.make_student(teacher, 2)
    assert student.config.num_hidden_layers == 2 and len(student.bert.encoder.layer) == 2
    assert torch.equal(student.bert.encoder.layer[1].output.dense.weight, teacher.bert.encoder.layer[5].output.dense.weight)
    assert torch.equal(student.bert.embeddings.word_embeddings.weight, teacher.bert.embeddings.word_embeddings.weight)
    assert torch.equal(student.classifier.weight, teacher.classifier.weight)
    assert student(**batch).logits.shape == (2, 2)
    with pytest.raises(ValueError, match="between 1 and 6"):
        efficiency.make_student(teacher, 7)


def test_distillation_loss():
    t = torch.tensor([[2.0, -1.0], [0.5, 0.2]])
    assert efficiency.distillation_loss(t, t).item() == pytest.approx(0.0, abs=1e-6)
    s = torch.zeros(2, 2, requires_grad=True)
    labels = torch.tensor([0, 1])
    loss = efficiency.distillation_loss(s, t, labels, temperature=2.0, alpha=0.5)
    ce = torch.nn.functional.cross_entropy(s, labels)
    assert loss.item() > 0.5 * ce.item()
    loss.backward()
    assert s.grad is not None
    with pytest.raises(ValueError, match="alpha"):
        efficiency.distillation_loss(s, t, labels, alpha=2)


def test_distill_moves_student_towards_teacher(teacher):
    from bertlab import finetune
    import datasets
    tok = bertlab.load_tokenizer("minilm-l6")
    texts = ["a wonderful film", "a dull, lifeless film", "great fun", "boring and long"] * 4
    ds = datasets.Dataset.from_dict({"text": texts, "label": [1, 0, 1, 0] * 4})
    enc = finetune.tokenize_dataset(datasets.DatasetDict(train=ds), tok, 32)["train"]
    import copy
    teacher = copy.deepcopy(teacher)
    teacher.classifier.weight.data *= 30          # a confident teacher, so there is something to learn
    student = efficiency.make_student(teacher, 2)
    with torch.inference_mode():
        t_logits = finetune.predict(teacher, enc, tok)
        before = torch.nn.functional.kl_div(finetune.predict(student, enc, tok).log_softmax(-1),
                                            t_logits.log_softmax(-1), log_target=True, reduction="batchmean")
    result = efficiency.distill(student, teacher, enc, tok, alpha=1.0, epochs=5, lr=1e-4, warmup=0.0, batch_size=8,
                                progress=False, device="cpu")
    after = torch.nn.functional.kl_div(finetune.predict(student, enc, tok).log_softmax(-1),
                                       t_logits.log_softmax(-1), log_target=True, reduction="batchmean")
    assert len(result.step_loss) == 10 and after < 0.5 * before
    with pytest.raises(ValueError, match="empty"):
        efficiency.distill(student, teacher, enc.select([]), tok)


def test_make_loader_rejects_missing_extra_columns():
    from bertlab import finetune
    import datasets
    tok = bertlab.load_tokenizer("minilm-l6")
    ds = finetune.tokenize_dataset(datasets.DatasetDict(train=datasets.Dataset.from_dict(
        {"text": ["a", "b"], "label": [0, 1]})), tok, 8)["train"]
    with pytest.raises(ValueError, match="teacher_logits"):
        finetune.make_loader(ds, tok, extra_columns=["teacher_logits"])


@pytest.mark.skipif(efficiency.onnx_available() is not None, reason="onnx/onnxruntime not installed")
def test_onnx_export_gives_the_same_logits(teacher, batch, tmp_path):
    tok = bertlab.load_tokenizer("minilm-l6")
    path = efficiency.export_onnx(teacher, tok, tmp_path / "model.onnx")
    session = efficiency.onnx_session(path, threads=1)
    other = tok(["one", "a much longer sentence than the ones used for tracing the model"], padding=True,
                return_tensors="pt")
    for enc in (batch, other):
        with torch.inference_mode():
            ref = teacher(**enc).logits.numpy()
        assert abs(efficiency.onnx_logits(session, enc) - ref).max() < 1e-4
