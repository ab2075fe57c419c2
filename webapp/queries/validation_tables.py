"""A validation kind's run summaries as real tables, not nested values dumped into one cell.

Each run's ``summary`` (JSON written by ``dockdb validate …``) is split into:

* headline numbers: scalars, short lists, and small dicts of scalars flattened to ``parent child``
  columns — one row per run in the kind's summary table;
* item tables: a list of dicts (``targets: [{target, n, auc, …}]``) or a dict of dicts
  (``per_target: {3clpro: {all: {…}, rank1: {…}}}``) — one row per item (and run), one column per
  flattened key;
* long lists: a dict with many entries or non-scalar values (``failure_rate: {check: rate}``) — one row
  per entry, one column per run;
* notes: sentences (rules, definitions), shown once under the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_INLINE = 6  # a dict of up to this many scalars becomes headline columns; a bigger one, a long list
NOTE_MIN_CHARS = 16  # a string with spaces at least this long is a sentence: a note, not a cell


def _is_sentence(value: Any) -> bool:
    return isinstance(value, str) and " " in value and len(value) >= NOTE_MIN_CHARS


def _is_scalar(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return True
    return isinstance(value, list | tuple) and all(v is None or isinstance(v, bool | int | float | str) for v in value)


def _flat(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as ``a_b`` keys; lists of dicts left out (they are in the JSON)."""
    out: dict[str, Any] = {}
    for key, v in value.items():
        name = f"{prefix}_{key}" if prefix else str(key)
        if isinstance(v, dict):
            out.update(_flat(v, name))
        elif isinstance(v, list | tuple) and any(isinstance(x, dict) for x in v):
            continue
        else:
            out[name] = v
    return out


def _key_column(name: str) -> str:
    return name[len("per_"):] if name.startswith("per_") else "item"


@dataclass
class ItemTable:
    """A table of per-item rows (one per complex or drug) over the runs of one validation kind."""
    name: str
    key: str
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # each with "_run" (set · engine) and "_key"


@dataclass
class LongList:
    """A list too long for a table: entries by run, shown side by side."""
    name: str
    runs: list[str] = field(default_factory=list)
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # entry -> run -> value


@dataclass
class KindTables:
    """Every table of one validation kind: headline columns per run, item tables, long lists and notes."""
    columns: list[str] = field(default_factory=list)  # headline columns
    headline: dict[int, dict[str, Any]] = field(default_factory=dict)  # run id -> column -> value
    items: list[ItemTable] = field(default_factory=list)
    long: list[LongList] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    several_runs: bool = False


def run_name(run: dict[str, Any]) -> str:
    """A run's display name: its label, and its engine when it has one."""
    return f"{run['label']} · {run['engine']}" if run.get("engine") else str(run["label"])


def kind_tables(runs: list[dict[str, Any]]) -> KindTables:
    """The tables of one kind's runs (each a :func:`webapp.queries.validation.run_summary`)."""
    out = KindTables(several_runs=len(runs) > 1)
    columns: dict[str, None] = {}
    items: dict[str, ItemTable] = {}
    long: dict[str, LongList] = {}
    for run in runs:
        name = run_name(run)
        headline: dict[str, Any] = {}
        for key, value in (run.get("summary") or {}).items():
            key = str(key)
            if _is_sentence(value):
                out.notes.setdefault(key, value)
            elif _is_scalar(value):
                headline[key] = value
            elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
                table = items.setdefault(key, ItemTable(key, "item"))
                for entry in value:
                    row = _flat(entry)
                    first = next(iter(row), None)
                    if first is not None and table.key == "item" and isinstance(row[first], str):
                        table.key = first
                    table.rows.append({"_run": name, "_key": row.pop(table.key, None), **row})
            elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
                table = items.setdefault(key, ItemTable(key, _key_column(key)))
                for item, entry in value.items():
                    table.rows.append({"_run": name, "_key": item, **_flat(entry)})
            elif isinstance(value, dict) and len(value) <= MAX_INLINE and all(_is_scalar(v) and not _is_sentence(v)
                                                                             for v in _flat(value).values()):
                headline.update(_flat(value, key))
            elif isinstance(value, dict):
                entries = long.setdefault(key, LongList(key))
                entries.runs.append(name)
                for entry, v in value.items():
                    entries.rows.setdefault(str(entry), {})[name] = v
            else:
                headline[key] = value
        columns.update(dict.fromkeys(headline))
        out.headline[run["id"]] = headline
    for table in items.values():
        cols: dict[str, None] = {}
        for row in table.rows:
            cols.update(dict.fromkeys(k for k in row if not k.startswith("_")))
        table.columns = list(cols)
    out.columns = list(columns)
    out.items = list(items.values())
    out.long = list(long.values())
    return out
