"""No secret in the repository: what git ships sets no password, secret or key to a literal value.

Documentation and configuration show placeholders (``<alice's password>``, ``$VARIABLE``);
real values live in the environment, ``conf/local/`` or ``.dvc/config.local`` (git-ignored).
"""

import re

from tests.helpers import PROJECT_ROOT, project_files, run_command

SCANNED = (".md", ".yml", ".yaml", ".ini", ".toml", ".cfg", ".sh", ".txt", ".json", "config", "run")
SECRET = re.compile(
    r"(?i)(password|passwd|secret[_a-z]*|access_key[_a-z]*|token)[\"']?\s*[:=]\s*[\"']?"
    r"(?P<value>[^\s\"'<>${}()]{6,})"
)
PLACEHOLDER = re.compile(r"(?i)^(null|none|true|false|\*+|\.\.\.|[A-Z_]+)$")


def secrets_in(text: str) -> list[str]:
    """The literal values assigned to secret-looking keys in ``text``."""
    found = (match.group("value") for match in SECRET.finditer(text))
    return [value for value in found if not PLACEHOLDER.match(value)]


def test_scanner_finds_what_it_should():
    assert secrets_in("MLFLOW_TRACKING_PASSWORD=s3cret-passw0rd") == ["s3cret-passw0rd"]
    assert secrets_in("  secret_access_key: abcd1234efgh") == ["abcd1234efgh"]
    assert secrets_in('MLFLOW_TRACKING_PASSWORD: "<alice\'s password>"') == []
    assert secrets_in('export MLFLOW_TRACKING_PASSWORD="$(cat ~/.mlflow-password)"') == []
    assert secrets_in("MLFLOW_AUTH_ADMIN_PASSWORD=$ADMIN_PASSWORD") == []


def test_no_secret_in_the_files_git_ships():
    shipped = [name for name in project_files() if name.endswith(SCANNED)]
    assert "README.md" in shipped and "conf/team/mlflow.yml" in shipped
    leaks = {
        name: found
        for name in shipped
        if (found := secrets_in((PROJECT_ROOT / name).read_text(errors="replace")))
    }
    assert not leaks


def test_local_credentials_are_git_ignored():
    for path in ("conf/local/credentials.yml", ".dvc/config.local"):
        ignored = run_command("git", "check-ignore", "-q", path, cwd=PROJECT_ROOT)
        assert ignored.returncode == 0, f"{path} is not git-ignored"
