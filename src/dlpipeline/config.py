"""The project's configuration as Kedro reads it, for code that runs outside a Kedro session.

Benchmarks, tests and notebooks call :func:`load_parameters` instead of merging YAML by
hand, so an environment overrides ``conf/base`` exactly as it does in ``kedro run``: the
project's settings take their config loader from here. Nothing here imports MLflow or the
hooks, so reading parameters stays as cheap as the nodes that use them.
"""

from pathlib import Path
from typing import Any

from kedro.utils import find_kedro_project

from dlpipeline.fast_config import FastConfigLoader


def sqlite_uri(filename: str) -> str:
    """Absolute ``sqlite:///`` URI of ``filename`` in the project root.

    Used as ``${sqlite_uri:mlflow.db}`` in mlflow.yml. The project root is found from the
    working directory (so a notebook in ``notebooks/`` shares the project's store), and an
    absolute URI keeps MLflow's cached store right when one process runs several projects.
    """
    root = find_kedro_project(Path.cwd()) or Path.cwd()
    return f"sqlite:///{(root / filename).as_posix()}"


# OmegaConfigLoader's results, read without OmegaConf where a key needs none of its features.
CONFIG_LOADER_CLASS = FastConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment overrides single keys of conf/base (deep merge), not whole blocks: a catalog
    # entry's filepath moves to s3:// in an environment while its type and schema stay in base.
    "merge_strategy": {"parameters": "soft", "mlflow": "soft", "catalog": "soft"},
    "custom_resolvers": {"sqlite_uri": sqlite_uri},
}


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
    loader = CONFIG_LOADER_CLASS(
        conf_source=str(root / "conf"), **{**CONFIG_LOADER_ARGS, "default_run_env": env}
    )
    return loader[key]


def load_parameters(env: str = "base", project_path: Path | None = None) -> dict[str, Any]:
    """Every parameter of ``env`` merged over ``conf/base``, as ``kedro run --env <env>`` sees them."""
    return load_config("parameters", env, project_path)
