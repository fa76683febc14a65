"""Intake's use cases: plain functions over the store; no Flask, no Kafka, no pymongo.

They refuse with eventkit's domain errors (NotFound, Conflict, InvalidData, ...), which the web
layer answers with the matching status.
"""

from eventkit.errors import (
    Conflict,
    Forbidden,
    InvalidData,
    NotFound,
    TooLarge,
    Unauthenticated,
    UnsupportedType,
)

__all__ = [
    "Conflict",
    "Forbidden",
    "InvalidData",
    "NotFound",
    "TooLarge",
    "Unauthenticated",
    "UnsupportedType",
]
