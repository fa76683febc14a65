"""Intake: where a citizen's dossier enters the system (online and counter filing, uploads, dossier codes)."""

from flask import Flask

from eventkit.config import ServiceConfig
from eventkit.logs import configure_logging
from eventkit.mongo import ping
from eventkit.web import create_service_app
from intake import store
from intake.api import BLUEPRINTS
from intake.config import load_config


def create_app(config: ServiceConfig | None = None) -> Flask:
    config = config or load_config()
    configure_logging(config.service, config.log_level)
    db = store.connect(config)
    app = create_service_app(
        config=config,
        title="MotCua intake API",
        blueprints=BLUEPRINTS,
        readiness={"store": lambda: ping(db)},
    )
    app.extensions["intake.db"] = db
    return app
