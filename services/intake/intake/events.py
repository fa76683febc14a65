"""Event types intake publishes (CloudEvents `type`), on the topics the registry gives it."""


class EventTypes:
    DOSSIER_SUBMITTED = "vn.motcua.intake.dossier.submitted.v1"
    DOSSIER_SUPPLEMENTED = "vn.motcua.intake.dossier.supplemented.v1"
    DOSSIER_WITHDRAWN = "vn.motcua.intake.dossier.withdrawn.v1"
