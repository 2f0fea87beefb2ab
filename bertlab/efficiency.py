"""Making a classifier smaller and faster: size, honest latency, quantization, precision, distillation.

Helpers for notebook 08. Timing follows the usual rules: warm up first (lazy initialisation,
caches, CUDA kernels), synchronise the GPU before reading the clock, repeat, report the median.
"""

from __future__ import annotations

import copy
import io
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn


def model_size_mb(model: nn.Module) -> float:
    """Size of the model's ``state_dict`` as ``torch.save`` writes it, in MB (10^6 bytes)."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell() / 1e6


def median_latency(fn: Callable[[], object], warmup: int = 3, repeats: int = 10,
                   device: torch.device | str | None = None) -> dict[str, float]:
    """Median, min and max wall-clock seconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1.")
    cuda = device is not None and torch.device(device).type == "cuda"

    def timed() -> float:
        if cuda:
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize(device)
        return time.perf_counter() - start

    for _ in range(warmup):
        timed()
    times = [timed() for _ in range(repeats)]
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def quantize_int8(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every ``nn.Linear`` dynamically quantized to int8 (CPU inference).

    Weights are stored as int8 with one scale per tensor; activations are quantized on the fly,
    per batch. Embeddings and LayerNorms stay in fp32.
    """
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():  # PyTorch marks the quantized-tensor API as deprecated
        warnings.simplefilter("ignore")
        return quantize_dynamic(copy.deepcopy(model).cpu().eval(), {nn.Linear}, dtype=torch.qint8)


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU computes in bf16 natively (AVX-512 BF16 or AMX); elsewhere it is emulated, slowly.

    Reads the flags in ``/proc/cpuinfo`` (or the ``cpuinfo`` text given); False where there is none.
    """
    if cpuinfo is None:
        try:
            cpuinfo = open("/proc/cpuinfo").read()
        except OSError:        # not Linux: be conservative
            return False
    flags = set(cpuinfo.split())
    return "avx512_bf16" in flags or "amx_bf16" in flags


def low_precision_dtypes(device: torch.device | str) -> list[torch.dtype]:
    """Reduced-precision dtypes worth measuring on ``device``: bf16 (where supported) and fp16 on
    CUDA; bf16 on CPUs with native bf16 units; none on other CPUs (emulated bf16 is slower)."""
    device = torch.device(device)
    if device.type == "cuda":
        return ([torch.bfloat16] if torch.cuda.is_bf16_supported() else []) + [torch.float16]
    if device.type == "cpu":
        return [torch.bfloat16] if cpu_has_native_bf16() else []
    return []


def make_student(teacher: nn.Module, layers: int) -> nn.Module:
    """A smaller copy of a BERT classifier: the same embeddings, head and width, but only
    ``layers`` transformer layers, initialised from evenly spaced teacher layers (as DistilBERT)."""
    config = copy.deepcopy(teacher.config)
    total = config.num_hidden_layers
    if not 1 <= layers <= total:
        raise ValueError(f"a student needs between 1 and {total} layers, got {layers}.")
    keep = [round(i * (total - 1) / max(layers - 1, 1)) for i in range(layers)] if layers > 1 else [total - 1]
    config.num_hidden_layers = layers
    student = type(teacher)(config)
    state = teacher.state_dict()
    base = teacher.base_model_prefix  # "bert"
    renamed = {}
    for key, value in state.items():
        prefix = f"{base}.encoder.layer."
        if key.startswith(prefix):
            index, rest = key[len(prefix):].split(".", 1)
            if int(index) in keep:
                renamed[f"{prefix}{keep.index(int(index))}.{rest}"] = value
        else:
            renamed[key] = value
    student.load_state_dict(renamed)
    return student


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      labels: torch.Tensor | None = None, temperature: float = 2.0,
                      alpha: float = 0.5) -> torch.Tensor:
    """Hinton et al. (2015): ``alpha`` × T² × KL(teacher_T ‖ student_T) + (1 − ``alpha``) × CE(labels).

    Softened distributions (temperature T) carry the teacher's "dark knowledge" about which wrong
    class is less wrong; T² keeps the gradient scale comparable across temperatures. Without
    ``labels``, only the soft term is used.
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}.")
    t = temperature
    soft = nn.functional.kl_div(nn.functional.log_softmax(student_logits / t, -1),
                                nn.functional.log_softmax(teacher_logits / t, -1),
                                log_target=True, reduction="batchmean") * t * t
    if labels is None:
        return soft
    return alpha * soft + (1 - alpha) * nn.functional.cross_entropy(student_logits, labels)


def distill(student: nn.Module, teacher: nn.Module, train_set, tokenizer, temperature: float = 2.0,
            alpha: float = 0.5, **train_kwargs):
    """Train ``student`` on ``train_set`` against the teacher's soft labels (and the true labels,
    weighted by 1 − ``alpha``) with :func:`distillation_loss`.

    The teacher's logits are computed once, up front (the teacher is frozen), and travel with each
    batch as an extra column; the loop itself is :func:`bertlab.finetune.train`, so schedule,
    dynamic padding and length grouping are the same as for ordinary fine-tuning. Other keyword
    arguments (``epochs``, ``lr``, ``val_set``...) go to :func:`~bertlab.finetune.train`.
    """
    from .finetune import predict, train

    if len(train_set) == 0:
        raise ValueError("distill() got an empty training set.")
    teacher_logits = predict(teacher, train_set, tokenizer, device=train_kwargs.get("device"))
    data = train_set.add_column("teacher_logits", teacher_logits.tolist())

    def loss_fn(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        inputs = {k: v for k, v in batch.items() if k not in ("teacher_logits", "labels")}
        logits = model(**inputs).logits
        soft, labels = batch["teacher_logits"], batch["labels"]
        return distillation_loss(logits.float(), soft.float(), labels, temperature, alpha)

    return train(student, data, tokenizer, loss_fn=loss_fn, extra_columns=["teacher_logits"], **train_kwargs)


# --------------------------------------------------------------------------- ONNX
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def onnx_available() -> str | None:
    """``None`` if ONNX export and onnxruntime can be used here, else the reason why not."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401  (the torch.export-based exporter translates through it)
    except ImportError as err:
        return f"{err.name} is not installed (pip install -r requirements.txt)"
    if not hasattr(torch.onnx, "export"):
        return f"torch {torch.__version__} has no torch.onnx.export"
    return None


