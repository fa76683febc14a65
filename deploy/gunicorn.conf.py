"""gunicorn settings shared by every service's API (bind address comes from the command line)."""

import os
import tempfile

workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Each service logs its own JSON request line; gunicorn's access log would repeat it.
accesslog = None
# Several services run side by side on one host; gunicorn's control socket has one fixed path.
control_socket_disable = True

# Several worker processes share their metrics through files. prometheus_client picks its storage
# when first imported, so the directory is set here, before anything imports it.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="motcua-metrics-"))


def child_exit(_server, worker):  # gunicorn hook
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
