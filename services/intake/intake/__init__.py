"""Intake: where a citizen's dossier enters the system (online and counter filing, uploads, dossier codes)."""

from flask import Flask

from eventkit.config import ServiceConfig
from eventkit.web import create_service_app
from intake import store
from intake.api import BLUEPRINTS
from intake.config import load_config


def create_app(config: ServiceConfig | None = None) -> Flask:
    config = config or load_config()
    return create_service_app(
        config=config, title="MotCua intake API", blueprints=BLUEPRINTS, db=store.connect(config)
    )
