"""gunicorn entry point: `gunicorn -c deploy/gunicorn.conf.py portal.wsgi:app`."""

from portal import create_app

app = create_app()
