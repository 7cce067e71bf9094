"""``python -m dlpipeline`` runs the project like ``kedro run``."""

import sys
from pathlib import Path

from kedro.framework.cli.utils import find_run_command
from kedro.framework.project import configure_project


def main(*args: str) -> None:
    """Run the Kedro project of this package with the given CLI arguments."""
    package_name = Path(__file__).parent.name
    configure_project(package_name)
    run = find_run_command(package_name)
    run(*args or sys.argv[1:])


if __name__ == "__main__":
    main()
