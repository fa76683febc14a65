"""Notify's HTTP resources; each module holds one flask-smorest blueprint."""

from flask_smorest import Blueprint

from notify.api import letters

BLUEPRINTS: tuple[Blueprint, ...] = (letters.blp,)
