"""Portal: the public site (news, directive documents, procedures, dossier lookup, statistics)."""

import os

from flask import Flask

from eventkit.blobs import open_blob_store
from eventkit.config import ServiceConfig
from eventkit.web import create_service_app
from portal import store
from portal.api import BLUEPRINTS
from portal.config import load_config
from portal.web import register_web


def create_app(config: ServiceConfig | None = None) -> Flask:
    config = config or load_config()
    db = store.connect(config)
    app = create_service_app(config=config, title="MotCua portal", blueprints=BLUEPRINTS, db=db)
    # Articles' cover images and documents' PDFs: the portal's own blob store (PORTAL_BLOB_URL;
    # BLOB_URL is intake's under `make run`). Without one, attaching a file answers 503.
    blob_url = os.environ.get("PORTAL_BLOB_URL")
    if blob_url:
        app.extensions["blobs"] = open_blob_store(blob_url)
    register_web(app, db)
    return app
