"""(being built)"""

from flask import Blueprint

bp = Blueprint("strategies", __name__)
