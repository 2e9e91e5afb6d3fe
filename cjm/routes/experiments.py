"""(being built)"""

from flask import Blueprint

bp = Blueprint("experiments", __name__)
