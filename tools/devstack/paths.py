"""Where the local platform keeps what it installs and the data it writes."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL = Path(os.environ.get("MOTCUA_LOCAL", ROOT / ".local"))
BIN = LOCAL / "bin"
KAFKA_LIBS = LOCAL / "kafka" / "libs"
KEYS = LOCAL / "keys"
VENV_BIN = LOCAL / "venv" / "bin"
