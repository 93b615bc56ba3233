"""Secrets inside the config file are refused, by line or key, and never printed."""

from __future__ import annotations

from pathlib import Path

from apprentice.guard import Deployment, Problem, run_checks

# assembled at run time so no scanner mistakes this file for a leak
FAKE_ACCESS_KEY = "AKIA" + "GUARDTEST0000000"
FAKE_SECRET = "s3cr3t-" + "value-for-the-guard-test"
CLEAN = """[server]
host = "127.0.0.1"
database_url = "sqlite:////var/lib/apprentice/collector.db"
blob_url = "s3://bucket/prefix?endpoint=http://127.0.0.1:9000"
master_key_url = "local:///etc/apprentice/master.pub"
admin_token_sha256 = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
enrolment_token_max_ttl_s = 3600
tls_key_file = "/etc/apprentice/tls/key.pem"
allowed_bucket_principals = ["arn:aws:iam::111122223333:role/collector"]
"""


def _check(text: str) -> list[Problem]:
    return run_checks(Deployment(config_file=Path("/etc/apprentice/collector.toml"), config_text=text))


def _no_value_in(problems: list[Problem], *secrets: str) -> None:
    for p in problems:
        for secret in secrets:
            assert secret not in p.reason and secret not in p.fix


def test_a_config_without_secrets_passes() -> None:
    assert _check(CLEAN) == []


def test_a_secret_named_key_with_a_literal_value_is_refused() -> None:
    problems = _check(CLEAN + f'aws_secret_access_key = "{FAKE_SECRET}"\n')
    (problem,) = problems
    assert problem.check == "config_secrets" and problem.severity == "refuse"
    assert problem.reason == ("config file /etc/apprentice/collector.toml: server.aws_secret_access_key "
                              "holds a literal secret")
    assert "APPRENTICE_SERVER_AWS_SECRET_ACCESS_KEY" in problem.fix
    _no_value_in(problems, FAKE_SECRET)


def test_an_access_key_in_a_comment_is_found_by_its_shape() -> None:
    problems = _check(CLEAN + f"# old key: {FAKE_ACCESS_KEY}\n")
    (problem,) = problems
    assert problem.reason.endswith("line 10 contains what looks like a secret (a key, token or password)")
    _no_value_in(problems, FAKE_ACCESS_KEY)


def test_a_private_key_block_is_refused() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    problems = _check(CLEAN + f'note = """\n{pem}\n"""\n')
    assert problems and all(p.check == "config_secrets" for p in problems)
    _no_value_in(problems, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")


def test_a_database_url_with_a_password_is_refused() -> None:
    text = CLEAN.replace("sqlite:////var/lib/apprentice/collector.db",
                         f"postgresql+psycopg://collector:{FAKE_SECRET}@db.internal/apprentice")
    problems = _check(text)
    assert [p.reason for p in problems] == [
        "config file /etc/apprentice/collector.toml: server.database_url is a URL with a password in it"]
    assert "APPRENTICE_SERVER_DATABASE_URL" in problems[0].fix
    _no_value_in(problems, FAKE_SECRET)
