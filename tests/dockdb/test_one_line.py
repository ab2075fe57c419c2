"""dockdb.errors.one_line: how a third-party error is quoted in a one-line message."""

from __future__ import annotations

from dockdb.errors import one_line


def test_first_line_class_name_when_empty_and_limit() -> None:
    assert one_line(ValueError("  bad value\n  traceback-ish detail\n")) == "bad value"
    assert one_line(ValueError("")) == "ValueError"
    assert one_line(OSError("x" * 500)) == "x" * 300
    assert one_line(OSError("x" * 500), 10) == "x" * 10


def test_with_type() -> None:
    assert one_line(ValueError("k\nmore"), with_type=True) == "ValueError: k"
    assert one_line(RuntimeError(), with_type=True) == "RuntimeError"
    assert one_line(RuntimeError("boom"), 9, with_type=True) == "RuntimeEr"
