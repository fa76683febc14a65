"""Processing's HTTP resources; each module holds one flask-smorest blueprint."""

from flask_smorest import Blueprint

from processing.api import calendar, procedures, staff, units

BLUEPRINTS: tuple[Blueprint, ...] = (staff.blp, procedures.blp, units.blp, calendar.blp)
