"""Intake: where a citizen's dossier enters the system (online and counter filing, uploads, dossier codes)."""

from flask import Flask

from eventkit.blobs import open_blob_store
from eventkit.web import create_service_app
from intake import store
from intake.api import BLUEPRINTS
from intake.api.limits import limit_uploads
from intake.config import IntakeConfig, load_config


def create_app(config: IntakeConfig | None = None) -> Flask:
    config = config or load_config()
    app = create_service_app(
        config=config, title="MotCua intake API", blueprints=BLUEPRINTS, db=store.connect(config)
    )
    app.extensions["blobs"] = open_blob_store(config.blob_url)
    limit_uploads(app, config)
    return app
