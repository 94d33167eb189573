"""The RQ dashboard for admins, when jobs go to Redis."""


def register_rq_dashboard(app):
    if not app.config.get("REDIS_URL"):
        return
    import rq_dashboard
    from rq_dashboard.web import setup_rq_connection

    from crm.extensions import csrf
    from crm.security.permissions import blueprint_permission

    app.config.setdefault("RQ_DASHBOARD_REDIS_URL", app.config["REDIS_URL"])
    app.config.setdefault("RQ_DASHBOARD_POLL_INTERVAL", 2500)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/admin/rq")
    setup_rq_connection(app)
    csrf.exempt(rq_dashboard.blueprint)  # its own JS posts without our token; admin-only
    blueprint_permission(rq_dashboard.blueprint, "admin.jobs")
