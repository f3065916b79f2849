"""Disk cache of compiled regular expressions, used while spaCy French loads.

Most of the French pipeline's cold start is not the model weights but Python's ``re``
compiling the huge Unicode, case-insensitive ``TOKEN_MATCH`` / prefix / suffix / infix
patterns of ``spacy.lang.fr`` (~3 s on this machine, in pure-Python ``_optimize_charset``).
The compiled form (the opcode list handed to ``_sre.compile``) is deterministic for a
given Python version, so we store it once and rebuild the same ``re.Pattern`` from it in
milliseconds. ``_sre.compile`` validates the opcodes, and entries are keyed by the Python
version, the sre magic number, the pattern and the flags, so a stale or foreign cache can
only miss, never change behaviour. Data is stored with ``marshal`` (ints, str, dict,
tuple only), not pickle.
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import hashlib
import marshal
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_compiler: Any = getattr(re, "_compiler", None)
MIN_PATTERN_CHARS = 2000  # only big patterns are worth a disk entry


def default_cache_file() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tag = f"py{sys.version_info[0]}{sys.version_info[1]}_{getattr(_sre, 'MAGIC', 0)}"
    return base / "listening" / f"re_compiled_{tag}.marshal"


def _key(pattern: str, flags: int) -> str:
    return hashlib.sha256(f"{sys.version}|{flags}|{pattern}".encode()).hexdigest()


@contextmanager
def cached_regex_compilation(cache_file: Path | None = None) -> Iterator[None]:
    """Within the block, big ``re`` compilations are served from / saved to ``cache_file``."""
    if _compiler is None or not hasattr(_compiler, "_code"):
        yield  # another Python implementation: plain compilation
        return
    path = cache_file or default_cache_file()
    try:
        entries: dict[str, tuple[Any, ...]] = marshal.loads(path.read_bytes())
        if not isinstance(entries, dict):
            entries = {}
    except (OSError, ValueError, EOFError, TypeError):
        entries = {}
    dirty = False
    original = _compiler.compile

    def compile_with_cache(p: Any, flags: int = 0) -> Any:
        nonlocal dirty
        if not isinstance(p, str) or len(p) < MIN_PATTERN_CHARS:
            return original(p, flags)
        key = _key(p, flags)
        entry = entries.get(key)
        if entry is not None:
            try:
                final_flags, code, groups, groupindex, indexgroup = entry
                return _sre.compile(p, final_flags, list(code), groups, dict(groupindex),
                                    tuple(indexgroup))
            except Exception:
                entries.pop(key, None)  # invalid entry: compile normally below
        parsed = _compiler._parser.parse(p, flags)
        code = _compiler._code(parsed, flags)
        groupindex = dict(parsed.state.groupdict)
        indexgroup = [None] * parsed.state.groups
        for name, i in groupindex.items():
            indexgroup[i] = name
        final_flags = flags | parsed.state.flags
        entries[key] = (int(final_flags), tuple(int(c) for c in code), int(parsed.state.groups - 1), groupindex,
                        tuple(indexgroup))
        dirty = True
        return _sre.compile(p, final_flags, code, parsed.state.groups - 1, groupindex,
                            tuple(indexgroup))

    _compiler.compile = compile_with_cache
    try:
        yield
    finally:
        _compiler.compile = original
        if dirty:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(marshal.dumps(entries))
                tmp.replace(path)
            except (OSError, ValueError):
                pass  # read-only home: stay correct, just slower next time
