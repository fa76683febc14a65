"""`python -m intake.worker`: the outbox relay and intake's consumer groups."""

from eventkit.worker import WorkerSpec, run_worker
from intake import handlers, store
from intake.config import SERVICE, load_config


def main() -> None:
    config = load_config(worker=True)
    db = store.connect(config)
    spec = WorkerSpec(
        service=SERVICE,
        outbox_collections=store.OUTBOX_COLLECTIONS,
        handlers=handlers.build_handlers(db),
        prepare=lambda: store.ensure_indexes(db),
    )
    run_worker(spec, config, db)


if __name__ == "__main__":
    main()
