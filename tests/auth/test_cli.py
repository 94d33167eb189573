from sqlalchemy import func, select

from crm.auth.models import StaffUser
from crm.auth.services import authenticate, find_by_email
from crm.extensions import db


def test_users_create_reads_password_from_stdin(app, runner):
    result = runner.invoke(args=["users", "create", "Chef@Farm.test", "--role", "manager"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    assert "with role manager" in result.output
    with app.app_context():
        user = authenticate("chef@farm.test", "a long enough password")
        assert user.role == "manager"


def test_users_create_refuses_bad_input_and_writes_nothing(app, runner):
    cases = [
        (["users", "create", "a@farm.test", "--role", "owner"], "pw-long-enough\n", "Invalid value for '--role'"),
        (["users", "create", "not-an-email", "--role", "sales"], "pw-long-enough\n", "not an email"),
        (["users", "create", "a@farm.test", "--role", "sales"], "short\n", "at least 10 characters"),
    ]
    for args, stdin, message in cases:
        result = runner.invoke(args=args, input=stdin)
        assert result.exit_code != 0
        assert message in result.output
    runner.invoke(args=["users", "create", "a@farm.test", "--role", "sales"], input="pw-long-enough\n")
    dup = runner.invoke(args=["users", "create", "A@farm.test", "--role", "sales"], input="pw-long-enough\n")
    assert dup.exit_code != 0 and "already exists" in dup.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffUser)) == 1


def test_users_disable_ends_sessions(app, runner):
    runner.invoke(args=["users", "create", "a@farm.test", "--role", "sales"], input="pw-long-enough\n")
    with app.app_context():
        token = find_by_email("a@farm.test").session_token
    result = runner.invoke(args=["users", "disable", "a@farm.test"])
    assert result.exit_code == 0
    with app.app_context():
        user = find_by_email("a@farm.test")
        assert not user.active and user.session_token != token
    assert runner.invoke(args=["users", "disable", "nobody@farm.test"]).exit_code != 0
