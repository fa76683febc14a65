"""Fixtures of the integration tier: services' apps on the real store."""

from __future__ import annotations

import pytest

from eventkit.config import ServiceConfig
from processing import create_app as create_processing_app
from processing import store as processing_store


@pytest.fixture
def processing_app(service_environ):
    app = create_processing_app(ServiceConfig.from_env("processing", environ=service_environ))
    processing_store.ensure_indexes(app.extensions["db"])
    return app


@pytest.fixture
def processing_client(processing_app):
    return processing_app.test_client()
