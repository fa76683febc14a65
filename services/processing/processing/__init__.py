"""Processing: the dossiers' workflow, deadlines and statistics; owns the catalogue, units and calendar,
the staff accounts and their sign-in, and the staff console."""

from datetime import timedelta

from flask import Flask

from eventkit.blobs import open_blob_store
from eventkit.mongo import Db
from eventkit.ratelimit import ClientLimit
from eventkit.web import create_service_app
from processing import store
from processing.api import BLUEPRINTS
from processing.config import ProcessingConfig, load_config
from processing.identity.keys import KeySet
from processing.web import register_web


def staff_keys(config: ProcessingConfig, db: Db) -> KeySet:
    return KeySet(
        db,
        config.staff_keys_secret,
        issuer=config.jwt_issuer,
        audience=config.jwt_audience,
        rotation=timedelta(days=config.staff_key_rotation_days),
    )


def create_app(config: ProcessingConfig | None = None) -> Flask:
    config = config or load_config()
    db = store.connect(config)
    keys = staff_keys(config, db)
    app = create_service_app(
        config=config,
        title="MotCua processing API",
        blueprints=BLUEPRINTS,
        db=db,
        key_resolver=keys.public_key_for,
    )
    app.extensions["blobs"] = open_blob_store(config.blob_url)
    app.extensions["staff_keys"] = keys
    app.extensions["signin_limit"] = ClientLimit(
        config.signin_rate_limit, config.rate_limit_storage_uri, "processing:signin"
    )
    register_web(app, db, config)
    return app
