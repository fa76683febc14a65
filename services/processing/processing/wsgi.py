"""gunicorn entry point: `gunicorn -c deploy/gunicorn.conf.py processing.wsgi:app`."""

from processing import create_app

app = create_app()
