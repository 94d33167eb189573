"""The server side of the self-polling progress component (templates/jobs/macros.html).

A feature's route that answers the component's polls renders it and answers with
poll_status(run): 286 tells htmx to stop polling once the run is done.
"""
STOP_POLLING = 286


def poll_status(run) -> int:
    """200 while the run goes on; 286 (stop polling) once it is done, or when there is none."""
    return STOP_POLLING if run is None or run.done else 200
