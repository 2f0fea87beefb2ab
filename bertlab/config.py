"""Run-time configuration: profile (quick/full), device, seeding and quiet output."""

from __future__ import annotations

import logging
import os
import random
import warnings
from typing import TypeVar

import numpy as np

PROFILES = ("quick", "full")
T = TypeVar("T")


def profile() -> str:
    """Return the active profile, ``"quick"`` (default; CPU, minutes) or ``"full"`` (GPU).

    Set it with the environment variable ``BERTLAB_PROFILE`` before starting the kernel.
    """
    value = os.environ.get("BERTLAB_PROFILE", "quick").strip().lower() or "quick"
    if value not in PROFILES:
        raise ValueError(
            f"BERTLAB_PROFILE={value!r} is not a profile bertlab knows; "
            f"use one of {', '.join(PROFILES)} (e.g. `BERTLAB_PROFILE=full make lab`)."
        )
    return value


def pick(quick: T, full: T) -> T:
    """Return ``quick`` or ``full`` according to the active profile (sizes only, never code paths)."""
    return quick if profile() == "quick" else full


def get_device() -> "torch.device":  # noqa: F821 - torch imported lazily
    """Return the best available device: CUDA, then Apple MPS, then CPU.

    ``BERTLAB_DEVICE`` (e.g. ``cpu``) overrides the choice.
    """
    import torch

    forced = os.environ.get("BERTLAB_DEVICE")
    if forced:
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy and torch (CPU and CUDA) so runs are reproducible; return the seed."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    return seed


def quiet() -> None:
    """Make notebook output quiet and stable: library logging to errors only, no download bars.

    tqdm bars that bertlab itself shows go to stderr, which nbval does not compare.
    """
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="torch")
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a hard dependency
        pass
    try:
        import datasets

        datasets.logging.set_verbosity_error()
        datasets.disable_progress_bars()
    except ImportError:  # pragma: no cover
        pass
    logging.getLogger("matplotlib").setLevel(logging.ERROR)


def describe() -> dict[str, str]:
    """Return a small dict of environment facts (versions, device, profile) for notebooks."""
    import platform

    import datasets
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "device": str(get_device()),
        "profile": profile(),
        "cpu threads": str(torch.get_num_threads()),
    }