def export_onnx(model: nn.Module, tokenizer, path, opset: int | None = None):
    """Export a sequence classifier to ONNX with dynamic batch and sequence axes; returns the path.

    Uses the current ``torch.export``-based exporter (``dynamo=True``), traced on a small padded
    batch. The exporter's progress messages are silenced.
    """
    import contextlib
    import io as _io
    import logging
    from pathlib import Path

    reason = onnx_available()
    if reason:
        raise RuntimeError(f"cannot export to ONNX: {reason}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.cpu().eval()
    enc = tokenizer(["an example to trace", "a second, longer example to trace the model"],
                    padding=True, return_tensors="pt")
    names = [k for k in ONNX_INPUTS if k in enc]
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    dynamic = {k: {0: batch, 1: seq} for k in names}
    kwargs = {"opset_version": opset} if opset else {}
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings(), contextlib.redirect_stdout(_io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (), str(path), kwargs={k: enc[k] for k in names}, input_names=names,
                          output_names=["logits"], dynamic_shapes=dynamic, dynamo=True, verbose=False,
                          **kwargs)
    return path


def onnx_session(path, threads: int | None = None):
    """An onnxruntime ``InferenceSession`` on the CPU (optionally with ``threads`` intra-op threads)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_logits(session, enc) -> np.ndarray:
    """Run an onnxruntime session on a tokenized batch (PyTorch or NumPy tensors); returns logits."""
    wanted = [i.name for i in session.get_inputs()]
    feed = {k: np.asarray(enc[k].cpu() if isinstance(enc[k], torch.Tensor) else enc[k], dtype=np.int64)
            for k in wanted}
    return session.run(["logits"], feed)[0]
