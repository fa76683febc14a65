"""Event types portal publishes and consumes (CloudEvents `type`)."""


class ConsumedTypes:
    """Types of other services' events that this service handles (its own copy of the contract)."""

    PROCEDURE_PUBLISHED = "vn.motcua.processing.procedure.published.v1"
    UNIT_PUBLISHED = "vn.motcua.processing.unit.published.v1"
