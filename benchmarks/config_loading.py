"""CPU seconds every ``kedro run`` spends reading the catalog and the parameters, per config loader.

    python benchmarks/config_loading.py [--env smoke] [--repeats 7]

Builds a fresh loader as the project's settings do and reads ``catalog`` then ``parameters``,
alternating Kedro's ``OmegaConfigLoader`` with the project's ``FastConfigLoader`` so a drift in the
machine's speed hits both; prints each one's min and median CPU seconds (``time.process_time``)
and the ratio of the medians. Reads ``conf/`` only.
"""

import argparse
import statistics
import time
from pathlib import Path

from kedro.config import OmegaConfigLoader

from dlpipeline.config import CONFIG_LOADER_ARGS
from dlpipeline.fast_config import FastConfigLoader

CONF = Path(__file__).resolve().parents[1] / "conf"


def cpu_seconds(loader_class: type, env: str) -> float:
    """CPU seconds to build a loader and read the catalog and the parameters of ``env``."""
    start = time.process_time()
    loader = loader_class(conf_source=str(CONF), env=env, **CONFIG_LOADER_ARGS)
    loader["catalog"]
    loader["parameters"]
    return time.process_time() - start


def main() -> None:
    """Time both loaders in alternation and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="smoke")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    classes = (OmegaConfigLoader, FastConfigLoader)
    for loader_class in classes:  # warm-up: imports and first-use caches
        cpu_seconds(loader_class, args.env)
    times: dict[type, list[float]] = {loader_class: [] for loader_class in classes}
    for _ in range(args.repeats):
        for loader_class in classes:
            times[loader_class].append(cpu_seconds(loader_class, args.env))
    for loader_class, seconds in times.items():
        print(
            f"{loader_class.__name__:18} min {min(seconds):.3f} s  median {statistics.median(seconds):.3f} s"
        )
    ratio = statistics.median(times[OmegaConfigLoader]) / statistics.median(times[FastConfigLoader])
    print(f"OmegaConfigLoader / FastConfigLoader (medians): {ratio:.1f}x")


if __name__ == "__main__":
    main()
