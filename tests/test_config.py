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


def test_setup_quiets_seeds_and_prints_profile_and_device_on_one_line(monkeypatch, capsys):
    import transformers

    for var in ("TRANSFORMERS_VERBOSITY", "TOKENIZERS_PARALLELISM", "HF_HUB_DISABLE_PROGRESS_BARS",
                "HF_DATASETS_DISABLE_PROGRESS_BARS"):
        monkeypatch.delenv(var, raising=False)  # restored after the test
    monkeypatch.setenv("BERTLAB_PROFILE", "full")
    monkeypatch.setenv("BERTLAB_DEVICE", "cpu")
    transformers.logging.set_verbosity_info()
    assert config.setup(7) == 7
    said = capsys.readouterr()
    assert said.out == "bertlab: profile full, seed 7\n"  # what nbval compares: the same on every machine
    assert said.err == "bertlab: device cpu\n"  # the machine's device: shown to the reader, not compared
    seeded = torch.rand(3)
    config.seed_everything(7)
    assert torch.equal(seeded, torch.rand(3))  # setup(7) seeded exactly as seed_everything(7)
    assert transformers.logging.get_verbosity() == transformers.logging.ERROR  # quiet() ran
    assert config.setup() == 0 and "seed 0" in capsys.readouterr().out


def test_show_source_prints_the_code_of_a_function(capsys):
    config.show_source(config.pick)
    out = capsys.readouterr().out
    assert out.startswith("def pick(quick: T, full: T) -> T:") and "return quick if profile()" in out


def test_the_names_a_notebook_needs_are_one_import_away():
    import bertlab
    from bertlab import data, inference, models, store

    assert bertlab.setup is config.setup and bertlab.show_source is config.show_source
    assert (bertlab.get_device, bertlab.pick, bertlab.profile, bertlab.seed_everything, bertlab.quiet) == (
        config.get_device, config.pick, config.profile, config.seed_everything, config.quiet)
    assert (bertlab.load_dataset, bertlab.dataset_names) == (data.load_dataset, data.dataset_names)
    assert (bertlab.load_tokenizer, bertlab.load_encoder, bertlab.load_classifier) == (
        models.load_tokenizer, models.load_encoder, models.load_classifier)
    assert (bertlab.predict, bertlab.embed) == (inference.predict, inference.embed)
    assert (bertlab.fetch, bertlab.cache_dir) == (store.fetch, store.cache_dir)


def test_importing_bertlab_prints_nothing_and_writes_nothing(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "BERTLAB_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", "import bertlab"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    assert not (tmp_path / "cache").exists()


def test_seed_everything_says_that_the_hash_seed_reaches_subprocesses_only():
    doc = config.seed_everything.__doc__
    assert "subprocesses" in doc and "not in the running interpreter" in doc
