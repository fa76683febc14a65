#!/bin/sh
# Start one MotCua process in the container: `run-process.sh <service> api|worker`.
# The API is gunicorn on 0.0.0.0:8000; the worker serves its probes (/healthz, /readyz, /metrics)
# on 8000 too, so one health check fits every process of the image.
set -eu

service="${1:-}"
role="${2:-}"
case "$service" in
  intake | processing | notify | portal) ;;
  *) echo "usage: run-process.sh intake|processing|notify|portal api|worker" >&2; exit 64 ;;
esac

case "$role" in
  api) exec gunicorn -c /app/deploy/gunicorn.conf.py --bind 0.0.0.0:8000 "$service.wsgi:app" ;;
  worker) HEALTH_PORT=8000 exec python -m "$service.worker" ;;
  *) echo "usage: run-process.sh $service api|worker" >&2; exit 64 ;;
esac
