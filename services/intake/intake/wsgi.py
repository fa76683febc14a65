"""gunicorn entry point: `gunicorn -c deploy/gunicorn.conf.py intake.wsgi:app`."""

from intake import create_app

app = create_app()
