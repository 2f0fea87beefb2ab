"""Every exercise checker (bertlab/exercises/) meets any answer with a verdict, never a traceback.

A checker prints "✔ ...", "✘ ...\\n  hint: ...", or, for the student copy's stub that still
raises NotImplementedError, "… NAME is not implemented yet"; it returns True/False. What each
checker accepts and which mistakes it names is specified in tests/test_exercises_<topic>.py.
"""

import importlib
import inspect
import pkgutil

import pytest

import bertlab.exercises as exercises
from bertlab.exercises import check_choice
from checking import VOCAB, flagged, passes, unfinished

TOPICS = [m.name for m in pkgutil.iter_modules(exercises.__path__) if m.name != "core"]
CHECKERS = sorted((topic, name) for topic in TOPICS
                  for name, fn in vars(importlib.import_module(f"bertlab.exercises.{topic}")).items()
                  if name.startswith("check_") and inspect.isfunction(fn) and fn.__module__.endswith(topic))
IDS = [name for _, name in CHECKERS]


def extra_args(name: str, tokenizer) -> tuple:
    """The arguments besides the learner's function that a few checkers take."""
    return {"check_wordpiece": (VOCAB,), "check_unk_rate": (tokenizer,)}.get(name, ())


def test_every_checker_is_exported_and_has_its_own_spec_file():
    for topic, name in CHECKERS:
        assert getattr(exercises, name) is getattr(importlib.import_module(f"bertlab.exercises.{topic}"), name)
        spec = open(f"tests/test_exercises_{topic}.py").read()
        assert name in spec, f"{name} has no test in tests/test_exercises_{topic}.py"


def test_each_checker_module_exports_its_checkers_only_so_the_package_shows_nothing_else():
    for topic in TOPICS:
        module = importlib.import_module(f"bertlab.exercises.{topic}")
        assert sorted(module.__all__) == sorted(n for t, n in CHECKERS if t == topic), topic
        assert getattr(exercises, topic) is module  # not the teaching module a checker imports (bertlab.attention)
    public = {n for n in vars(exercises) if not n.startswith("_")}
    assert public == {n for _, n in CHECKERS} | set(TOPICS) | {"core", "check_choice", "not_implemented"}


@pytest.mark.parametrize("topic, name", CHECKERS, ids=IDS)
@pytest.mark.parametrize("broken, says", [(lambda *a: None, "✘"), (lambda *a: 1 / 0, "raised ZeroDivisionError")],
                         ids=["returns None", "raises"])
def test_a_broken_answer_is_reported_never_raised(capsys, tiny_bert_tokenizer, topic, name, broken, says):
    assert says in flagged(capsys, getattr(exercises, name), broken, *extra_args(name, tiny_bert_tokenizer))


@pytest.mark.parametrize("topic, name", CHECKERS, ids=IDS)
def test_the_student_stub_is_met_with_not_implemented_yet(capsys, tiny_bert_tokenizer, topic, name):
    unfinished(capsys, getattr(exercises, name), *extra_args(name, tiny_bert_tokenizer))


def test_a_multiple_choice_answer_is_explained_right_or_wrong(capsys):
    why = {"a": "more data", "b": "fewer steps"}
    assert "is right: more data" in passes(capsys, lambda f: check_choice(f, "q", "a", why), lambda: "A")
    assert "is not it: fewer steps" in flagged(capsys, lambda f: check_choice(f, "q", "a", why), lambda: "b")
    assert "return one letter" in flagged(capsys, lambda f: check_choice(f, "q", "a", why), lambda: "z")
    unfinished(capsys, lambda f: check_choice(f, "q", "a", why))
