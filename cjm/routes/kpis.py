"""(being built)"""

from flask import Blueprint

bp = Blueprint("kpis", __name__)
