"""How far each consumer group is behind: records on its topics (and its retry topic) that it has
not committed past. Read by the fault tests (until nothing is behind) and the benchmark (over
time)."""

from __future__ import annotations

from collections import defaultdict

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from eventkit.topics import REGISTRY, retry_topic


def group_partitions(consumer: KafkaConsumer) -> dict[str, list[TopicPartition]]:
    """Every consumer group id of the registry (each group's retry consumer too) → the partitions it
    reads."""
    read: dict[str, list[TopicPartition]] = defaultdict(list)
    for topic in REGISTRY:
        for group in topic.consumers:
            for name, group_id in ((topic.name, group), (retry_topic(topic.name, group), f"{group}.retry")):
                partitions = consumer.partitions_for_topic(name) or ()
                read[group_id].extend(TopicPartition(name, p) for p in sorted(partitions))
    return dict(read)


class LagProbe:
    """Connections kept open between samples, so a sample a second costs two requests."""

    def __init__(self, bootstrap: str) -> None:
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.read = group_partitions(self.consumer)

    def positions(self) -> dict[str, tuple[int, int]]:
        """Every `(group id, topic)` → (records not committed past, offsets committed, summed over
        the partitions)."""
        ends = self.consumer.end_offsets([tp for partitions in self.read.values() for tp in partitions])
        committed = self.admin.list_group_offsets(dict(self.read))
        out: dict[str, tuple[int, int]] = {}
        for group_id, partitions in self.read.items():
            for tp in partitions:
                offset = committed.get(group_id, {}).get(tp)
                done = offset.offset if offset is not None and offset.offset >= 0 else 0
                lag, total = out.get(f"{group_id} on {tp.topic}", (0, 0))
                out[f"{group_id} on {tp.topic}"] = (lag + max(0, ends[tp] - done), total + done)
        return out

    def behind(self) -> dict[str, int]:
        """`"<group id> on <topic>"` → records not committed past; only those behind."""
        return {where: lag for where, (lag, _) in self.positions().items() if lag}

    def by_group(self) -> tuple[dict[str, int], int]:
        """Group id (its retry consumer counted in) → records behind, for every group; and the
        offsets all groups have committed (what they have handled so far, summed)."""
        lag: dict[str, int] = {}
        handled = 0
        for where, (records, done) in self.positions().items():
            group_id = where.split(" on ", 1)[0].removesuffix(".retry")
            lag[group_id] = lag.get(group_id, 0) + records
            handled += done
        return lag, handled

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()


def backlog(bootstrap: str) -> dict[str, int]:
    """One sample with connections of its own."""
    probe = LagProbe(bootstrap)
    try:
        return probe.behind()
    finally:
        probe.close()
