"""Notify's HTTP resources; each module holds one flask-smorest blueprint."""

from flask_smorest import Blueprint

BLUEPRINTS: tuple[Blueprint, ...] = ()
