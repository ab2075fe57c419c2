"""GHDDI's measured values become evidence text with units; a missing unit is said, not guessed."""

from __future__ import annotations

import pytest

from ingest.literature import assay_evidence


@pytest.mark.parametrize(("row", "text"), [
    (("IC50", "0.0022", "{micro}m", "direct"), "IC50 0.0022 µM (direct evidence)"),
    (("EC50", "5", "micro", ""), "EC50 5 µM"),
    (("EC50", "0.7", " um", None), "EC50 0.7 µM"),
    (("IC50", "10", "nm", "indirect"), "IC50 10 nM (indirect evidence)"),
    (("EC50", "9.1", " ug", None), "EC50 9.1 µg/mL"),
    (("EC50", "0.05", "", "direct"), "EC50 0.05 (unit not given) (direct evidence)"),
    (("IC50", "sub - nanomolar ic50", "", "indirect"), "IC50 sub-nanomolar ic50 (indirect evidence)"),
])
def test_assay_evidence(row: tuple[str, str, str, str | None], text: str) -> None:
    assert assay_evidence(*row) == text
