"""Event types intake publishes and consumes (CloudEvents `type`)."""


class EventTypes:
    DOSSIER_SUBMITTED = "vn.motcua.intake.dossier.submitted.v1"
    DOSSIER_SUPPLEMENTED = "vn.motcua.intake.dossier.supplemented.v1"
    DOSSIER_WITHDRAWN = "vn.motcua.intake.dossier.withdrawn.v1"


class ConsumedTypes:
    """Types of other services' events that this service handles (its own copy of the contract)."""

    PROCEDURE_PUBLISHED = "vn.motcua.processing.procedure.published.v1"
    UNIT_PUBLISHED = "vn.motcua.processing.unit.published.v1"

    DOSSIER_ACCEPTED = "vn.motcua.processing.dossier.accepted.v1"
    DOSSIER_REFUSED = "vn.motcua.processing.dossier.refused.v1"
    SUPPLEMENT_REQUESTED = "vn.motcua.processing.dossier.supplement_requested.v1"
    DOSSIER_ASSIGNED = "vn.motcua.processing.dossier.assigned.v1"
    DOSSIER_TRANSFERRED = "vn.motcua.processing.dossier.transferred.v1"
    DOSSIER_APPROVED = "vn.motcua.processing.dossier.approved.v1"
    DOSSIER_REJECTED = "vn.motcua.processing.dossier.rejected.v1"
    DOSSIER_STOPPED = "vn.motcua.processing.dossier.stopped.v1"
    RESULT_ISSUED = "vn.motcua.processing.dossier.result_issued.v1"
    DOSSIER_RETURNED = "vn.motcua.processing.dossier.returned.v1"

    DOSSIER_STATUS = (
        DOSSIER_ACCEPTED,
        DOSSIER_REFUSED,
        SUPPLEMENT_REQUESTED,
        DOSSIER_ASSIGNED,
        DOSSIER_TRANSFERRED,
        DOSSIER_APPROVED,
        DOSSIER_REJECTED,
        DOSSIER_STOPPED,
        RESULT_ISSUED,
        DOSSIER_RETURNED,
    )
