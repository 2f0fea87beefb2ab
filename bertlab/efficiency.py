"""Making a classifier smaller and faster (notebook 08): size, latency, quantization, distillation, ONNX."""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.ao.quantization import quantize_dynamic

from .finetune import train
from .inference import predict


def model_size_mb(model: nn.Module) -> float:
    """Size of the model's ``state_dict`` as ``torch.save`` writes it, in MB (10^6 bytes)."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell() / 1e6


def median_latency(fn: Callable[[], object], warmup: int = 3, repeats: int = 10,
                   device: torch.device | str | None = None) -> dict[str, float]:
    """Median, min and max seconds of ``fn()`` over ``repeats`` runs after ``warmup`` (CUDA synchronised)."""
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
    """Return a CPU copy of ``model`` with every ``nn.Linear`` dynamically quantized to int8."""
    with warnings.catch_warnings():  # PyTorch marks the quantized-tensor API as deprecated
        warnings.simplefilter("ignore")
        return quantize_dynamic(copy.deepcopy(model).cpu().eval(), {nn.Linear}, dtype=torch.qint8)


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU flags (``cpuinfo``, default /proc/cpuinfo) show native bf16 (AVX-512 BF16 or AMX)."""
    if cpuinfo is None:
        try:
            cpuinfo = open("/proc/cpuinfo").read()
        except OSError:        # not Linux: be conservative
            return False
    flags = set(cpuinfo.split())
    return "avx512_bf16" in flags or "amx_bf16" in flags


def low_precision_dtypes(device: torch.device | str) -> list[torch.dtype]:
    """Low-precision dtypes worth timing on ``device``: CUDA bf16 (if supported), fp16; CPU bf16 if native."""
    device = torch.device(device)
    if device.type == "cuda":
        return ([torch.bfloat16] if torch.cuda.is_bf16_supported() else []) + [torch.float16]
    if device.type == "cpu":
        return [torch.bfloat16] if cpu_has_native_bf16() else []
    return []


def make_student(teacher: nn.Module, layers: int) -> nn.Module:
    """Return a ``layers``-layer copy of a BERT classifier, initialised from evenly spaced teacher layers."""
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
    """Hinton et al. (2015): ``alpha``·T²·KL(teacher_T ‖ student_T) + (1 − ``alpha``)·CE(``labels``)."""
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}.")
    t = temperature
    soft = nn.functional.kl_div(nn.functional.log_softmax(student_logits / t, -1),
                                nn.functional.log_softmax(teacher_logits / t, -1),
                                log_target=True, reduction="batchmean") * t * t
    if labels is None:
        return soft
    return alpha * soft + (1 - alpha) * nn.functional.cross_entropy(student_logits, labels)


def distill(student: nn.Module, tokenizer, train_set, teacher: nn.Module, temperature: float = 2.0,
            alpha: float = 0.5, **train_kwargs):
    """Train ``student`` on ``teacher``'s soft labels (:func:`distillation_loss`) with ``finetune.train``."""
    if len(train_set) == 0:
        raise ValueError("distill() got an empty training set.")
    teacher_logits = predict(teacher, tokenizer, train_set, batch_size=128, device=train_kwargs.get("device"))
    data = train_set.add_column("teacher_logits", teacher_logits.tolist())

    def loss_fn(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        inputs = {k: v for k, v in batch.items() if k not in ("teacher_logits", "labels")}
        logits = model(**inputs).logits
        soft, labels = batch["teacher_logits"], batch["labels"]
        return distillation_loss(logits.float(), soft.float(), labels, temperature, alpha)

    return train(student, tokenizer, data, loss_fn=loss_fn, extra_columns=["teacher_logits"], **train_kwargs)


# --------------------------------------------------------------------------- ONNX
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def onnx_available() -> str | None:
    """``None`` if ONNX export and onnxruntime can be used here, else the reason why not."""
    try:  # optional: only the ONNX step of notebook 08 needs these three packages
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401  (the torch.export-based exporter translates through it)
    except ImportError as err:
        return f"{err.name} is not installed (pip install -r requirements.txt)"
    if not hasattr(torch.onnx, "export"):
        return f"torch {torch.__version__} has no torch.onnx.export"
    return None


def export_onnx(model: nn.Module, tokenizer, path, opset: int | None = None):
    """Export a sequence classifier to ONNX with dynamic batch and sequence axes; return the path."""
    reason = onnx_available()
    if reason:
        raise RuntimeError(f"cannot export to ONNX: {reason}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = copy.deepcopy(model).cpu().eval()  # a CPU copy: the caller's model stays on its device
    enc = tokenizer(["an example to trace", "a second, longer example to trace the model"],
                    padding=True, return_tensors="pt")
    names = [k for k in ONNX_INPUTS if k in enc]
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    dynamic = {k: {0: batch, 1: seq} for k in names}
    kwargs = {"opset_version": opset} if opset else {}
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (), str(path), kwargs={k: enc[k] for k in names}, input_names=names,
                          output_names=["logits"], dynamic_shapes=dynamic, dynamo=True, verbose=False,
                          **kwargs)
    return path


def onnx_session(path, threads: int | None = None):
    """An onnxruntime ``InferenceSession`` on the CPU (optionally with ``threads`` intra-op threads)."""
    import onnxruntime as ort  # optional, see onnx_available()

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
