"""(being built)"""

from flask import Blueprint

bp = Blueprint("formats", __name__)
