"""`python -m portal.rebuild` (or `make rebuild-portal`): portal's read models again from the topics.

    python -m portal.rebuild [--dry-run]

Drops the read models (dossier status, statistics, letter and notification statuses, catalogue:
`store.READ_MODELS`), creates their indexes, then re-delivers every topic of each group portal
runs from its first offset into that group's retry topic (`eventkit.replay.replay_to_group`), so
portal's running worker applies them again and no other service sees them. The handlers apply
each event once and in order whatever the order of arrival, so the models come back as the live
ones were, also while new events keep arriving meanwhile.

The counters are dropped before the dossiers: a handler racing with the drop then either finds
the dossier marked counted and its counter gone (the replay counts it again, once: the mark went
with the dossiers), or counts into a new counter whose key the replay finds. One race is left: a
handler that counted into the old counters and marks the dossier only after both drops, on the
dossier the replay has begun again, loses that count; stopping the worker for the drop (it runs
the replay once started again) closes it. The pages read
partial models until the worker has caught up with the retry topics. What the topics no longer
hold is lost: the dossier topics keep 90 days (personal data), so statistics of older months do
not come back from them.

Ratings are the portal's own records, not events: they are kept, and counted again into the new
counters (once each, by the same keyed `$inc` as when they were given).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kafka import KafkaProducer

from eventkit.config import ConfigError, ServiceConfig
from eventkit.mongo import Db
from eventkit.replay import ReplayError, ReplayResult, replay_to_group
from eventkit.topics import groups_of
from portal import handlers, store
from portal.config import SERVICE
from portal.service import ratings


def replayed_groups(db: Db) -> dict[str, list[str]]:
    """The groups portal runs (those with handlers), each with the topics it reads."""
    running = {group for group, table in handlers.build_handlers(db).items() if table}
    return {group: topics for group, topics in sorted(groups_of(SERVICE).items()) if group in running}


def rebuild(
    db: Db, bootstrap: str, *, dry_run: bool = False, producer: KafkaProducer | None = None
) -> list[ReplayResult]:
    """Drop the read models and re-deliver their topics; with `dry_run`, only count."""
    if not dry_run:
        store.drop_read_models(db)
        store.ensure_read_model_indexes(db)
        for rating in store.every_rating(db):
            ratings.count(db, rating)
    return [
        replay_to_group(bootstrap, topic, group, from_offset=0, dry_run=dry_run, producer=producer)
        for group, topics in replayed_groups(db).items()
        for topic in topics
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal.rebuild", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would be re-delivered, drop nothing"
    )
    args = parser.parse_args(argv)
    try:
        # A command-line tool: it needs the store and the broker, not the staff token settings.
        config = ServiceConfig.from_env(SERVICE, worker=True, auth=False)
    except ConfigError as exc:
        sys.stderr.write(f"rebuild: {exc}\n")
        return 2
    assert config.kafka_bootstrap is not None
    db = store.connect(config)
    try:
        results = rebuild(db, config.kafka_bootstrap, dry_run=args.dry_run)
    except ReplayError as exc:
        sys.stderr.write(f"rebuild: {exc}\n")
        return 2
    for result in results:
        sys.stdout.write(result.report() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
