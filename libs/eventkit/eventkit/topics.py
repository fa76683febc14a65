"""The topic registry: every topic, its owner (the one producer) and the consumer groups reading it.

Names follow `<service>.<entity>.v<N>`; consumer groups `<service>.<purpose>`. Each group gets its
own `<topic>.<group>.retry` and `<topic>.<group>.dlt`. Workers create the topics they need at start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_MS = 24 * 60 * 60 * 1000
# Topics that carry applicants' contact data keep it no longer than this.
PERSONAL_DATA_RETENTION_MS = 90 * DAY_MS
DEAD_LETTER_RETENTION_MS = 90 * DAY_MS


class Services:
    INTAKE = "intake"
    PROCESSING = "processing"
    NOTIFY = "notify"
    PORTAL = "portal"
    ALL = (INTAKE, PROCESSING, NOTIFY, PORTAL)


class Groups:
    """Consumer groups; the prefix before the dot is the service that runs the group."""

    PROCESSING_INTAKE_DOSSIERS = "processing.intake-dossiers"
    NOTIFY_INTAKE_DOSSIERS = "notify.intake-dossiers"
    PORTAL_INTAKE_DOSSIERS = "portal.intake-dossiers"
    INTAKE_PROCESSING_DOSSIERS = "intake.processing-dossiers"
    NOTIFY_PROCESSING_DOSSIERS = "notify.processing-dossiers"
    PORTAL_PROCESSING_DOSSIERS = "portal.processing-dossiers"
    INTAKE_CATALOGUE = "intake.catalogue"
    PORTAL_CATALOGUE = "portal.catalogue"
    PORTAL_NOTIFICATIONS = "portal.notifications"


@dataclass(frozen=True)
class Topic:
    name: str
    owner: str
    consumers: tuple[str, ...]
    partitions: int = 3
    compacted: bool = False
    personal_data: bool = False
    description: str = ""

    def configs(self) -> dict[str, str]:
        if self.compacted:
            return {"cleanup.policy": "compact"}
        if self.personal_data:
            return {"retention.ms": str(PERSONAL_DATA_RETENTION_MS)}
        return {}


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
        ),
        personal_data=True,
        description="dossier submitted / supplemented / withdrawn",
    )
    PROCESSING_DOSSIERS = Topic(
        "processing.dossiers.v1",
        owner=Services.PROCESSING,
        consumers=(
            Groups.INTAKE_PROCESSING_DOSSIERS,
            Groups.NOTIFY_PROCESSING_DOSSIERS,
            Groups.PORTAL_PROCESSING_DOSSIERS,
        ),
        personal_data=True,
        description="dossier accepted / refused / supplement requested / ... / returned / overdue",
    )
    PROCESSING_PROCEDURES = Topic(
        "processing.procedures.v1",
        owner=Services.PROCESSING,
        consumers=(Groups.INTAKE_CATALOGUE, Groups.PORTAL_CATALOGUE),
        compacted=True,
        description="procedure catalogue, keyed by procedure code",
    )
    PROCESSING_UNITS = Topic(
        "processing.units.v1",
        owner=Services.PROCESSING,
        consumers=(Groups.INTAKE_CATALOGUE, Groups.PORTAL_CATALOGUE),
        compacted=True,
        description="administrative units, keyed by unit code",
    )
    NOTIFY_NOTIFICATIONS = Topic(
        "notify.notifications.v1",
        owner=Services.NOTIFY,
        consumers=(Groups.PORTAL_NOTIFICATIONS,),
        description="notification and letter delivery statuses",
    )


REGISTRY: tuple[Topic, ...] = (
    Topics.INTAKE_DOSSIERS,
    Topics.PROCESSING_DOSSIERS,
    Topics.PROCESSING_PROCEDURES,
    Topics.PROCESSING_UNITS,
    Topics.NOTIFY_NOTIFICATIONS,
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


def topic_specs_for(service: str, registry: tuple[Topic, ...] = REGISTRY) -> list[TopicSpec]:
    """Topics a service's worker needs: those it owns, those it reads, and its retry/DLT topics."""
    specs: list[TopicSpec] = []
    for topic in registry:
        mine = [g for g in topic.consumers if service_of_group(g) == service]
        if topic.owner == service or mine:
            specs.append(TopicSpec(topic.name, topic.partitions, topic.configs()))
        for group in mine:
            retry_configs = {} if topic.compacted else topic.configs()
            specs.append(TopicSpec(retry_topic(topic.name, group), topic.partitions, retry_configs))
            specs.append(
                TopicSpec(
                    dead_letter_topic(topic.name, group),
                    topic.partitions,
                    {"retention.ms": str(DEAD_LETTER_RETENTION_MS)},
                )
            )
    return specs


def all_topic_specs(registry: tuple[Topic, ...] = REGISTRY) -> list[TopicSpec]:
    seen: dict[str, TopicSpec] = {}
    for service in Services.ALL:
        for spec in topic_specs_for(service, registry):
            seen[spec.name] = spec
    return list(seen.values())
