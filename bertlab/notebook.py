"""Small helpers for the notebooks themselves."""

from __future__ import annotations

import inspect


def show_source(obj: object) -> None:
    """Print the source code of a bertlab function or class, so a notebook shows the real code."""
    print(inspect.getsource(obj).rstrip())
