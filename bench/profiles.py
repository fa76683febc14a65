"""Where a process's time goes: py-spy samples it and its subprocesses (gunicorn's workers)
while they hold the GIL during a step. The stacks are summed by the project's function that was
running (the innermost frame under services/ or libs/, with everything it called) and by the
package of the innermost frame (the library doing the work)."""

from __future__ import annotations

import re
import subprocess
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import requests

from devstack.paths import BIN, ROOT, VENV_BIN

RATE = 50  # samples a second: enough for shares of a few per cent, light on 2 cores
TOP = 8
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^():]+)(?::\d+)?\)$")
PROJECT = (str(ROOT / "services") + "/", str(ROOT / "libs") + "/")


def record(
    pids: dict[str, int], seconds: float, out_dir: Path
) -> dict[str, tuple[subprocess.Popen[bytes], Path]]:
    """py-spy on each process for `seconds` (started now, in the background): name → (py-spy, its
    output)."""
    recorders = {}
    for name, pid in pids.items():
        out = out_dir / f"{name}.pyspy.txt"
        # --gil: only samples holding the GIL, that is Python's CPU time, not threads waiting.
        command = [str(VENV_BIN / "py-spy"), "record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
        command += ["--gil", "--full-filenames"]
        command += [
            "--rate",
            str(RATE),
            "--duration",
            str(int(seconds)),
            "--format",
            "raw",
            "--output",
            str(out),
        ]
        recorders[name] = (
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE),
            out,
        )
    return recorders


def where(frame: str) -> tuple[str, str]:
    """(function, file) of one py-spy frame `function (file:line)`."""
    found = FRAME.match(frame.strip())
    return (found["function"], found["file"]) if found else (frame.strip(), "")


def project_name(function: str, file: str) -> str:
    for base in PROJECT:
        if file.startswith(base):
            module = file.removeprefix(base).removesuffix(".py").replace("/", ".")
            # services/notify/notify/sending -> notify.sending; libs/eventkit/eventkit/mongo -> eventkit.mongo
            module = module.split(".", 1)[1] if "." in module else module
            return f"{module}.{function}"
    return ""


def package(file: str) -> str:
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if any(file.startswith(base) for base in PROJECT):
        return "(project code)"
    if file.startswith("<"):
        return file
    return "python: " + Path(file).stem


def summarize(text: str) -> dict[str, Any]:
    """Shares of samples by project function and by innermost package."""
    by_function: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [where(f) for f in stack.split(";") if f]
        if not frames:
            continue
        total += count
        inner = next(
            (project_name(*f) for f in reversed(frames) if project_name(*f)), "(outside the project)"
        )
        by_function[inner] += count
        by_package[package(frames[-1][1])] += count

    def shares(counter: Counter[str]) -> list[list[Any]]:
        return [[name, round(100 * n / total, 1)] for name, n in counter.most_common(TOP)] if total else []

    return {"samples": total, "functions": shares(by_function), "packages": shares(by_package)}


def collect(recorders: dict[str, tuple[subprocess.Popen[bytes], Path]]) -> dict[str, Any]:
    """Waits for each py-spy and sums its samples (or says why there are none)."""
    found: dict[str, Any] = {}
    for name, (proc, out) in recorders.items():
        _, errors = proc.communicate(timeout=600)
        if proc.returncode != 0 or not out.exists():
            found[name] = {"error": errors.decode(errors="replace")[-500:]}
            continue
        found[name] = summarize(out.read_text(errors="replace"))
    return found


class GoProfile(threading.Thread):
    """FerretDB's own CPU profile (Go's pprof on its debug address) over `seconds`, taken in the
    background; `summary()` is Go's `pprof -top` of it: the functions with the most CPU of their own."""

    def __init__(self, debug_url: str, seconds: float, out: Path) -> None:
        super().__init__(daemon=True)
        self.url = f"{debug_url}/debug/pprof/profile?seconds={int(seconds)}"
        self.seconds = seconds
        self.out = out
        self.error = ""
        self.start()

    def run(self) -> None:
        try:
            answer = requests.get(self.url, timeout=self.seconds + 60)
            answer.raise_for_status()
            self.out.write_bytes(answer.content)
        except requests.RequestException as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    def summary(self) -> dict[str, Any]:
        self.join(self.seconds + 90)
        if self.error or not self.out.exists():
            return {"error": self.error or "no profile"}
        done = subprocess.run(
            ["go", "tool", "pprof", "-top", f"-nodecount={TOP * 2}", str(BIN / "ferretdb"), str(self.out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            return {"error": done.stderr[-500:]}
        rows = []
        for line in done.stdout.splitlines():
            parts = line.split()
            # flat flat% sum% cum cum% name
            if len(parts) >= 6 and parts[1].endswith("%") and parts[4].endswith("%"):
                rows.append([" ".join(parts[5:]), float(parts[1].rstrip("%")), float(parts[4].rstrip("%"))])
        return {"top": rows}
