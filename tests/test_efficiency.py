"""bertlab.efficiency: size, latency, int8 quantization, bf16 detection, students and distillation."""

import copy
import io

import datasets
import pytest
import torch

import bertlab
from bertlab import efficiency, finetune


@pytest.fixture(scope="module")
def teacher():
    torch.manual_seed(0)
    return bertlab.load_classifier("minilm-l6", labels=["negative", "positive"]).eval()


@pytest.fixture(scope="module")
def batch():
    tok = bertlab.load_tokenizer("minilm-l6")
    return tok(["a wonderful film", "a dull, lifeless film"], padding=True, return_tensors="pt")


def test_int8_shrinks_the_linear_layers_and_keeps_what_sentences_mean(teacher):
    q = efficiency.quantize_int8(teacher)
    # only the Linear layers (10.6M of 22.7M parameters) shrink 4×; the 30,522 × 384 embedding stays fp32
    ratio = efficiency.model_size_mb(q) / efficiency.model_size_mb(teacher)
    assert 0.5 < ratio < 0.7
    assert isinstance(teacher.bert.encoder.layer[0].attention.self.query, torch.nn.Linear)  # original untouched
    assert not isinstance(q.bert.encoder.layer[0].attention.self.query, torch.nn.Linear)
    tok = bertlab.load_tokenizer("minilm-l6")
    texts = ["a wonderful film", "a dull, lifeless film", "the stock market fell sharply today",
             "a great movie with fine acting"]
    fp32, int8 = bertlab.embed(teacher.bert, tok, texts), bertlab.embed(q.bert, tok, texts)
    # quantization noise is smaller than the difference between sentences: each int8 vector's
    # nearest fp32 vector is the same sentence's, by a clear margin
    sim = int8 @ fp32.T
    own, others = sim.diagonal(), sim.masked_fill(torch.eye(len(texts), dtype=torch.bool), -1).max(1).values
    assert (own > 0.85).all() and (own - others > 0.1).all(), sim


def test_median_latency_reports_the_timed_runs_after_the_warm_up(monkeypatch):
    durations = iter([9.0, 8.0, 3.0, 1.0, 2.0, 5.0, 4.0])  # two slow warm-up runs, then five timed ones
    clock = [0.0]
    monkeypatch.setattr(efficiency.time, "perf_counter", lambda: clock[0])

    def run():
        clock[0] += next(durations)

    assert efficiency.median_latency(run, warmup=2, repeats=5) == {"median": 3.0, "min": 1.0, "max": 5.0}
    with pytest.raises(StopIteration):
        run()  # every planned run happened: 2 + 5
    with pytest.raises(ValueError):
        efficiency.median_latency(lambda: None, repeats=0)


def test_low_precision_dtypes_by_device(monkeypatch):
    monkeypatch.setattr(efficiency, "cpu_has_native_bf16", lambda: True)
    assert efficiency.low_precision_dtypes("cpu") == [torch.bfloat16]
    monkeypatch.setattr(efficiency, "cpu_has_native_bf16", lambda: False)
    assert efficiency.low_precision_dtypes("cpu") == []
    assert efficiency.low_precision_dtypes("meta") == []


def cpuinfo(model_name: str, flags: str, processors: int = 2) -> str:
    """A /proc/cpuinfo text as Linux writes it: one block per logical processor."""
    return "".join(f"processor\t: {i}\nvendor_id\t: {'AuthenticAMD' if 'AMD' in model_name else 'GenuineIntel'}\n"
                   f"model name\t: {model_name}\nflags\t\t: {flags}\nbogomips\t: 4000.00\n\n"
                   for i in range(processors))


COMMON = ("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 "
          "ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology cpuid pni pclmulqdq ssse3 fma "
          "cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm "
          "3dnowprefetch fsgsbase bmi1 avx2 smep bmi2 erms invpcid")
AVX512 = "avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl"
CPUS = {  # model name, flags (abridged, in the kernel's order), native bf16?
    "Sapphire Rapids (AMX)": ("Intel(R) Xeon(R) Platinum 8480+",
                              f"{COMMON} {AVX512} xsaveopt avx_vnni avx512_bf16 wbnoinvd avx512vbmi umip pku "
                              "avx512_vbmi2 gfni vaes avx512_vnni avx512_bitalg avx512_vpopcntdq "
                              "amx_bf16 avx512_fp16 amx_tile amx_int8", True),
    "Cooper Lake": ("Intel(R) Xeon(R) Platinum 8380HL CPU @ 2.90GHz",
                    f"{COMMON} {AVX512} xsaveopt avx512_bf16 avx512_vnni", True),
    "AMD Zen 4": ("AMD EPYC 9654 96-Core Processor",
                  f"{COMMON} {AVX512} xsaveopt avx512_bf16 clzero avx512vbmi avx512_vbmi2 avx512_vnni", True),
    "Ice Lake (AVX-512, no bf16)": ("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz",
                                    f"{COMMON} {AVX512} xsaveopt avx512vbmi avx512_vbmi2 avx512_vnni", False),
    "AMD Zen 3 (AVX2 only)": ("AMD EPYC 7R13 Processor", f"{COMMON} clzero xsaveerptr wbnoinvd", False),
}


