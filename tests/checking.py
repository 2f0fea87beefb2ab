"""What every exercise-checker test uses: the verdicts a checker may print, and tiny inputs."""

import pytest
import torch

F = torch.nn.functional

# A tiny WordPiece vocabulary: every checked word can be spelled, except "ℵℶℷ".
VOCAB = {w: i for i, w in enumerate(
    "[PAD] [UNK] [CLS] [SEP] [MASK] play p ##l ##a ##y ##i ##n ##g ##ing un ##believ ##ably "
    "token ##ization bert ##lab x".split())}


def flagged(capsys: pytest.CaptureFixture, checker, answer, *extra) -> str:
    """Assert that ``checker`` rejects ``answer`` in the verdict format; return what it printed."""
    assert checker(answer, *extra) is False
    out = capsys.readouterr().out
    assert out.startswith("✘ ")
    return out


def passes(capsys: pytest.CaptureFixture, checker, answer, *extra) -> str:
    """Assert that ``checker`` accepts ``answer`` with a one-line "✔" verdict; return what it printed."""
    assert checker(answer, *extra) is True
    out = capsys.readouterr().out
    assert out.startswith("✔ ") and "hint" not in out
    return out


def stub(*args):
    """What a student copy holds before the learner writes anything (nbgrader's code stub)."""
    raise NotImplementedError()


def unfinished(capsys: pytest.CaptureFixture, checker, *extra) -> str:
    """Assert that ``checker`` meets the stub with a friendly one-liner, no traceback; return it."""
    assert checker(stub, *extra) is False
    out = capsys.readouterr().out
    assert out.startswith("… ") and "not implemented yet" in out and "Traceback" not in out
    return out
