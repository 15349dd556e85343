"""Files that ship with hubaudit but live outside ``src/`` in the repository.

The wheel force-includes ``migrations/`` and ``fixtures/demo/`` inside the package; a source
checkout (an editable install) has them at the repository's top.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hubaudit.errors import FatalError


def shipped_dir(relative: str, marker: str) -> Path:
    """The folder ``relative`` (e.g. ``migrations``), recognised by the file ``marker`` in it."""
    packaged = Path(str(resources.files("hubaudit"))) / relative
    if (packaged / marker).exists():
        return packaged
    source_tree = Path(__file__).resolve().parents[2] / relative
    if (source_tree / marker).exists():
        return source_tree
    raise FatalError(f"{relative}/ is missing from this installation of hubaudit")


def migrations_dir() -> Path:
    return shipped_dir("migrations", "env.py")


def demo_fixtures_dir() -> Path:
    return shipped_dir("fixtures/demo", "night1")
