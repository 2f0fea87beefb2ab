"""Run-time configuration: profile (quick/full), device, seeding, quiet output, notebook set-up."""

from __future__ import annotations

import inspect
import logging
import os
import platform
import random
import sys
import warnings
from typing import TypeVar

import datasets
import numpy as np
import torch
import transformers

PROFILES = ("quick", "full")
T = TypeVar("T")


def profile() -> str:
    """Return ``"quick"`` (default, CPU) or ``"full"`` (GPU): ``$BERTLAB_PROFILE``, set before the kernel."""
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


def get_device() -> torch.device:
    """Return the best available device (CUDA, then Apple MPS, then CPU); ``$BERTLAB_DEVICE`` overrides it."""
    forced = os.environ.get("BERTLAB_DEVICE")
    if forced:
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> int:
    """Seed Python's, NumPy's and torch's (CPU and CUDA) random numbers, and the hashing of subprocesses; return the seed.

    ``PYTHONHASHSEED`` is read once, when an interpreter starts: setting it here fixes ``hash()`` of strings in
    the subprocesses this one starts (data-loader workers, a launched script), not in the running interpreter.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    return seed


def quiet() -> None:
    """Quieten notebook output: library logs to errors only, no download bars (bertlab's own go to stderr)."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="torch")
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    logging.getLogger("matplotlib").setLevel(logging.ERROR)


def describe() -> dict[str, str]:
    """Return a small dict of environment facts (versions, device, profile) for notebooks."""
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "device": str(get_device()),
        "profile": profile(),
        "cpu threads": str(torch.get_num_threads()),
    }


def setup(seed: int = 0) -> int:
    """Start a notebook: quiet library output, seed everything, print profile and seed (the device on stderr)."""
    quiet()
    seed_everything(seed)
    print(f"bertlab: profile {profile()}, seed {seed}")
    print(f"bertlab: device {get_device().type}", file=sys.stderr)  # differs by machine: shown, not compared
    return seed


def show_source(obj: object) -> None:
    """Print the source code of a bertlab function or class, so a notebook shows the real code."""
    print(inspect.getsource(obj).rstrip())
