"""Where the knowledge (ontology/, rules/) and the compiled cache live."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    # A wheel carries a copy under kundskab/_data; a checkout (or editable install) reads
    # the reviewed files at the top of the repository.
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"kundskab cannot find its {name}/ directory")


def ontology_dir() -> Path:
    return _data_dir("ontology")


def rules_dir() -> Path:
    return _data_dir("rules")


def ontology_files(directory: Path) -> list[Path]:
    """The Turtle files that make up the knowledge base (shapes are not knowledge)."""
    return sorted(
        p for p in directory.rglob("*.ttl") if "shapes" not in p.relative_to(directory).parts
    )


def cache_dir() -> Path:
    """$KUNDSKAB_CACHE_DIR, else the platform's user cache directory (platformdirs: XDG on
    Linux, where a relative XDG_CACHE_HOME is ignored as the XDG specification says)."""
    env = os.environ.get("KUNDSKAB_CACHE_DIR")
    if env:
        return Path(env).absolute()
    import platformdirs

    found = Path(platformdirs.user_cache_dir("kundskab", appauthor=False))
    # Older platformdirs took a relative XDG_CACHE_HOME as it was: never write under the
    # working directory because of it.
    return found if found.is_absolute() else Path.home() / ".cache" / "kundskab"
