"""gunicorn entry point: `gunicorn -c deploy/gunicorn.conf.py notify.wsgi:app`."""

from eventkit.web import production_app
from notify import create_app

app = production_app(create_app)
