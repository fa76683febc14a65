"""Re-deliver events after a fix: `python -m eventkit.replay` (or `make replay ARGS="..."`).

    python -m eventkit.replay group TOPIC GROUP (--from-offset N | --from-time ISO) [--partition P]
    python -m eventkit.replay dead-letters DLT_TOPIC [--error-type T] [--to-retry] [--from-offset N]

`group` copies a topic's records from an offset or a time into `<topic>.<group>.retry`, which only
that group reads, with the retry headers its runner understands (due now, first round, the original
topic, partition and offset): that group handles them again, no other group sees them. Handlers
are idempotent, so events it already applied change nothing.

`dead-letters` moves a dead-letter topic's records back to the topic named by their
`x-original-topic` header (every group of that topic reads them again), or with `--to-retry` to the
retry topic of the group that dead-lettered them only; `--error-type` keeps only that error type.

Both read from the start position up to the end offsets seen at start (records written meanwhile
are left alone), print a count per partition, and with `--dry-run` write nothing. Nothing is
committed: running the same replay twice delivers the records twice (harmless to idempotent
handlers; narrow the range with `--from-offset` instead).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from eventkit.consumer import (
    H_ERROR_TYPE,
    H_GROUP,
    H_NOT_BEFORE,
    H_ORIGINAL_OFFSET,
    H_ORIGINAL_PARTITION,
    H_ORIGINAL_TOPIC,
    H_RETRY_ROUND,
)
from eventkit.kafka import make_producer
from eventkit.topics import REGISTRY, Topic, retry_topic

H_REPLAYED_FROM = "x-replayed-from"


class ReplayError(RuntimeError):
    pass


@dataclass
class Copy:
    target: str
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]


@dataclass
class ReplayResult:
    source: str
    dry_run: bool
    # Records copied (or that a dry run would copy), by source partition and by target topic.
    per_partition: dict[int, int] = field(default_factory=dict)
    per_target: dict[str, int] = field(default_factory=dict)
    # Dead letters left out: another error type, or no original topic to go back to.
    left_out: int = 0

    @property
    def total(self) -> int:
        return sum(self.per_partition.values())

    def add(self, partition: int, target: str) -> None:
        self.per_partition[partition] = self.per_partition.get(partition, 0) + 1
        self.per_target[target] = self.per_target.get(target, 0) + 1

    def report(self) -> str:
        lines = [f"{self.source}: {'would copy' if self.dry_run else 'copied'} {self.total} records"]
        lines += [f"  partition {p}: {n}" for p, n in sorted(self.per_partition.items())]
        lines += [f"  -> {t}: {n}" for t, n in sorted(self.per_target.items())]
        if self.left_out:
            lines.append(f"  left out: {self.left_out}")
        if self.dry_run:
            lines.append("  dry run: nothing written")
        return "\n".join(lines)


def parse_time(text: str) -> int:
    """An ISO 8601 time (UTC when it names no offset) as epoch milliseconds."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ReplayError(f"not an ISO 8601 time: {text}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _partitions(consumer: KafkaConsumer, topic: str) -> list[int]:
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        raise ReplayError(f"topic {topic} does not exist")
    return sorted(partitions)


