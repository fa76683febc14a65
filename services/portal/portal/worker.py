"""`python -m portal.worker`: the outbox relay and portal's consumer groups."""

from eventkit.worker import WorkerSpec, run_worker
from portal import handlers, store
from portal.config import SERVICE, load_config


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
