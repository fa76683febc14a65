"""Run as a child process: consume one group until the first event is applied, then die before the
commit, as a worker killed with SIGKILL would (`python consume_and_die.py <bootstrap> <mongo> <db>
<group> <topic>`)."""

from __future__ import annotations

import os
import sys
import threading

from pymongo import MongoClient

from eventkit.consumer import ConsumerRunner, Handler
from eventkit.kafka import make_producer
from tests.integration.counters import INCREMENTED, counting_handler


def main() -> None:
    bootstrap, mongo_url, db_name, group, topic = sys.argv[1:6]
    projection = MongoClient(mongo_url, retryWrites=False)[db_name]["projection"]
    seen: list[tuple[str, int, bool]] = []
    inner = counting_handler(projection, seen)

    def handle_then_die(event, data):  # type: ignore[no-untyped-def]
        inner.handle(event, data)
        os._exit(17)  # killed after applying, before the offset is committed

    runner = ConsumerRunner(
        bootstrap=bootstrap,
        group=group,
        topics=[topic],
        handlers={INCREMENTED: Handler(inner.schema, handle_then_die)},
        producer=make_producer(bootstrap, "dying"),
    )
    runner.run(threading.Event())


if __name__ == "__main__":
    main()
