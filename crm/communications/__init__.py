from flask import Blueprint

bp = Blueprint("communications", __name__)
