"""The layers keep their one rule each: imports flow one way (edges → services → rules and
layers → model), read off every import statement of the package, in functions too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "hubaudit"

# (layer, what it may not import): a module of the layer importing one of these breaks the rule
RULES = {
    "model": ("hubaudit.",),  # only itself (checked below with the exception of model itself)
    "store": ("hubaudit.hubspot", "hubaudit.report", "hubaudit.cli", "hubaudit.services"),
    "governance": ("hubaudit.store", "hubaudit.hubspot", "hubaudit.services", "hubaudit.cli"),
    "analysis": ("hubaudit.store", "hubaudit.hubspot", "hubaudit.services", "hubaudit.cli"),
    "services": ("hubaudit.cli",),
    # renderers are pure: they render values (services' results among them), never fetch them
    "report": ("hubaudit.store", "hubaudit.hubspot", "hubaudit.cli"),
    # the web app is an edge: it decides nothing and reads nothing but through services/ (the
    # store's Store appears only as a type of what it is given)
    "web": (
        "hubaudit.hubspot",
        "hubaudit.governance",
        "hubaudit.analysis",
        "hubaudit.cli",
        "hubaudit.store.council",
        "hubaudit.store.users",
        "hubaudit.store.tables",
        "hubaudit.store.schema",
    ),
}


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def breaches(layer: str) -> list[str]:
    forbidden = RULES[layer]
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in imports_of(path):
            if layer == "model" and (
                name == "hubaudit.model" or name.startswith("hubaudit.model.")
            ):
                continue
            if any(
                name == f.rstrip(".") or name.startswith(f.rstrip(".") + ".") for f in forbidden
            ):
                found.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return found


@pytest.mark.parametrize("layer", sorted(RULES))
def test_each_layer_imports_only_what_is_below_it(layer: str) -> None:
    assert breaches(layer) == []


def test_nothing_outside_the_cli_imports_it() -> None:
    outside = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if "cli" not in path.relative_to(PACKAGE).parts and path.name != "__main__.py"
        for name in imports_of(path)
        if name == "hubaudit.cli" or name.startswith("hubaudit.cli.")
    ]
    assert outside == []


def test_nothing_but_the_cli_imports_the_web_app() -> None:
    outside = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not ({"cli", "web"} & set(path.relative_to(PACKAGE).parts))
        for name in imports_of(path)
        if name == "hubaudit.web" or name.startswith("hubaudit.web.")
    ]
    assert outside == []


def test_the_rules_check_what_they_claim(tmp_path: Path) -> None:
    """A rule that could never fail proves nothing: the checker sees a forbidden import."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from hubaudit.hubspot.client import HubSpotClient\n")
    assert "hubaudit.hubspot.client" in imports_of(module)
