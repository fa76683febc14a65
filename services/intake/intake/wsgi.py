"""gunicorn entry point: `gunicorn -c deploy/gunicorn.conf.py intake.wsgi:app`."""

from eventkit.web import production_app
from intake import create_app

app = production_app(create_app)
