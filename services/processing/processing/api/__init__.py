"""Processing's HTTP resources; each module holds one flask-smorest blueprint.

Every staff view puts `@staff_required` above `@blp.arguments`: the token is checked before the
request is parsed, so a request without one is 401 whatever its body.
"""

from flask_smorest import Blueprint

from processing.api import (
    calendar,
    dossiers,
    identity,
    procedures,
    queues,
    results,
    staff,
    staff_directory,
    stats,
    units,
)

BLUEPRINTS: tuple[Blueprint, ...] = (
    identity.blp,
    staff.blp,
    staff_directory.blp,
    procedures.blp,
    units.blp,
    calendar.blp,
    dossiers.blp,
    results.blp,
    stats.blp,
    queues.blp,
)