@pytest.mark.parametrize("cpu", CPUS)
def test_cpu_bf16_detection_reads_the_cpu_flags(cpu):
    model_name, flags, native = CPUS[cpu]
    assert efficiency.cpu_has_native_bf16(cpuinfo(model_name, flags)) is native


def test_cpu_bf16_detection_is_false_without_x86_flags():
    arm = "processor\t: 0\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\n"
    assert efficiency.cpu_has_native_bf16(arm) is False
    assert efficiency.cpu_has_native_bf16("") is False


def test_cpu_bf16_detection_reads_proc_cpuinfo_by_default(monkeypatch):
    def fake_open(path, *args, **kwargs):
        assert path == "/proc/cpuinfo"
        return io.StringIO(cpuinfo(*CPUS["Sapphire Rapids (AMX)"][:2]))

    monkeypatch.setattr(efficiency, "open", fake_open, raising=False)
    assert efficiency.cpu_has_native_bf16() is True

    def no_procfs(path, *args, **kwargs):
        raise FileNotFoundError(path)  # macOS, Windows

    monkeypatch.setattr(efficiency, "open", no_procfs, raising=False)
    assert efficiency.cpu_has_native_bf16() is False


def test_student_copies_spaced_layers(teacher, batch):
    student = efficiency.make_student(teacher, 2)
    assert student.config.num_hidden_layers == 2 and len(student.bert.encoder.layer) == 2
    assert torch.equal(student.bert.encoder.layer[1].output.dense.weight, teacher.bert.encoder.layer[5].output.dense.weight)
    assert torch.equal(student.bert.embeddings.word_embeddings.weight, teacher.bert.embeddings.word_embeddings.weight)
    assert torch.equal(student.classifier.weight, teacher.classifier.weight)
    assert student(**batch).logits.shape == (2, 2)
    with pytest.raises(ValueError, match="between 1 and 6"):
        efficiency.make_student(teacher, 7)


def test_distillation_loss_is_hintons_soft_kl_times_t_squared_plus_hard_cross_entropy():
    t = torch.tensor([[2.0, -1.0, 0.0], [0.5, 0.2, -0.3]])
    s = torch.tensor([[0.1, 0.4, -0.2], [1.0, -1.0, 0.0]], requires_grad=True)
    labels = torch.tensor([0, 2])
    T = 2.0
    p_t, log_p_s = (t / T).softmax(-1), (s / T).log_softmax(-1)
    soft = (p_t * (p_t.log() - log_p_s)).sum(-1).mean() * T * T   # KL(teacher_T || student_T) × T²
    hard = torch.nn.functional.cross_entropy(s, labels)
    loss = efficiency.distillation_loss(s, t, labels, temperature=T, alpha=0.3)
    assert loss.item() == pytest.approx((0.3 * soft + 0.7 * hard).item(), rel=1e-5)
    assert efficiency.distillation_loss(s, t, temperature=T).item() == pytest.approx(soft.item(), rel=1e-5)
    assert efficiency.distillation_loss(s, t, labels, alpha=0.0).item() == pytest.approx(hard.item(), rel=1e-5)
    assert efficiency.distillation_loss(t, t, labels, alpha=1.0).item() == pytest.approx(0.0, abs=1e-6)
    loss.backward()
    assert s.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="alpha"):
        efficiency.distillation_loss(s, t, labels, alpha=2)


def test_distill_moves_student_towards_teacher(teacher):
    tok = bertlab.load_tokenizer("minilm-l6")
    texts = ["a wonderful film", "a dull, lifeless film", "great fun", "boring and long"] * 4
    ds = datasets.Dataset.from_dict({"text": texts, "label": [1, 0, 1, 0] * 4})
    enc = finetune.tokenize_dataset(tok, ds, 32)
    teacher = copy.deepcopy(teacher)
    teacher.classifier.weight.data *= 30          # a confident teacher, so there is something to learn
    student = efficiency.make_student(teacher, 2)
    t_logits = bertlab.predict(teacher, tok, enc)

    def gap():  # KL(teacher || student), averaged over the examples
        s_logits = bertlab.predict(student, tok, enc)
        return torch.nn.functional.kl_div(s_logits.log_softmax(-1), t_logits.log_softmax(-1),
                                          log_target=True, reduction="batchmean").item()

    before = gap()
    result = efficiency.distill(student, tok, enc, teacher, alpha=1.0, epochs=5, lr=1e-4, warmup=0.0,
                                batch_size=8, progress=False, device="cpu")
    assert len(result.step_loss) == 10 and gap() < 0.5 * before
    assert "teacher_logits" not in enc.column_names  # the caller's dataset is left as it was
    with pytest.raises(ValueError, match="empty"):
        efficiency.distill(student, tok, enc.select([]), teacher)


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
