"""Portal's HTTP resources; each module holds one flask-smorest blueprint."""

from flask_smorest import Blueprint

from portal.api import content, lookup

BLUEPRINTS: tuple[Blueprint, ...] = (lookup.blp, content.articles, content.documents)
