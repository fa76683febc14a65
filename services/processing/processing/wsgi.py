"""gunicorn entry point: `gunicorn -c deploy/gunicorn.conf.py processing.wsgi:app`."""

from eventkit.web import production_app
from processing import create_app

app = production_app(create_app)
