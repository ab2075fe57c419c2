"""The one exception hierarchy of DockDB.

Every error a user can cause derives from :class:`DockDBError`; its message is one
line that names the problem and the fix.  The CLI prints ``error: <message>`` and
exits with :attr:`DockDBError.exit_code`; no traceback reaches the user.
"""

from __future__ import annotations


class DockDBError(Exception):
    """Root of every DockDB error. ``str(err)`` is a one-line message with the fix."""

    exit_code: int = 1


class ConfigError(DockDBError):
    """Invalid configuration: unknown key, malformed value."""

    exit_code = 2


class DatabaseError(DockDBError):
    """The database is unreachable, the URL is wrong, or the schema is not migrated."""


class NotMigratedError(DatabaseError):
    """The database schema is not at the head revision."""


class NotFoundError(DockDBError):
    """An id, key or name that does not exist (unknown target, drug, campaign...)."""


class InputError(DockDBError):
    """Bad user input: unparsable SMILES, broken file, malformed query, bad option."""

    exit_code = 2


class UnknownNameError(NotFoundError):
    """A target key or library name the user typed that does not exist: bad input (exit 2), 404 on the web."""

    exit_code = 2


class SourceError(DockDBError):
    """A public data source could not be fetched, or its file is corrupt/truncated."""


class OfflineError(SourceError):
    """A source must be downloaded but there is no network and no mirror."""


class PreparationError(DockDBError):
    """A receptor or ligand could not be prepared for docking."""


class ReceptorError(PreparationError):
    """A receptor structure could not be parsed or prepared."""


class LigandError(PreparationError):
    """A ligand cannot be docked (no 3D embedding, untypable element, metal, too large)."""


class SmilesError(LigandError, InputError):
    """A SMILES that does not parse: bad input (exit 2), still a LigandError for the docking code."""


class PocketError(DockDBError):
    """A pocket/box definition is invalid (too large, misses the protein, unknown residue)."""

    exit_code = 2


class EngineError(DockDBError):
    """A docking engine failed or was asked for something it cannot do."""


class CampaignError(DockDBError):
    """A campaign cannot be created, run or exported as asked."""


class SchedulerError(DockDBError):
    """A Dask scheduler or cluster could not be reached or started."""


def one_line(exc: BaseException, limit: int = 300, *, with_type: bool = False) -> str:
    """The first line of ``str(exc)`` (the class name when that is empty), at most ``limit``
    characters: how a third-party error is quoted inside a DockDB one-line message.  With
    ``with_type``, prefixed by the class name (``ValueError: ...``)."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if with_type:
        first = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return (first or type(exc).__name__)[:limit]
