"""Processing's use cases: plain functions over the store; no Flask, no Kafka, no pymongo."""


class NotFound(Exception):
    """The code or year does not exist."""


class Conflict(Exception):
    """The edit was made on a version that is no longer current, or the code already exists."""


class InvalidData(Exception):
    """Data that passed its schema but breaks a rule that needs the store (e.g. an unknown unit)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(str(errors))
        self.errors = errors
