"""Where the knowledge (ontology/, rules/) and the compiled cache live, and how files in the
cache directory, which is not trusted, are read, written and keyed."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

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


_CHECKED: dict[Path, Path] = {}  # cache directory asked for -> the one used


def cache_dir() -> Path:
    """The cache directory: $KUNDSKAB_CACHE_DIR, else the platform's user cache directory.
    One that exists and that others can write to (group or world writable), or that is not
    the user's, is not used: anything planted there could change what kundskab says. A
    private temporary directory takes its place for this run, with a one-line warning."""
    wanted = _wanted_cache_dir()
    found = _CHECKED.get(wanted)
    if found is None:
        found = _CHECKED[wanted] = _private_if_unsafe(wanted)
    return found


def _private_if_unsafe(path: Path) -> Path:
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # Windows: a user's cache directory is private by its ACL
        return path
    try:
        info = os.stat(path)
    except OSError:
        return path  # not there (yet): it is made private (0700) when first written
    if info.st_uid == getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return path
    import atexit
    import shutil
    import tempfile

    private = Path(tempfile.mkdtemp(prefix="kundskab-cache-"))  # 0700, ours
    atexit.register(shutil.rmtree, private, True)
    _CHECKED[path] = _CHECKED[private] = private
    os.environ["KUNDSKAB_CACHE_DIR"] = str(private)  # worker processes use it too, without a warning
    from kundskab._names import printable
    from kundskab.i18n import N_, gettext

    message = N_("the cache folder {path} can be written by others or is not yours; it is not used "
                 "(this run keeps its cache in a private temporary folder)")
    print("kundskab: " + gettext(message).format(path=printable(path, 200)), file=sys.stderr)
    return private


def _wanted_cache_dir() -> Path:
    """$KUNDSKAB_CACHE_DIR, else the platform's user cache directory (platformdirs: XDG on
    Linux, where a relative XDG_CACHE_HOME is ignored as the XDG specification says)."""
    env = os.environ.get("KUNDSKAB_CACHE_DIR")
    if env:
        return Path(env).absolute()
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        # The XDG rule platformdirs follows on these systems, written out: importing
        # platformdirs (and the configparser it loads) took about 10 ms, a tenth of a start.
        xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
        return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "kundskab"
    import platformdirs

    found = Path(platformdirs.user_cache_dir("kundskab", appauthor=False))
    # Older platformdirs took a relative XDG_CACHE_HOME as it was: never write under the
    # working directory because of it.
    return found if found.is_absolute() else Path.home() / ".cache" / "kundskab"


# ---------------------------------------------------------------------- the cache directory
# It is not trusted (anyone may have put anything there): a cache file is read only if it
# is a regular file (not a link, FIFO or device) of sane size holding JSON, and its reader
# checks the exact shape before using any of it; anything else is a miss, and it is rebuilt.
MAX_CACHE_BYTES = 64 * 1024 * 1024
MAX_KEY_MEMORIES = 16  # per kind of source: a few checkouts or versions side by side
# A memory is one line per source file (the ontology's ~50 take ~6 KB): a larger file is
# not read on every start, whoever put it there.
MAX_KEY_MEMORY_BYTES = 1024 * 1024
_HEX = frozenset("0123456789abcdef")


def read_cache_json(path: Path, max_bytes: int = MAX_CACHE_BYTES) -> Any:
    """The JSON in a cache file, or None when it is not a regular file of at most
    `max_bytes` holding JSON. The caller still checks the value's exact shape before
    trusting any of it."""
    try:
        # O_NOFOLLOW: a link (to /dev/zero, say) is not read; O_NONBLOCK: nor does a FIFO hang.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
                return None
            data = json.loads(handle.read(max_bytes + 1))
    except (OSError, ValueError, RecursionError):
        return None
    return data


_CACHE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.json")


def in_cache_dir(path: Path) -> bool:
    """Whether `path` names a plain file right inside the cache directory: a name of letters,
    digits, `.`, `_` and `-` (no separator, no `..`, no NUL), so that no key, wherever it
    came from (a store's version, say), can make a write land anywhere else."""
    return path.parent == cache_dir() and _CACHE_NAME.fullmatch(path.name) is not None and ".." not in path.name


def write_cache_json(path: Path, data: Any) -> None:
    # Best effort and atomic: a read-only home or a race with another process must not
    # break a command, a half-written file must never be read, and a failed write (a
    # directory where the file should be, a full disk) leaves no temporary file behind.
    # Only files right inside the cache directory are written (os.replace would replace
    # any file the user can write).
    if not in_cache_dir(path):
        return
    import tempfile  # only when the cache is written, not on every start-up

    tmp: str | None = None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kb-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def hash_sources(named: Sequence[tuple[str, Path]], header: str) -> tuple[str, list[tuple[Path, bytes]]]:
    """The `digest` of `header` and of each file's name and content, and the content, from
    one read of each: what is built from the content then belongs to that very key, even if
    a file is edited meanwhile."""
    sources = [(path, path.read_bytes()) for _, path in named]
    return digest(header, [(name, data) for (name, _), (_, data) in zip(named, sources, strict=True)]), sources


def digest(header: str, parts: Iterable[tuple[str, bytes]]) -> str:
    """The one hash of sources (every cache key and the knowledge base's fingerprint): the
    SHA-256 (hex) of `header`, then of each part's name and content, each followed by NUL."""
    import hashlib  # only when the sources are new to this cache (see content_key)

    found = hashlib.sha256(header.encode())
    for name, data in parts:
        found.update(name.encode())
        found.update(b"\0")
        found.update(data)
        found.update(b"\0")
    return found.hexdigest()


def source_signature(files: Sequence[Path], extra: str = "") -> str:
    """What the file system says of `files`: path, size, inode, modification and change
    times. Any write to a file changes it (the change time cannot be set back), so a
    signature seen before means content seen before, as Python's own bytecode cache assumes."""
    parts = [extra]
    for path in files:
        info = os.stat(path)
        parts.append(f"{path}\0{info.st_size}\0{info.st_ino}\0{info.st_mtime_ns}\0{info.st_ctime_ns}")
    return "\n".join(parts)


def content_key(kind: str, files: Sequence[Path], compute: Callable[[], str], extra: str = "") -> str:
    """The content hash `compute()` gives for `files` (lower-case hex), remembered in the
    cache directory under their signature: a start with unchanged sources reads one small
    file instead of reading and hashing every source and importing hashlib (about 5 ms,
    a twentieth of `recommend`'s start). A memory that is missing, malformed or for another
    signature is a miss: the key is computed and remembered anew."""
    signature = source_signature(files, extra)
    memory = cache_dir() / f"sources-{kind}-{zlib.crc32(signature.encode()):08x}.json"
    found = read_cache_json(memory, MAX_KEY_MEMORY_BYTES)
    if type(found) is dict and found.get("signature") == signature:
        key = found.get("key")
        # The key names cache files: hex only, so that no memory can point elsewhere.
        if type(key) is str and 16 <= len(key) <= 128 and _HEX.issuperset(key):
            return key
    key = compute()
    write_cache_json(memory, {"signature": signature, "key": key})
    _forget_oldest(memory.parent, f"sources-{kind}-")
    return key


def _forget_oldest(directory: Path, prefix: str) -> None:
    """Keep the newest MAX_KEY_MEMORIES memories of one kind (each checkout or edit of the
    sources writes one)."""
    try:
        memories = [p for p in directory.iterdir() if p.name.startswith(prefix) and p.suffix == ".json"]
        if len(memories) <= MAX_KEY_MEMORIES:
            return
        memories.sort(key=lambda p: p.lstat().st_mtime_ns)
        for old in memories[:-MAX_KEY_MEMORIES]:
            old.unlink()
    except OSError:
        pass  # another process pruned first, or the directory is read-only
