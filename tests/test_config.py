import json

import pytest

import config
from crm import create_app


def test_production_refuses_to_start_without_keys(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError) as error:
        create_app(config.ProductionConfig)
    message = str(error.value)
    for name in ("SECRET_KEY", "CRM_ENCRYPTION_KEYS", "CRM_BLIND_INDEX_KEY", "DATABASE_URL",
                 "REDIS_URL or RATELIMIT_STORAGE_URI"):
        assert name in message


def test_development_creates_keys_once_and_says_so(tmp_path, monkeypatch, capsys, make_app):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    import crm

    monkeypatch.setattr(crm, "INSTANCE_DIR", tmp_path)

    class Dev(config.DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'dev.sqlite3'}"

    first = make_app(Dev)
    assert "Created development keys" in capsys.readouterr().err
    stored = json.loads((tmp_path / "keys.json").read_text())
    assert (tmp_path / "keys.json").stat().st_mode & 0o777 == 0o600
    second = make_app(Dev)
    assert "Created development keys" not in capsys.readouterr().err
    for app in (first, second):
        assert app.config["CRM_ENCRYPTION_KEYS"] == stored["CRM_ENCRYPTION_KEYS"]
        assert app.config["SECRET_KEY"] == stored["SECRET_KEY"]


def test_unknown_config_name_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CRM_CONFIG", "staging")
    with pytest.raises(RuntimeError, match="CRM_CONFIG must be one of"):
        config.config_from_env()


def test_migrations_match_the_models(runner):
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
