"""Where keys come from: the environment, or (development only) a file under instance/."""
import json
import os
import secrets
import sys
from pathlib import Path


def load_development_keys(app, instance_dir: Path):
    """Fill missing secrets from instance/keys.json, creating it once (and saying so)."""
    path = instance_dir / "keys.json"
    if path.exists():
        stored = json.loads(path.read_text())
    else:
        instance_dir.mkdir(parents=True, exist_ok=True)
        stored = {
            "SECRET_KEY": secrets.token_urlsafe(32),
            "CRM_ENCRYPTION_KEYS": [secrets.token_urlsafe(32)],
            "CRM_BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(stored, fh, indent=2)
        print(
            f"Created development keys in {path} (keep it; losing it makes the data unreadable).",
            file=sys.stderr,
        )
    for name, value in stored.items():
        if not app.config.get(name):
            app.config[name] = value
