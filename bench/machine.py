"""What a figure was measured on: the machine, the versions of the parts, the date."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from importlib import metadata

from devstack.paths import BIN, KAFKA_LIBS

PACKAGES = ("flask", "gunicorn", "pymongo", "kafka-python", "requests")


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float:
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def stamp(name: str) -> str:
    """The version install.sh recorded for a binary it built (`.<name>.version`)."""
    path = BIN / f".{name}.version"
    return path.read_text().split()[0] if path.exists() else "not installed"


def kafka_version() -> str:
    jars = sorted(KAFKA_LIBS.glob("kafka_2.13-*.jar"))
    return jars[-1].stem.removeprefix("kafka_2.13-") if jars else "not installed"


def facts() -> dict[str, object]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": memory_gib(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "kafka": kafka_version(),
        "ferretdb": f"{stamp('ferretdb')} (SQLite, with the project's patches)",
        "mailpit": stamp("mailpit"),
        **{name: metadata.version(name) for name in PACKAGES},
    }
