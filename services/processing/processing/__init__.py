"""Processing: the dossiers' workflow, deadlines and statistics; owns the catalogue, units and calendar."""

from flask import Flask

from eventkit.blobs import open_blob_store
from eventkit.web import create_service_app
from processing import store
from processing.api import BLUEPRINTS
from processing.config import ProcessingConfig, load_config


def create_app(config: ProcessingConfig | None = None) -> Flask:
    config = config or load_config()
    app = create_service_app(
        config=config, title="MotCua processing API", blueprints=BLUEPRINTS, db=store.connect(config)
    )
    app.extensions["blobs"] = open_blob_store(config.blob_url)
    return app
