"""The project's configuration as Kedro reads it, for code that runs outside a Kedro session.

Benchmarks, tests and notebooks call :func:`load_parameters` instead of merging YAML by
hand, so an environment overrides ``conf/base`` exactly as it does in ``kedro run``.
"""

from pathlib import Path
from typing import Any

from kedro.utils import find_kedro_project

from dlpipeline import settings


def project_root(start: Path | None = None) -> Path:
    """The Kedro project containing ``start`` (default: the working directory)."""
    start = (start or Path.cwd()).resolve()
    root = find_kedro_project(start)
    if root is None:
        raise FileNotFoundError(
            f"{start} is not inside a Kedro project (no pyproject.toml with [tool.kedro])"
        )
    return Path(root)


def load_config(key: str, env: str = "base", project_path: Path | None = None) -> dict[str, Any]:
    """The ``key`` configuration (``parameters``, ``catalog``, …) of ``env`` merged over ``conf/base``."""
    root = project_path or project_root()
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(root / "conf"), **{**settings.CONFIG_LOADER_ARGS, "default_run_env": env}
    )
    return loader[key]


def load_parameters(env: str = "base", project_path: Path | None = None) -> dict[str, Any]:
    """Every parameter of ``env`` merged over ``conf/base``, as ``kedro run --env <env>`` sees them."""
    return load_config("parameters", env, project_path)
