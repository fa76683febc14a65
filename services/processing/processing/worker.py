"""`python -m processing.worker`: the outbox relay and processing's consumer groups."""

from eventkit.logs import configure_logging
from eventkit.worker import Worker, WorkerSpec
from processing import handlers, store
from processing.config import SERVICE, load_config


def main() -> None:
    config = load_config(worker=True)
    configure_logging(f"{SERVICE}-worker", config.log_level)
    db = store.connect(config)
    spec = WorkerSpec(
        service=SERVICE,
        outbox_collections=store.OUTBOX_COLLECTIONS,
        handlers=handlers.build_handlers(db),
        prepare=lambda: store.ensure_indexes(db),
    )
    Worker(spec, config, db).run()


if __name__ == "__main__":
    main()
