"""Run as a child process: one writer of dossier numbers, as one gunicorn worker is
(`python -m tests.integration.take_numbers <mongo> <db> <unit> <day> <count> <threads>`).

Prints the numbers it was given, as JSON. Its threads share this process's hints, as a worker's
request threads do; several children compete for the same numbers through the store alone.
"""

from __future__ import annotations

import json
import sys
import threading

from pymongo import MongoClient

from intake import store


def main() -> None:
    mongo_url, db_name, unit, day, count, threads = sys.argv[1:7]
    db = MongoClient(mongo_url, retryWrites=False, tz_aware=True)[db_name]
    given: list[int] = []
    lock = threading.Lock()

    def writer() -> None:
        mine = [store.next_number(db, unit, day) for _ in range(int(count))]
        with lock:
            given.extend(mine)

    writers = [threading.Thread(target=writer) for _ in range(int(threads))]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    sys.stdout.write(json.dumps(given))


if __name__ == "__main__":
    main()
