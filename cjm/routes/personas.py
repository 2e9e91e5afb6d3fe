"""Placeholder blueprint: filled in by its own work item."""

from flask import Blueprint

bp = Blueprint("personas", __name__)
