"""Run-time configuration: profiles, device choice, seeding."""

import pytest
import torch

from bertlab import config


def test_profile_defaults_to_quick(monkeypatch):
    monkeypatch.delenv("BERTLAB_PROFILE", raising=False)
    assert config.profile() == "quick"
    assert config.pick(quick=1, full=2) == 1


def test_full_profile_changes_sizes_only(monkeypatch):
    monkeypatch.setenv("BERTLAB_PROFILE", "FULL")
    assert config.profile() == "full"
    assert config.pick(quick=1, full=2) == 2


def test_unknown_profile_is_rejected_with_the_valid_names(monkeypatch):
    monkeypatch.setenv("BERTLAB_PROFILE", "fast")
    with pytest.raises(ValueError, match="quick, full"):
        config.profile()


def test_device_can_be_forced(monkeypatch):
    monkeypatch.setenv("BERTLAB_DEVICE", "cpu")
    assert config.get_device() == torch.device("cpu")


def test_seed_everything_makes_torch_and_numpy_reproducible():
    import numpy as np

    config.seed_everything(123)
    a = torch.rand(3), np.random.rand(3)
    config.seed_everything(123)
    b = torch.rand(3), np.random.rand(3)
    assert torch.equal(a[0], b[0]) and (a[1] == b[1]).all()
