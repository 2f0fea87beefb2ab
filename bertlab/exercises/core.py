"""The machinery every exercise checker shares: run cases, compare, explain the first failure.

Each ``check_*`` runs your function on a few cases, prints ``✔ ...`` or the first failing case
(``✘ ...``) with a hint for the usual mistake, and returns True/False: a wrong answer, or one
that raises, never stops the notebook. A function that still raises ``NotImplementedError``
(the stub in a student copy) is met with a friendly "not implemented yet", not a traceback.

Every checker is a table for :func:`check`. A case is ``(args, expect, hint)``: ``expect`` is the
right answer, or a test ``expect(got)`` that returns ``""`` when ``got`` is right and otherwise
says what is wrong (a string, or ``(what, hint)``). ``mistakes`` lists the usual wrong answers,
``(test(got, want, args), what, hint)``, so that they get their own hint.
"""

from __future__ import annotations

import torch

__all__ = [
    "report",
    "not_implemented",
    "show",
    "same",
    "diagnose",
    "wrong_shape",
    "attempt",
    "check",
    "check_choice",
    "UNMET",
]

F = torch.nn.functional


def report(ok: bool, what: str, hint: str = "") -> bool:
    """Print a one-line verdict (and a hint when wrong); return ``ok``."""
    print(f"✔ {what}" if ok else f"✘ {what}" + (f"\n  hint: {hint}" if hint else ""))
    return ok


def not_implemented(name: str) -> bool:
    """Say, without a traceback, that an exercise's function is still the stub; return False."""
    name = name.split("(")[0]
    print(f"… {name} is not implemented yet: replace `raise NotImplementedError()` with your code, "
          "then run this cell again.")
    return False


def show(x, width: int = 120) -> str:
    """A short description of a value: small tensors by value, big ones by shape."""
    if isinstance(x, torch.Tensor):
        if x.numel() > 16:
            return f"<tensor of shape {list(x.shape)}>"
        x = x.detach()
        return str(x.double().round(decimals=4).tolist() if x.is_floating_point() else x.int().tolist())
    if isinstance(x, float):
        return f"{x:.6g}"
    if isinstance(x, (list, tuple)):
        text = ", ".join(show(v, width) for v in x)
        text = f"[{text}]" if isinstance(x, list) else f"({text})"
    else:
        text = repr(x)
    if len(text) <= width:
        return text
    return f"<{type(x).__name__} of {len(x)}>" if hasattr(x, "__len__") else f"<{type(x).__name__}>"


def same(got, want, tol: float = 1e-6) -> bool:
    """Whether ``got`` equals ``want``: numbers and tensors within ``tol``, containers element-wise."""
    try:
        if isinstance(want, torch.Tensor):
            got = torch.as_tensor(got)
            if want.dtype == torch.bool and got.dtype != torch.bool:
                return False
            return got.shape == want.shape and torch.allclose(got.double(), want.double(), atol=tol)
        if isinstance(want, (list, tuple)):
            return len(got) == len(want) and all(same(g, w, tol) for g, w in zip(got, want))
        if isinstance(want, (int, float)):
            return abs(float(got) - want) <= tol
        return got == want
    except Exception:  # got is not even the right kind of thing
        return False


def diagnose(got, want, args, hint: str, mistakes) -> tuple[str, str]:
    """What is wrong with ``got``: the first matching known mistake, else a plain comparison."""
    plain = f"gave {show(got, 160)}, expected {show(want, 160)}"
    if isinstance(got, torch.Tensor) and isinstance(want, torch.Tensor) and got.shape != want.shape:
        plain = f"has shape {list(got.shape)}, expected {list(want.shape)}"
    elif show(got) == show(want):
        plain = "gave values that are off"
    for test, what, why in mistakes:
        try:
            if test(got, want, args):
                return what.format(got=got, want=want) if what else plain, why
        except Exception:  # this mistake's test does not apply to got
            pass
    return plain, hint


def wrong_shape(got, want, args) -> bool:
    """The usual first mistake with tensors (for ``mistakes``)."""
    return got.shape != want.shape


UNMET = object()   # what attempt() returns when the learner's function gave no answer to check


def attempt(fn, args: tuple, name: str, call: str, hint: str = ""):
    """Call the learner's ``fn(*args)``; for the stub or an error print the verdict and return ``UNMET``."""
    try:
        return fn(*args)
    except NotImplementedError:  # the student copy's stub: nothing written yet
        not_implemented(name)
    except Exception as err:  # a learner's bug: report it instead of crashing the notebook
        report(False, f"{call} raised {type(err).__name__}: {err}", hint)
    return UNMET


def check(fn, name: str, cases, passed, mistakes=(), tol: float = 1e-6) -> bool:
    """Run ``fn(*args)`` for each ``(args, expect, hint)`` case; report the first failure, else
    ``passed`` (a message, or a function making one from what the tests found).

    The failing call is named ``name(args...)``, or just ``name`` when it already ends with ")".
    """
    for args, expect, hint in cases:
        call = name if name.endswith(")") else f"{name}({', '.join(show(a, 40) for a in args)})"
        if (got := attempt(fn, args, name, call, hint)) is UNMET:
            return False
        if not callable(expect):
            wrong = "" if same(got, expect, tol) else diagnose(got, expect, args, hint, mistakes)
        else:
            try:
                wrong = expect(got)
            except Exception as err:
                wrong = f"returned {show(got)}, which cannot be right ({type(err).__name__}: {err})"
        if wrong:
            what, hint = wrong if isinstance(wrong, tuple) else (wrong, hint)
            return report(False, f"{call} {what}", hint)
    return report(True, passed() if callable(passed) else passed)


def check_choice(fn, name: str, right: str, why: dict[str, str]) -> bool:
    """Check a multiple-choice answer ``fn() -> letter``; ``why`` explains each option, right or wrong."""
    if (got := attempt(fn, (), name, f"{name}()", f"return one of {sorted(why)}")) is UNMET:
        return False
    letter = str(got).strip().lower()[:1]
    if letter not in why:
        return report(False, f"{name}() gave {show(got)}", f"return one letter: {', '.join(sorted(why))}")
    return report(letter == right, f"{name}: ({letter}) " + ("is right: " if letter == right else "is not it: ")
                  + why[letter], "" if letter == right else "look again at the measurement above")