def read_range(
    bootstrap: str,
    topic: str,
    *,
    from_offset: int | None = None,
    from_time_ms: int | None = None,
    partitions: Sequence[int] | None = None,
    stall_timeout: float = 30.0,
) -> Iterator[ConsumerRecord]:
    """The records of `topic` from an offset or a time up to the end offsets at the call."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        existing = _partitions(consumer, topic)
        wanted = existing if partitions is None else sorted(partitions)
        if set(wanted) - set(existing):
            raise ReplayError(f"{topic} has partitions {existing}, not {wanted}")
        tps = [TopicPartition(topic, p) for p in wanted]
        begin, end = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
        if from_time_ms is not None:
            found = consumer.offsets_for_times(dict.fromkeys(tps, from_time_ms))
            start = {tp: end[tp] if found.get(tp) is None else found[tp].offset for tp in tps}
        else:
            start = {tp: max(from_offset or 0, begin[tp]) for tp in tps}
        active = [tp for tp in tps if start[tp] < end[tp]]
        if not active:
            return
        consumer.assign(active)
        for tp in active:
            consumer.seek(tp, start[tp])
        remaining = set(active)
        last_progress = time.monotonic()
        while remaining:
            batch = consumer.poll(timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    if tp in remaining and record.offset < end[tp]:
                        yield record
            for tp in list(remaining):
                # A compacted topic or transaction markers can leave gaps: compare positions.
                if consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
                    consumer.pause(tp)
            if batch:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > stall_timeout:
                raise ReplayError(f"no progress reading {topic} for {stall_timeout:.0f} s")
    finally:
        consumer.close()


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode("utf-8", "replace") for k, v in (record.headers or [])}


def _retry_headers(topic: str, partition: int, offset: int, source: str) -> dict[str, str]:
    # What the runner reads from its retry topic: due now, and the full retry budget (round 0).
    return {
        H_ORIGINAL_TOPIC: topic,
        H_ORIGINAL_PARTITION: str(partition),
        H_ORIGINAL_OFFSET: str(offset),
        H_NOT_BEFORE: f"{time.time():.3f}",
        H_RETRY_ROUND: "0",
        H_REPLAYED_FROM: source,
    }


def _check_targets(bootstrap: str, targets: set[str]) -> None:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        missing = sorted(t for t in targets if not consumer.partitions_for_topic(t))
    finally:
        consumer.close()
    if missing:
        raise ReplayError(f"target topics do not exist (start the group's worker once): {missing}")


def _write(bootstrap: str, copies: Iterator[Copy], producer: KafkaProducer | None) -> None:
    own = producer is None
    sender = producer or make_producer(bootstrap, "eventkit-replay")
    try:
        futures = [
            sender.send(
                c.target,
                key=c.key,
                value=c.value,
                headers=[(k, v.encode("utf-8")) for k, v in c.headers.items()],
            )
            for c in copies
        ]
        sender.flush()
        for future in futures:
            future.get(timeout=30)
    finally:
        if own:
            sender.close(timeout=5)


def check_group_reads(topic: str, group: str, registry: tuple[Topic, ...] = REGISTRY) -> None:
    """A registered topic is replayed only to a group the registry says reads it."""
    for registered in registry:
        if registered.name == topic and group not in registered.consumers:
            raise ReplayError(f"{group} does not read {topic}; its groups: {list(registered.consumers)}")


def replay_to_group(
    bootstrap: str,
    topic: str,
    group: str,
    *,
    from_offset: int | None = None,
    from_time_ms: int | None = None,
    partitions: Sequence[int] | None = None,
    dry_run: bool = False,
    producer: KafkaProducer | None = None,
) -> ReplayResult:
    """Copy `topic`'s records in range into the group's retry topic, so only that group sees them."""
    target = retry_topic(topic, group)
    _check_targets(bootstrap, {target})
    result = ReplayResult(source=topic, dry_run=dry_run)

    def copies() -> Iterator[Copy]:
        for record in read_range(
            bootstrap, topic, from_offset=from_offset, from_time_ms=from_time_ms, partitions=partitions
        ):
            result.add(record.partition, target)
            source = f"{topic}:{record.partition}:{record.offset}"
            headers = _retry_headers(topic, record.partition, record.offset, source)
            yield Copy(target, record.key, record.value, headers)

    if dry_run:
        for _ in copies():
            pass
    else:
        _write(bootstrap, copies(), producer)
    return result


def replay_dead_letters(
    bootstrap: str,
    dead_letter_topic: str,
    *,
    error_type: str | None = None,
    to_retry: bool = False,
    from_offset: int | None = None,
    from_time_ms: int | None = None,
    dry_run: bool = False,
    producer: KafkaProducer | None = None,
) -> ReplayResult:
    """Send a dead-letter topic's records back to their original topic (or the group's retry topic)."""
    result = ReplayResult(source=dead_letter_topic, dry_run=dry_run)
    plan: list[Copy] = []
    for record in read_range(
        bootstrap, dead_letter_topic, from_offset=from_offset, from_time_ms=from_time_ms
    ):
        headers = _headers(record)
        original = headers.get(H_ORIGINAL_TOPIC)
        if not original or (error_type is not None and headers.get(H_ERROR_TYPE) != error_type):
            result.left_out += 1
            continue
        source = f"{dead_letter_topic}:{record.partition}:{record.offset}"
        if to_retry:
            if not headers.get(H_GROUP):
                result.left_out += 1
                continue
            target = retry_topic(original, headers[H_GROUP])
            copy_headers = _retry_headers(
                original,
                int(headers.get(H_ORIGINAL_PARTITION, "0")),
                int(headers.get(H_ORIGINAL_OFFSET, "0")),
                source,
            )
        else:
            # Back on its topic it starts afresh: the failure headers (all `x-`) stay behind.
            target = original
            copy_headers = {k: v for k, v in headers.items() if not k.startswith("x-")}
            copy_headers[H_REPLAYED_FROM] = source
        plan.append(Copy(target, record.key, record.value, copy_headers))
        result.add(record.partition, target)
    # Every target must exist before anything is written, so a run is never half done by a typo.
    _check_targets(bootstrap, {c.target for c in plan})
    if plan and not dry_run:
        _write(bootstrap, iter(plan), producer)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eventkit.replay", description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--dry-run", action="store_true", help="count what would be copied, write nothing")
    commands = parser.add_subparsers(dest="command", required=True)

    group = commands.add_parser("group", help="re-deliver a topic's events to one consumer group")
    group.add_argument("topic")
    group.add_argument("group")
    start = group.add_mutually_exclusive_group(required=True)
    start.add_argument("--from-offset", type=int, help="from this offset in every partition chosen")
    start.add_argument("--from-time", help="from this ISO 8601 time (UTC unless it names an offset)")
    group.add_argument("--partition", type=int, action="append", help="only this partition (repeatable)")

    dead = commands.add_parser("dead-letters", help="move dead letters back to their original topic")
    dead.add_argument("topic", help="a dead-letter topic, <topic>.<group>.dlt")
    dead.add_argument("--error-type", help="only records dead-lettered with this x-error-type")
    dead.add_argument("--to-retry", action="store_true", help="to the failing group's retry topic only")
    dead_start = dead.add_mutually_exclusive_group()
    dead_start.add_argument("--from-offset", type=int)
    dead_start.add_argument("--from-time")

    for sub in (group, dead):
        sub.add_argument("--dry-run", action="store_true", default=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        from_time_ms = parse_time(args.from_time) if args.from_time else None
        if args.command == "group":
            check_group_reads(args.topic, args.group)
            result = replay_to_group(
                args.bootstrap,
                args.topic,
                args.group,
                from_offset=args.from_offset,
                from_time_ms=from_time_ms,
                partitions=args.partition,
                dry_run=args.dry_run,
            )
        else:
            result = replay_dead_letters(
                args.bootstrap,
                args.topic,
                error_type=args.error_type,
                to_retry=args.to_retry,
                from_offset=args.from_offset,
                from_time_ms=from_time_ms,
                dry_run=args.dry_run,
            )
    except ReplayError as exc:
        sys.stderr.write(f"replay: {exc}\n")
        return 2
    sys.stdout.write(result.report() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
