"""Intake's upload settings (the checks of the files themselves: libs/eventkit/tests/test_files.py)."""

from __future__ import annotations

import pytest

from eventkit.config import ConfigError
from intake.config import load_config


def test_the_upload_rate_limit_is_read_from_the_environment():
    environ = {"MONGO_URL": "mongodb://127.0.0.1:1", "JWT_PUBLIC_KEY": "k", "BLOB_URL": "file:///tmp/b"}
    assert load_config(environ=environ).upload_rate_limit == "60/minute"
    assert load_config(environ={**environ, "UPLOAD_RATE_LIMIT": "5/second"}).upload_rate_limit == "5/second"
    with pytest.raises(ConfigError):
        load_config(environ={**environ, "UPLOAD_RATE_LIMIT": "many"})


def test_intake_does_not_start_without_a_blob_store():
    with pytest.raises(ConfigError, match="BLOB_URL"):
        load_config(environ={"MONGO_URL": "mongodb://127.0.0.1:1", "JWT_PUBLIC_KEY": "k"})
