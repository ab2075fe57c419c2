"""Fixtures of the drill tests: receptors prepared once per session for the kill drills."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.drills._campaign import prepare_receptors


@pytest.fixture(scope="session")
def drill_receptors(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> dict[str, dict[str, Any]]:
    """The kill drills' two test receptors, prepared once by jobs.receptors."""
    return prepare_receptors(tmp_path_factory.mktemp("drill-receptors"), mirror)
