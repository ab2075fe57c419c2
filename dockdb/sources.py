"""The source manifest (`data/sources.yaml`) and fetching files from it.

A source file comes from ``DOCKDB_MIRROR/<path>`` when a mirror is configured, otherwise
from the download cache ``DOCKDB_HOME/sources/<path>``, downloading it from its public
URL first (atomically: temporary file, then rename; never again once present).  Every
file is checked against the size and SHA-256 recorded in the manifest, so a corrupt or
truncated copy fails its source with a clear message instead of loading half a table.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from dockdb.config import Config
from dockdb.errors import ConfigError, NotFoundError, OfflineError, SourceError

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
MANIFEST_PATH = DATA_DIR / "sources.yaml"
DOWNLOAD_TIMEOUT_S = 60


@dataclass(frozen=True)
class Source:
    """One entry of the data-source manifest: where the file lives in the mirror, its URL, licence and checksum."""
    key: str
    path: str
    url: str | None
    format: str
    licence: str
    citation: str
    sha256: str | None = None
    bytes: int | None = None
    note: str | None = None


@cache
def _load_manifest(path: Path) -> dict[str, Source]:
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read the source manifest {path}: {e}; restore it from git") from e
    return {entry["key"]: Source(**entry) for entry in raw["sources"]}


def manifest(path: Path = MANIFEST_PATH) -> dict[str, Source]:
    """Every data source of the manifest file (``data/sources.yaml``), by key."""
    return _load_manifest(path)


def get_source(key: str) -> Source:
    """The manifest entry *key*; NotFoundError naming the manifest when there is none."""
    sources = manifest()
    if key not in sources:
        raise NotFoundError(f"unknown source {key!r}; known sources are listed in {MANIFEST_PATH}")
    return sources[key]


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file at *path*, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(source: Source, path: Path) -> None:
    """Raise :class:`SourceError` if *path* is not the exact file the manifest records."""
    size = path.stat().st_size
    if source.bytes is not None and size != source.bytes:
        raise SourceError(
            f"source {source.key}: {path} has {size:,} bytes, expected {source.bytes:,} (truncated or corrupt); "
            "delete it and fetch again, or restore the mirror copy"
        )
    if source.sha256 is not None and sha256_file(path) != source.sha256:
        raise SourceError(
            f"source {source.key}: {path} does not match its recorded SHA-256 (corrupt or a different release); "
            "delete it and fetch again, or restore the mirror copy"
        )


def _download(source: Source, dest: Path) -> None:
    import requests

    if source.url is None:
        raise OfflineError(
            f"source {source.key} has no public download URL; set DOCKDB_MIRROR to a directory holding {source.path}"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            with requests.get(source.url, stream=True, timeout=DOWNLOAD_TIMEOUT_S) as resp:
                resp.raise_for_status()
                for chunk in resp.iter_content(1 << 20):
                    fh.write(chunk)
        verify(source, tmp)
        tmp.replace(dest)
    except requests.RequestException as e:
        raise OfflineError(
            f"cannot download source {source.key} from {source.url} ({e.__class__.__name__}); "
            f"when offline set DOCKDB_MIRROR to a directory holding {source.path}"
        ) from e
    finally:
        tmp.unlink(missing_ok=True)


def fetch(key: str, config: Config, *, check: bool = True) -> Path:
    """Local path of source *key*: mirror, else cache, else download into the cache."""
    source = get_source(key)
    if config.mirror is not None:
        path = config.mirror / source.path
        if not path.is_file():
            raise SourceError(
                f"source {key}: {path} is missing from DOCKDB_MIRROR={config.mirror}; "
                "add the file or unset DOCKDB_MIRROR"
            )
    else:
        path = config.cache_dir / source.path
        if not path.is_file():
            if config.offline:
                raise OfflineError(
                    f"source {key} is not cached and DOCKDB_OFFLINE is set; download {source.url} "
                    f"or set DOCKDB_MIRROR to a directory holding {source.path}"
                )
            _download(source, path)
    if check:
        verify(source, path)
    return path


def read_text(key: str, config: Config) -> str:
    """Text of source *key* (fetched from the mirror, cache or URL first); undecodable bytes are replaced."""
    path = fetch(key, config)
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise SourceError(f"source {key}: cannot read {path}: {e}") from e
