"""gunicorn entry point: `gunicorn -c deploy/gunicorn.conf.py notify.wsgi:app`."""

from notify import create_app

app = create_app()
