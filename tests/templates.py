"""Databases built once and copied per test (import as ``tests.templates``)."""

from __future__ import annotations

import shutil
from pathlib import Path


def copy_database(template: Path, target: Path) -> Path:
    """A private copy of a closed database file, for one test to change.

    Loading the same data again for every test costs seconds; a module builds it once (closed,
    so the file holds everything) and each test copies the file.
    """
    shutil.copyfile(template, target)
    wal = template.with_name(template.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target
