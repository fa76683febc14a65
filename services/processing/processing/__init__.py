"""Processing: the dossiers' workflow, deadlines and statistics; owns the catalogue, units and calendar."""

from flask import Flask

from eventkit.config import ServiceConfig
from eventkit.web import create_service_app
from processing import store
from processing.api import BLUEPRINTS
from processing.config import load_config


def create_app(config: ServiceConfig | None = None) -> Flask:
    config = config or load_config()
    return create_service_app(
        config=config, title="MotCua processing API", blueprints=BLUEPRINTS, db=store.connect(config)
    )
