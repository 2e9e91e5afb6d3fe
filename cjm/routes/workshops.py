"""(being built)"""

from flask import Blueprint

bp = Blueprint("workshops", __name__)
