"""Defaults of the validation statistics, in a module light enough for the CLI to import."""

from __future__ import annotations

__all__ = ["DEFAULT_BOOTSTRAP", "DEFAULT_LEVEL", "DEFAULT_SEED"]

DEFAULT_BOOTSTRAP = 1000  # bootstrap resamples of every interval
DEFAULT_SEED = 42  # seed of the bootstrap's generator
DEFAULT_LEVEL = 0.95  # interval coverage
