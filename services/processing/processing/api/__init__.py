"""Processing's HTTP resources; each module holds one flask-smorest blueprint."""

from flask_smorest import Blueprint

from processing.api import staff

BLUEPRINTS: tuple[Blueprint, ...] = (staff.blp,)
