"""`python -m processing.worker`: the outbox relay and processing's consumer groups."""

from eventkit.worker import run_service_worker
from processing import handlers, store
from processing.config import load_config


def main() -> None:
    run_service_worker(
        load_config(worker=True),
        connect=store.connect,
        outbox_collections=store.OUTBOX_COLLECTIONS,
        build_handlers=handlers.build_handlers,
        ensure_indexes=store.ensure_indexes,
    )


if __name__ == "__main__":
    main()
