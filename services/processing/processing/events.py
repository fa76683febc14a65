"""Event types processing publishes (CloudEvents `type`), on the topics the registry gives it."""


class EventTypes:
    DOSSIER_ACCEPTED = "vn.motcua.processing.dossier.accepted.v1"
    DOSSIER_REFUSED = "vn.motcua.processing.dossier.refused.v1"
    SUPPLEMENT_REQUESTED = "vn.motcua.processing.dossier.supplement_requested.v1"
    DOSSIER_ASSIGNED = "vn.motcua.processing.dossier.assigned.v1"
    DOSSIER_TRANSFERRED = "vn.motcua.processing.dossier.transferred.v1"
    DOSSIER_EXTENDED = "vn.motcua.processing.dossier.extended.v1"
    DOSSIER_APPROVED = "vn.motcua.processing.dossier.approved.v1"
    DOSSIER_REJECTED = "vn.motcua.processing.dossier.rejected.v1"
    DOSSIER_STOPPED = "vn.motcua.processing.dossier.stopped.v1"
    RESULT_ISSUED = "vn.motcua.processing.dossier.result_issued.v1"
    DOSSIER_RETURNED = "vn.motcua.processing.dossier.returned.v1"
    DOSSIER_DUE_SOON = "vn.motcua.processing.dossier.due_soon.v1"
    DOSSIER_OVERDUE = "vn.motcua.processing.dossier.overdue.v1"
    # The signed result's bytes, on processing.results.v1, for a dossier delivered online.
    RESULT_FILE = "vn.motcua.processing.result.issued.v1"
    PROCEDURE_PUBLISHED = "vn.motcua.processing.procedure.published.v1"
    UNIT_PUBLISHED = "vn.motcua.processing.unit.published.v1"


class ConsumedTypes:
    """Types of other services' events that processing handles (its own copy of the contract)."""

    DOSSIER_SUBMITTED = "vn.motcua.intake.dossier.submitted.v1"
    DOSSIER_SUPPLEMENTED = "vn.motcua.intake.dossier.supplemented.v1"
    DOSSIER_WITHDRAWN = "vn.motcua.intake.dossier.withdrawn.v1"
    LETTER_RETURNED = "vn.motcua.notify.letter.returned.v1"
