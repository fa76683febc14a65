"""Notify: the legal slips by email and as letters (PDF, by post), with their delivery statuses."""

from flask import Flask

from eventkit.config import ServiceConfig
from eventkit.web import create_service_app
from notify import store
from notify.api import BLUEPRINTS
from notify.config import load_config


def create_app(config: ServiceConfig | None = None) -> Flask:
    config = config or load_config()
    return create_service_app(
        config=config, title="MotCua notify API", blueprints=BLUEPRINTS, db=store.connect(config)
    )
