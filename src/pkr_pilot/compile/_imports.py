"""Find every file a set of sources imports, before solc runs.

The standard-JSON input we give solc then holds every source with its
content, so the stored build-info reproduces the output exactly (AST ids
included) and the cache knows the imported files. Import paths are resolved
like solc does: ``./`` and ``../`` against the importing source unit name,
then the longest matching remapping, then looked up below the base path.
Anything this misses is still read by solc's own import callback; the
builder notices and compiles again with the complete set.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from ._input import SourceFile

__all__ = ["close_sources", "find_imports", "resolve_import"]

# The first string literal after `import` and before `;` is the path, in all
# four forms: import "p"; import "p" as X; import * as X from "p"; import {A} from "p";
_IMPORT = re.compile(r"\bimport\b[^;]*?\x00(\d+)\x00")


def find_imports(text: str) -> list[str]:
    """Import paths in Solidity source ``text`` (comments and other strings ignored)."""
    code, strings = _strip(text)
    return [strings[int(m.group(1))] for m in _IMPORT.finditer(code)]


def _strip(text: str) -> tuple[str, list[str]]:
    """``text`` without comments, each string literal replaced by ``\\0<n>\\0``."""
    out: list[str] = []
    strings: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif c == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
        elif c in "\"'":
            j = i + 1
            buf: list[str] = []
            while j < n and text[j] != c and text[j] != "\n":
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j : j + 2])
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            strings.append("".join(buf))
            out.append(f"\x00{len(strings) - 1}\x00")
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out), strings


def resolve_import(importer: str, path: str, remappings: Sequence[str]) -> str:
    """The source unit name solc gives import ``path`` found in source unit ``importer``."""
    if path.startswith(("./", "../")):
        path = posixpath.normpath(posixpath.join(posixpath.dirname(importer), path))
    best: tuple[int, int, str, str] | None = None
    for remapping in remappings:
        left, _, target = remapping.partition("=")
        context, _, prefix = left.rpartition(":")
        if not prefix or not path.startswith(prefix):
            continue
        if context and not importer.startswith(context):
            continue
        rank = (len(context), len(prefix))
        if best is None or rank > best[:2]:
            best = (rank[0], rank[1], prefix, target)
    if best is not None:
        path = best[3] + path[len(best[2]) :]
    return path


def close_sources(
    root: Path, sources: Iterable[SourceFile], remappings: Sequence[str]
) -> list[SourceFile]:
    """``sources`` plus every file they import, transitively, read below ``root``.

    Imports that cannot be found are left out: solc reports them as errors.
    """
    found = {s.unit: s for s in sources}
    queue = list(found.values())
    while queue:
        source = queue.pop()
        text = source.content.decode("utf-8", "replace")
        for path in find_imports(text):
            unit = resolve_import(source.unit, path, remappings)
            if unit in found or unit.startswith(("/", "..")):
                continue
            file = root / unit
            try:
                content = file.read_bytes()
            except OSError:
                continue
            found[unit] = SourceFile(unit, content)
            queue.append(found[unit])
    return sorted(found.values(), key=lambda s: s.unit)
