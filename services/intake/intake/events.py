"""Event types intake publishes and consumes (CloudEvents `type`)."""


class EventTypes:
    DOSSIER_SUBMITTED = "vn.motcua.intake.dossier.submitted.v1"
    DOSSIER_SUPPLEMENTED = "vn.motcua.intake.dossier.supplemented.v1"
    DOSSIER_WITHDRAWN = "vn.motcua.intake.dossier.withdrawn.v1"


class ConsumedTypes:
    """Types of other services' events that this service handles (its own copy of the contract)."""

    PROCEDURE_PUBLISHED = "vn.motcua.processing.procedure.published.v1"
    UNIT_PUBLISHED = "vn.motcua.processing.unit.published.v1"
