"""gunicorn settings shared by every service's API (bind address comes from the command line)."""

import os
import tempfile

from prometheus_client import multiprocess

workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Each service logs its own JSON request line; gunicorn's access log would repeat it.
accesslog = None

# Several worker processes share their metrics through files; the directory must exist before
# the app (and prometheus_client) is imported in the workers.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="motcua-metrics-"))


def child_exit(_server, worker):  # noqa: ANN001, ANN201 - gunicorn hook signature
    multiprocess.mark_process_dead(worker.pid)
