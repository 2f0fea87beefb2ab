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


def low_precision_dtypes(device: torch.device | str) -> list[torch.dtype]:
    """Reduced-precision dtypes worth timing on ``device`` (bf16 on CPUs; bf16/fp16 on CUDA)."""
    device = torch.device(device)
    if device.type == "cuda":
        return ([torch.bfloat16] if torch.cuda.is_bf16_supported() else []) + [torch.float16]
    return [torch.bfloat16] if device.type == "cpu" else []


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
