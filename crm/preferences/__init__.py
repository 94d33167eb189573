from flask import Blueprint

bp = Blueprint("preferences", __name__)
