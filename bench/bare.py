"""The bench's floor: a one-route Flask app served under the same gunicorn settings as the CRM
in the same run (`gunicorn bare:app` from this folder). Every page's req/s is also given as a
ratio to this one: what a request costs before the CRM does anything at all."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def ok():
    """The same answer as the CRM's /healthz."""
    return "ok", 200, {"Content-Type": "text/plain"}
