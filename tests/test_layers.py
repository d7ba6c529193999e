"""The layer order of ../shared/ARCHITECTURE.md, checked from the imports of every module under src/hccguide.

    errors, icd10  <  sources  <  kb  <  codes  <  search, raf  <  notes, claims  <  faces (cli*.py, web/)

A module may import its own layer and the layers below it, never one above; `raf` and `search` sit side by side
(`raf` never imports `codes` or `search`: a score does not depend on how codes are shown or found), so do `notes`
and `claims`. Every `import` / `from ... import` counts, including those inside functions (a lazy import is still a
dependency). The walk is over the source files (AST), so a module that fails to import is still checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "hccguide"

BASE = {"errors", "icd10"}
# What each layer may import besides itself (issue 13.5; ../shared/ARCHITECTURE.md "Layout").
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "icd10": {"errors"},
    "sources": BASE,
    "kb": BASE | {"sources"},
    "codes": BASE | {"sources", "kb"},
    "search": BASE | {"sources", "kb", "codes"},
    "raf": BASE | {"sources", "kb"},
    "notes": BASE | {"sources", "kb", "codes", "search", "raf"},
    "claims": BASE | {"sources", "kb", "codes", "search", "raf"},
    "faces": BASE | {"sources", "kb", "codes", "search", "raf", "notes", "claims", "faces"},
}

# Edges that break the order today and are being removed by their owner; each names the module and why it is here.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def layer_of(module: str) -> str | None:
    """'hccguide.raf.steps' -> 'raf'; 'hccguide.cli_render' -> 'faces'; None for a module outside hccguide."""
    parts = module.split(".")
    if parts[0] != "hccguide" or len(parts) < 2:
        return None
    top = parts[1]
    if top == "web" or top.startswith("cli"):
        return "faces"
    return top


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) of every import in a file; relative imports resolved against its package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((a.name, node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((mod, node.lineno))
            # `from hccguide import raf` imports the sub-package raf
            if mod == "hccguide":
                out.extend((f"hccguide.{a.name}", node.lineno) for a in node.names)
    return out


def edges() -> list[tuple[str, str, str, int]]:
    """(from layer, to layer, file relative to src/hccguide, line) for every import between two hccguide layers."""
    out = []
    for path in sorted(SRC.rglob("*.py")):
        src_layer = layer_of(module_name(path))
        if src_layer is None:  # hccguide/__init__.py
            continue
        for mod, line in imports_of(path):
            dst = layer_of(mod)
            if dst is not None and dst != src_layer:
                out.append((src_layer, dst, str(path.relative_to(SRC)), line))
    return out


def test_every_layer_is_known() -> None:
    """A new top-level package must be placed in the order before it is used (why: an unplaced package would pass
    every check below unseen)."""
    layers = {layer_of(module_name(p)) for p in SRC.rglob("*.py")} - {None}
    assert layers <= set(ALLOWED), f"place these in ALLOWED: {sorted(layers - set(ALLOWED))}"


def test_the_walk_sees_imports() -> None:
    """The checker itself finds real edges (why: a walk that found nothing would pass everything)."""
    found = {(a, b) for a, b, _, _ in edges()}
    assert ("raf", "kb") in found and ("faces", "raf") in found and ("kb", "sources") in found


@pytest.mark.parametrize(
    ("src_layer", "dst_layer", "allowed"),
    [
        ("raf", "codes", False),  # a score never depends on how a code is shown
        ("raf", "search", False),
        ("codes", "raf", False),  # codes read model keys/constants from kb.reference
        ("kb", "raf", False),  # the kb/user_tables <-> raf.tables cycle of issue 13.5
        ("notes", "raf", True),
        ("faces", "notes", True),
        ("sources", "kb", False),
    ],
)
def test_order_table(src_layer: str, dst_layer: str, allowed: bool) -> None:
    """The table above encodes the architecture's rules (why: a typo in ALLOWED would silently permit an edge)."""
    assert (dst_layer in ALLOWED[src_layer]) is allowed


def test_no_upward_import() -> None:
    """Every import between layers goes down (or sideways where ALLOWED says so); lists every offending line."""
    bad = [
        f"{file}:{line}: {a} imports {b}"
        for a, b, file, line in edges()
        if b not in ALLOWED[a] and (file, b) not in KNOWN_EXCEPTIONS
    ]
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)
