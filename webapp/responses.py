"""Response helpers shared by pages and API: text downloads, SVG, paging args."""

from __future__ import annotations

import re

from flask import Response, url_for
from markupsafe import Markup

from webapp.params import NotFound

MAX_DB_ID = 2**31 - 1
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def db_id(value: int, what: str) -> int:
    """An id from a URL converter, 404 when it cannot exist (keeps huge numbers away from the DB)."""
    if value < 1 or value > MAX_DB_ID:
        raise NotFound(f"no {what} with id {value}")
    return value


def download(filename: str, text: str, mimetype: str) -> Response:
    """*text* as a file download named *filename* (unsafe characters replaced)."""
    safe = _SAFE_NAME.sub("_", filename)[:120] or "download"
    resp = Response(text, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    return resp


def svg(text: str) -> Response:
    """An SVG image response that may not load scripts or other resources, cached for an hour."""
    resp = Response(text, mimetype="image/svg+xml")
    resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


_MISSING = Markup('<span class="muted">–</span>')


def format_number(value: float | int | None, fmt: str = "%.2f") -> Markup | str:
    """A number for a table cell (``fmt`` printf-style); a muted dash when missing.

    A plain function rather than a Jinja macro: the ranked tables call it hundreds of times per page.
    """
    if value is None:
        return _MISSING
    return fmt % value


def number_cells(values: list[float | int | None], formats: list[str]) -> Markup:
    """``<td class="num">`` cells for a row of numbers, built in one pass (numbers need no escaping)."""
    return Markup("".join(f'<td class="num">{format_number(v, f)}</td>' for v, f in zip(values, formats, strict=True)))


_SENTINEL = 987654321


def id_url(endpoint: str, arg: str) -> tuple[str, str]:
    """(prefix, suffix) of *endpoint*'s URL around an integer id, built once per page instead of per row."""
    prefix, _, suffix = url_for(endpoint, **{arg: _SENTINEL}).partition(str(_SENTINEL))
    return prefix, suffix


_PDB_ID = re.compile(r"\b(\d[A-Za-z0-9]{3})\b")


def structure_ref(structure_id: str | None) -> tuple[str, str | None]:
    """(label, link) of a target's structure: ``("PDB 6LU7", RCSB URL)`` for a PDB id; a model such as
    "SWISS-MODEL (template 5CE1)" keeps its own name and links to its template's entry."""
    text = (structure_id or "").strip()
    if not text:
        return "–", None
    if _PDB_ID.fullmatch(text):
        return f"PDB {text.upper()}", f"https://www.rcsb.org/structure/{text.upper()}"
    template = _PDB_ID.search(text)
    return text, (f"https://www.rcsb.org/structure/{template.group(1).upper()}" if template else None)
