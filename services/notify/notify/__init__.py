"""Notify: the legal slips by email and as letters (PDF, by post), with their delivery statuses."""

from flask import Flask

from eventkit.blobs import open_blob_store
from eventkit.web import create_service_app
from notify import store
from notify.api import BLUEPRINTS
from notify.config import NotifyConfig, load_config


def create_app(config: NotifyConfig | None = None) -> Flask:
    config = config or load_config()
    app = create_service_app(
        config=config, title="MotCua notify API", blueprints=BLUEPRINTS, db=store.connect(config)
    )
    app.extensions["blobs"] = open_blob_store(config.blob_url)
    return app
