"""Intake's HTTP resources; each module holds one flask-smorest blueprint."""

from flask_smorest import Blueprint

from intake.api import dossiers, procedures, uploads

BLUEPRINTS: tuple[Blueprint, ...] = (procedures.blp, uploads.blp, dossiers.blp)
