"""The topic registry: every topic, its owner (the one producer) and the consumer groups reading it.

Names follow `<service>.<entity>.v<N>`; consumer groups `<service>.<purpose>`. Each group gets its
own `<topic>.<group>.retry` and `<topic>.<group>.dlt`. Workers create the topics they need at start.

Each topic lists the event types its owner publishes on it, and per consumer group the types that
group skips on purpose. A running group handles or skips every type of its topics: a type it does
neither is dead-lettered, never committed past, so it can be replayed once a handler exists. A
group that handles nothing runs no consumer at all, so it commits nothing until its handlers ship.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DAY_MS = 24 * 60 * 60 * 1000
# Topics that carry applicants' contact data keep it no longer than this.
PERSONAL_DATA_RETENTION_MS = 90 * DAY_MS
DEAD_LETTER_RETENTION_MS = 90 * DAY_MS
MIB = 1024 * 1024
# The largest record a topic that carries files takes (`max.message.bytes`); every other topic
# keeps the broker's default (about 1 MiB). The signed result sent to notify is at most 5 MiB
# (processing's RESULT_ATTACH_MAX_BYTES), i.e. 6.7 MiB in base64, plus its envelope.
FILE_MESSAGE_MAX_BYTES = 8 * MIB


class Services:
    INTAKE = "intake"
    PROCESSING = "processing"
    NOTIFY = "notify"
    PORTAL = "portal"
    ALL = (INTAKE, PROCESSING, NOTIFY, PORTAL)


class Groups:
    """Consumer groups; the prefix before the dot is the service that runs the group."""

    PROCESSING_INTAKE_DOSSIERS = "processing.intake-dossiers"
    # Live statistics: reads both dossier topics (intake's receipts at the counter and withdrawals,
    # processing's decisions).
    PROCESSING_STATS = "processing.stats"
    NOTIFY_INTAKE_DOSSIERS = "notify.intake-dossiers"
    PORTAL_INTAKE_DOSSIERS = "portal.intake-dossiers"
    INTAKE_PROCESSING_DOSSIERS = "intake.processing-dossiers"
    NOTIFY_PROCESSING_DOSSIERS = "notify.processing-dossiers"
    PORTAL_PROCESSING_DOSSIERS = "portal.processing-dossiers"
    INTAKE_CATALOGUE = "intake.catalogue"
    PORTAL_CATALOGUE = "portal.catalogue"
    # Notify's copy of the units and procedures: the names, addresses and times its letters print.
    NOTIFY_CATALOGUE = "notify.catalogue"
    PORTAL_NOTIFICATIONS = "portal.notifications"
    # The signed results notify attaches to the citizen's email (online delivery).
    NOTIFY_RESULTS = "notify.results"
    # Letters the post brought back, flagged on their dossier for the receiving unit's staff.
    PROCESSING_NOTIFY_LETTERS = "processing.notify-letters"


# A letter's statuses, each an event type on notify.letters.v1.
LETTER_STATUSES = (
    "rendered",
    "signed",
    "technical_failure",
    "batched",
    "cancelled",
    "despatched",
    "delivered",
    "returned",
)


@dataclass(frozen=True)
class Topic:
    name: str
    owner: str
    consumers: tuple[str, ...]
    partitions: int = 3
    compacted: bool = False
    personal_data: bool = False
    description: str = ""
    # The event types the owner publishes here: the contract each consumer group is checked against.
    event_types: tuple[str, ...] = ()
    # Per consumer group, the types of this topic it skips on purpose (it will never need them).
    skipped: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)
    # `max.message.bytes` of a topic whose records are larger than the broker's default; it holds
    # for the topic's retry and dead-letter topics too, so a big record can be retried and parked.
    max_message_bytes: int | None = None

    def size_configs(self) -> dict[str, str]:
        return {"max.message.bytes": str(self.max_message_bytes)} if self.max_message_bytes else {}

    def configs(self) -> dict[str, str]:
        if self.compacted:
            return {"cleanup.policy": "compact", **self.size_configs()}
        if self.personal_data:
            return {"retention.ms": str(PERSONAL_DATA_RETENTION_MS), **self.size_configs()}
        return self.size_configs()


@dataclass(frozen=True)
class TopicSpec:
    """What the admin client needs to create one topic."""

    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


class Topics:
    INTAKE_DOSSIERS = Topic(
        "intake.dossiers.v1",
        owner=Services.INTAKE,
        consumers=(
            Groups.PROCESSING_INTAKE_DOSSIERS,
            Groups.NOTIFY_INTAKE_DOSSIERS,
            Groups.PORTAL_INTAKE_DOSSIERS,
            Groups.PROCESSING_STATS,
        ),
        personal_data=True,
        description="dossier submitted / supplemented / withdrawn",
        event_types=(
            "vn.motcua.intake.dossier.submitted.v1",
            "vn.motcua.intake.dossier.supplemented.v1",
            "vn.motcua.intake.dossier.withdrawn.v1",
        ),
        skipped={
            # A supplement moves no counter: the dossier stays in the stock it was in.
            Groups.PROCESSING_STATS: frozenset({"vn.motcua.intake.dossier.supplemented.v1"}),
        },
    )
    PROCESSING_DOSSIERS = Topic(
        "processing.dossiers.v1",
        owner=Services.PROCESSING,
        consumers=(
            Groups.INTAKE_PROCESSING_DOSSIERS,
            Groups.NOTIFY_PROCESSING_DOSSIERS,
            Groups.PORTAL_PROCESSING_DOSSIERS,
            Groups.PROCESSING_STATS,
        ),
        personal_data=True,
        description="dossier accepted / refused / supplement requested / ... / returned / stopped / overdue",
        event_types=(
            "vn.motcua.processing.dossier.accepted.v1",
            "vn.motcua.processing.dossier.refused.v1",
            "vn.motcua.processing.dossier.supplement_requested.v1",
            "vn.motcua.processing.dossier.assigned.v1",
            "vn.motcua.processing.dossier.transferred.v1",
            "vn.motcua.processing.dossier.extended.v1",
            "vn.motcua.processing.dossier.approved.v1",
            "vn.motcua.processing.dossier.rejected.v1",
            "vn.motcua.processing.dossier.stopped.v1",
            "vn.motcua.processing.dossier.result_issued.v1",
            "vn.motcua.processing.dossier.returned.v1",
            "vn.motcua.processing.dossier.due_soon.v1",
            "vn.motcua.processing.dossier.overdue.v1",
        ),
        # processing.stats skips none of these: its standing keeps the newest sequence it applied,
        # which intake's withdrawal waits for.
        skipped={
            # Intake shows the citizen's status and lets the units holding the dossier read its
            # files; a new deadline or a deadline warning changes neither.
            Groups.INTAKE_PROCESSING_DOSSIERS: frozenset(
                {
                    "vn.motcua.processing.dossier.extended.v1",
                    "vn.motcua.processing.dossier.due_soon.v1",
                    "vn.motcua.processing.dossier.overdue.v1",
                }
            ),
        },
    )
    PROCESSING_RESULTS = Topic(
        "processing.results.v1",
        owner=Services.PROCESSING,
        consumers=(Groups.NOTIFY_RESULTS,),
        personal_data=True,
        description="the signed result PDF of a dossier delivered online, for the citizen's email,"
        " keyed by dossier code",
        event_types=("vn.motcua.processing.result.issued.v1",),
        max_message_bytes=FILE_MESSAGE_MAX_BYTES,
    )
    PROCESSING_PROCEDURES = Topic(
        "processing.procedures.v1",
        owner=Services.PROCESSING,
        consumers=(Groups.INTAKE_CATALOGUE, Groups.NOTIFY_CATALOGUE, Groups.PORTAL_CATALOGUE),
        compacted=True,
        description="procedure catalogue, keyed by procedure code",
        event_types=("vn.motcua.processing.procedure.published.v1",),
    )
    PROCESSING_UNITS = Topic(
        "processing.units.v1",
        owner=Services.PROCESSING,
        consumers=(Groups.INTAKE_CATALOGUE, Groups.NOTIFY_CATALOGUE, Groups.PORTAL_CATALOGUE),
        compacted=True,
        description="administrative units, keyed by unit code",
        event_types=("vn.motcua.processing.unit.published.v1",),
    )
    NOTIFY_NOTIFICATIONS = Topic(
        "notify.notifications.v1",
        owner=Services.NOTIFY,
        consumers=(Groups.PORTAL_NOTIFICATIONS,),
        description="notifications' delivery statuses",
        event_types=(
            # One type per status of a notification (GOV.UK Notify's names, `-` written `_`).
            "vn.motcua.notify.notification.created.v1",
            "vn.motcua.notify.notification.skipped.v1",
            "vn.motcua.notify.notification.sending.v1",
            "vn.motcua.notify.notification.delivered.v1",
            "vn.motcua.notify.notification.temporary_failure.v1",
            "vn.motcua.notify.notification.permanent_failure.v1",
            "vn.motcua.notify.notification.technical_failure.v1",
        ),
    )
    NOTIFY_LETTERS = Topic(
        "notify.letters.v1",
        owner=Services.NOTIFY,
        consumers=(Groups.PORTAL_NOTIFICATIONS, Groups.PROCESSING_NOTIFY_LETTERS),
        description="official letters' statuses: signed, batched for the post, cancelled, and what"
        " the postal operator reports",
        event_types=tuple(f"vn.motcua.notify.letter.{status}.v1" for status in LETTER_STATUSES),
        skipped={
            # Staff act on a letter that came back (the address, a call to the applicant); the
            # letter's other steps are notify's and the citizen's.
            Groups.PROCESSING_NOTIFY_LETTERS: frozenset(
                f"vn.motcua.notify.letter.{status}.v1" for status in LETTER_STATUSES if status != "returned"
            ),
        },
    )
    PORTAL_CONTENT = Topic(
        "portal.content.v1",
        owner=Services.PORTAL,
        # For readers outside the four services (syndication, a search cluster): none of ours yet.
        consumers=(),
        description="news articles and directive documents published / unpublished, keyed by item id",
        event_types=(
            "vn.motcua.portal.content.published.v1",
            "vn.motcua.portal.content.unpublished.v1",
        ),
    )


REGISTRY: tuple[Topic, ...] = (
    Topics.INTAKE_DOSSIERS,
    Topics.PROCESSING_DOSSIERS,
    Topics.PROCESSING_RESULTS,
    Topics.PROCESSING_PROCEDURES,
    Topics.PROCESSING_UNITS,
    Topics.NOTIFY_NOTIFICATIONS,
    Topics.NOTIFY_LETTERS,
    Topics.PORTAL_CONTENT,
)


def retry_topic(topic: str, group: str) -> str:
    return f"{topic}.{group}.retry"


def dead_letter_topic(topic: str, group: str) -> str:
    return f"{topic}.{group}.dlt"


def service_of_group(group: str) -> str:
    return group.split(".", 1)[0]


def groups_of(service: str, registry: tuple[Topic, ...] = REGISTRY) -> dict[str, list[str]]:
    """The consumer groups a service runs, each with the topics it reads."""
    groups: dict[str, list[str]] = {}
    for topic in registry:
        for group in topic.consumers:
            if service_of_group(group) == service:
                groups.setdefault(group, []).append(topic.name)
    return groups


def topics_read_by(group: str, registry: tuple[Topic, ...] = REGISTRY) -> list[Topic]:
    return [topic for topic in registry if group in topic.consumers]


def published_on(group: str, registry: tuple[Topic, ...] = REGISTRY) -> frozenset[str]:
    """Every event type published on the topics a group reads."""
    return frozenset(t for topic in topics_read_by(group, registry) for t in topic.event_types)


def skipped_by(group: str, registry: tuple[Topic, ...] = REGISTRY) -> frozenset[str]:
    """The event types a group skips on purpose, over all the topics it reads."""
    return frozenset(t for topic in topics_read_by(group, registry) for t in topic.skipped.get(group, ()))


def topic_specs_for(service: str, registry: tuple[Topic, ...] = REGISTRY) -> list[TopicSpec]:
    """Topics a service's worker needs: those it owns, those it reads, and its retry/DLT topics."""
    specs: list[TopicSpec] = []
    for topic in registry:
        mine = [g for g in topic.consumers if service_of_group(g) == service]
        if topic.owner == service or mine:
            specs.append(TopicSpec(topic.name, topic.partitions, topic.configs()))
        for group in mine:
            retry_configs = topic.size_configs() if topic.compacted else topic.configs()
            specs.append(TopicSpec(retry_topic(topic.name, group), topic.partitions, retry_configs))
            specs.append(
                TopicSpec(
                    dead_letter_topic(topic.name, group),
                    topic.partitions,
                    {"retention.ms": str(DEAD_LETTER_RETENTION_MS), **topic.size_configs()},
                )
            )
    return specs


def all_topic_specs(registry: tuple[Topic, ...] = REGISTRY) -> list[TopicSpec]:
    seen: dict[str, TopicSpec] = {}
    for service in Services.ALL:
        for spec in topic_specs_for(service, registry):
            seen[spec.name] = spec
    return list(seen.values())
