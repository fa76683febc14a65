"""Where the sender looks for the notifications due: windows of `send_after`, oldest first.

FerretDB on SQLite narrows a query through the index but sorts and limits in its handler, so
"everything due, oldest first, 50 of them" reads the whole backlog for every batch: draining N
costs about N²/batch reads. The scan instead reads windows of `send_after`, each a two-sided range
the index answers alone, and sizes them to hold about a batch: a window holding more than a batch
narrows the next in proportion, a sparse one doubles it. On MongoDB it costs the same few index seeks.

Per due status it keeps a floor (nothing due is older) and a hint (where the first due one not
returned last time lies). The floor is found by one full query when the scan starts and again every
`rescan`; between, it only moves past windows found empty, and never nearer than `margin` to now:
a notification is written with `send_after` set to its writer's clock (made, swept, released) or
later (a backoff), so one written while the scan was passing still lies above the floor. Each scan
first reads the stretch between the floor and the hint (normally empty, one index seek), then
windows from the hint on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from eventkit.mongo import Db, Document
from notify import store
from notify.service.notifications import Statuses

MIN_WIDTH = timedelta(milliseconds=1)
MAX_WIDTH = timedelta(days=1)


class DueScan:
    def __init__(
        self,
        margin: timedelta = timedelta(minutes=5),
        rescan: timedelta = timedelta(hours=1),
        width: timedelta = timedelta(seconds=10),
    ) -> None:
        self.margin = margin
        self.rescan = rescan
        self.initial_width = width
        self.floors: dict[str, datetime] = {}
        self.hints: dict[str, datetime] = {}
        self.widths: dict[str, timedelta] = {}
        self.found_at: datetime | None = None

    def due(self, db: Db, now: datetime, limit: int) -> list[Document]:
        """Up to `limit` notifications due at `now`, oldest `send_after` first."""
        if self.found_at is None or not self.found_at <= now < self.found_at + self.rescan:
            self._find_floors(db, now)
        due: list[Document] = []
        for status in Statuses.DUE:
            due.extend(self._scan(db, status, now, limit - len(due)))
            if len(due) >= limit:
                break
        due.sort(key=lambda n: n["send_after"])
        return due[:limit]

    def _find_floors(self, db: Db, now: datetime) -> None:
        for status in Statuses.DUE:
            oldest = store.due_notifications(db, status, now, 1)
            floor = now - self.margin
            if oldest:
                floor = min(floor, oldest[0]["send_after"])
            self.floors[status] = self.hints[status] = floor
            self.widths.setdefault(status, self.initial_width)
        self.found_at = now

    def _scan(self, db: Db, status: str, now: datetime, limit: int) -> list[Document]:
        floor, hint, width = self.floors[status], self.hints[status], self.widths[status]
        found: list[Document] = []
        if floor < hint:  # left behind: a batch that stopped, a claim released, a late write
            found = store.due_window(db, status, floor, min(hint, now), closed=hint >= now)
        low = max(floor, hint)
        while (missing := limit - len(found)) > 0 and low <= now:
            # A window for what is missing, at the density seen last.
            high = low + max(MIN_WIDTH, width * missing / limit)
            closed = high >= now
            window = store.due_window(db, status, low, now if closed else high, closed=closed)
            found.extend(window)
            if len(window) > missing:  # next time a tenth wider than `missing` of these spanned
                window.sort(key=lambda n: n["send_after"])
                seen = window[missing]["send_after"] - window[0]["send_after"]
                width = max(MIN_WIDTH, seen * 1.1 * limit / missing)
            elif len(window) * 2 < missing:
                width = min(MAX_WIDTH, width * 2)
            low = now if closed else high
            if closed:
                break
        self.widths[status] = width
        found.sort(key=lambda n: n["send_after"])
        # The next scan starts at the first one not returned; what it returns it will have handled.
        self.hints[status] = found[limit]["send_after"] if len(found) > limit else min(low, now)
        oldest = found[0]["send_after"] if found else self.hints[status]
        self.floors[status] = max(floor, min(oldest, now - self.margin))
        return found[:limit]
