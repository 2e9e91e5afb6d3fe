"""(being built)"""

from flask import Blueprint

bp = Blueprint("compare", __name__)
