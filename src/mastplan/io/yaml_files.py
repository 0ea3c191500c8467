"""YAML files that people edit while mastplan runs (the fee policy, holiday notices): read and
parsed once per version of the file (its modification time), so edits are picked up and
unchanged files are not read again on every request."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from mastplan.errors import MastplanError

__all__ = ["load_yaml"]


def load_yaml(path: str | Path, what: str) -> Any:
    """The parsed content of ``path`` (``what`` names it in errors); callers must not change
    what they get back, it is shared until the file changes."""
    try:
        version = Path(path).stat().st_mtime_ns
    except OSError as exc:
        raise MastplanError(f"{path}: cannot read {what}: {exc.strerror}") from None
    return _parse(str(path), version, what)


@lru_cache(maxsize=16)
def _parse(path: str, _version: int, what: str) -> Any:
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise MastplanError(f"{path}: cannot read {what}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise MastplanError(f"{path}: not valid YAML: {exc}") from None
