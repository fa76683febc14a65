"""Notify's HTTP resources; each module holds one flask-smorest blueprint.

Every staff view puts `@staff_required` above `@blp.arguments`: the token is checked before the
request is parsed, so a request without one is 401 whatever its body.
"""

from flask_smorest import Blueprint

from notify.api import forms, letters, notifications

BLUEPRINTS: tuple[Blueprint, ...] = (notifications.blp, letters.blp, forms.blp)
