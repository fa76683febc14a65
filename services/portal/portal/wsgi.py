"""gunicorn entry point: `gunicorn -c deploy/gunicorn.conf.py portal.wsgi:app`."""

from eventkit.web import production_app
from portal import create_app

app = production_app(create_app)
