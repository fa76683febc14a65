"""What every benchmark's `main` does around its measurement: the sizes a quick run takes, the
installed binaries it needs, a throwaway folder for its stores, and a platform that would not
start reported as such."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from devstack.infra import StartError
from devstack.paths import BIN


def fill_defaults(args: argparse.Namespace, defaults: Mapping[str, Any]) -> None:
    """Set each of `defaults` the command line left unset."""
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def run_in_workdir(
    measure: Callable[[argparse.Namespace, Path], object],
    args: argparse.Namespace,
    binaries: Iterable[str] = ("ferretdb",),
) -> int:
    """`measure(args, workdir)` in a temporary folder; 1 when a binary is missing or a process of
    the platform would not start, else 0."""
    missing = [str(BIN / name) for name in binaries if not (BIN / name).exists()]
    if missing:
        sys.stderr.write(f"not installed: {', '.join(missing)}; run make install\n")
        return 1
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as workdir:
        try:
            measure(args, Path(workdir))
        except StartError as exc:
            sys.stderr.write(f"benchmark could not run: {exc}\n")
            return 1
    return 0
