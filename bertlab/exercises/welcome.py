"""Checkers for notebook 00 · Welcome."""

from __future__ import annotations
