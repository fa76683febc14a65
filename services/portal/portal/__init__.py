"""Portal: the public site (news, directive documents, procedures, dossier lookup, statistics)."""

from flask import Flask

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
    register_web(app, db)
    return app
