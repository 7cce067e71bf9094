"""What drawing and saving each kind of figure costs (issue 29), helper by helper and in a real run.

    python benchmarks/figures.py                          # each figure helper: CPU ms per save
    python benchmarks/figures.py --run sequence           # every figure a smoke run saves, by function

Without ``--run``: each helper of ``dlpipeline.figures`` builds a figure of the size a pipeline
gives it and saves it as a PNG at the resolution it is saved at (a child run's ``loss.png`` at
the child-run dpi), ``--repeats`` times; prints the median and least CPU milliseconds per
figure. With ``--run <pipeline>``: runs ``kedro run --env smoke --pipelines <pipeline>`` in this
process (run it in a temporary copy of the project: the run writes its data and MLflow store)
and prints, per function that built a figure, how many it saved, through which writer (the
catalog, or MLflow for a child run) and their CPU seconds. CPU seconds, not wall: a loaded
machine changes them far less.
"""

import argparse
import atexit
import io
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from types import FrameType

import numpy as np
from matplotlib.figure import Figure

from dlpipeline import tracking
from dlpipeline.figures.boundaries import (
    BoundaryGrid,
    BoundaryPanel,
    boundary_grid_figure,
    decision_boundary_figure,
    mesh_over,
)
from dlpipeline.figures.confusion import confusion_matrix_figure
from dlpipeline.figures.curves import LearningCurves, curves_figure, learning_curves_figure
from dlpipeline.figures.images import image_grid_figure, image_rows_figure
from dlpipeline.figures.over_seeds import Reference, SeedSpread, seed_strip_figure, spread_over_seeds_figure

CHILD_RUN_FIGURE_DPI = getattr(tracking, "CHILD_RUN_FIGURE_DPI", 100)  # a revision before it: the default
CATALOG_DPI = 100  # what most catalog figures are saved at (conf/base/catalog_*.yml: 90 or 100)


def helper_figures() -> dict[str, tuple[Callable[[], Figure], int]]:
    """Each helper's figure as a pipeline draws it (sizes and counts of a smoke run), and its dpi."""
    rng = np.random.default_rng(0)
    loss = np.geomspace(2.3, 1e-3, 40) * (1 + 0.1 * rng.random(40))
    task_curves = {f"{cell} T=10": loss * rng.uniform(0.5, 2) for cell in ("rnn", "lstm", "gru")}
    task_curves |= {f"{cell} T=50": loss[::-1] ** 0.1 for cell in ("rnn", "lstm", "gru")}
    matrix = rng.integers(0, 30, (10, 10)) + np.diag(np.full(10, 90))
    points = rng.normal(size=(200, 2))
    labels = (np.hypot(*points.T) > 1).astype(int)
    xx, yy = mesh_over(points, 100)
    grid = BoundaryGrid(xx, yy, (np.hypot(xx, yy) > 1).astype(int))
    panels = {
        row: [BoundaryPanel(grid, f"{width} units", "test 0.95") for width in (2, 4, 8, 16)] for row in "ab"
    }
    learning = {
        name: LearningCurves(np.geomspace(2.3, 0.05, 8), np.geomspace(2.2, 0.2, 8), "test 0.950")
        for name in ("mlp", "cnn", "dropout", "pooling", "augmented")
    }
    spread = [
        SeedSpread(cell, [10, 20, 50], [rng.uniform(0.01, 0.2, 5) for _ in range(3)])
        for cell in ("rnn", "lstm")
    ]
    digits = [rng.random((8, 8)) for _ in range(16)]
    return {
        "curves_figure (child run loss.png)": (
            lambda: curves_figure({"lstm seed 0": loss}, "adding lstm T=50 seed 0: training loss"),
            CHILD_RUN_FIGURE_DPI,
        ),
        "curves_figure (6 curves, log)": (
            lambda: curves_figure(task_curves, "adding: training loss"),
            CATALOG_DPI,
        ),
        "learning_curves_figure (5 panels)": (
            lambda: learning_curves_figure(learning, "train vs val"),
            CATALOG_DPI,
        ),
        "confusion_matrix_figure (10 classes)": (
            lambda: confusion_matrix_figure(matrix, [str(i) for i in range(10)], "cnn: confusion"),
            CHILD_RUN_FIGURE_DPI,
        ),
        "decision_boundary_figure": (
            lambda: decision_boundary_figure(grid, points, labels, "deep: 2x16", "test 0.95"),
            CHILD_RUN_FIGURE_DPI,
        ),
        "boundary_grid_figure (2x4)": (
            lambda: boundary_grid_figure(panels, points, labels, "grid"),
            CATALOG_DPI,
        ),
        "spread_over_seeds_figure (log)": (
            lambda: spread_over_seeds_figure(
                spread, "T", "test MSE", "mse", [Reference(1 / 6, "mean")], log=True
            ),
            CATALOG_DPI,
        ),
        "seed_strip_figure (5 categories)": (
            lambda: seed_strip_figure(
                [f"config {i}" for i in range(5)], {"test": [rng.random(5)] * 5}, "acc", "t"
            ),
            CATALOG_DPI,
        ),
        "image_grid_figure (16 images)": (
            lambda: image_grid_figure(digits, ["7"] * 16, "digits"),
            CATALOG_DPI,
        ),
        "image_rows_figure (2 x 8)": (
            lambda: image_rows_figure({"a": digits[:8], "b": digits[8:]}, "rows"),
            90,
        ),
    }


def cpu_ms_per_save(build: Callable[[], Figure], dpi: int, repeats: int) -> list[float]:
    """CPU milliseconds to build one figure and save it as a PNG, ``repeats`` times (after one warm-up)."""
    times = []
    for index in range(repeats + 1):
        start = time.process_time()
        build().savefig(io.BytesIO(), format="png", dpi=dpi)
        if index:
            times.append(1000 * (time.process_time() - start))
    return times


def bench_helpers(repeats: int) -> None:
    """Print each helper's median and least CPU ms per saved figure."""
    print(f"{'figure':40s} {'dpi':>4s} {'median ms':>10s} {'min ms':>8s}")
    for name, (build, dpi) in helper_figures().items():
        times = cpu_ms_per_save(build, dpi, repeats)
        print(f"{name:40s} {dpi:4d} {statistics.median(times):10.1f} {min(times):8.1f}")


def _builder(frame: FrameType | None) -> str:
    """The innermost function of dlpipeline on the stack, and the pipeline function that called it."""
    found = []
    while frame is not None:
        path = frame.f_code.co_filename
        if "dlpipeline" in path and "benchmarks" not in path:
            found.append(f"{path.rsplit('dlpipeline/', 1)[-1]}:{frame.f_code.co_name}")
            if "/figures/" not in path:
                break
        frame = frame.f_back
    return " < ".join(found[:1] + found[-1:]) if len(found) > 1 else "".join(found) or "?"


def record_run(pipeline: str) -> None:
    """Run the pipeline's smoke run here, timing every save of a figure by the function that built it."""
    built: dict[int, str] = {}
    costs: dict[tuple[str, str], list[float]] = defaultdict(list)
    original_init, original_save = Figure.__init__, Figure.savefig

    def init(self: Figure, *args: object, **kwargs: object) -> None:
        original_init(self, *args, **kwargs)
        built[id(self)] = _builder(sys._getframe(1))

    def savefig(self: Figure, *args: object, **kwargs: object) -> None:
        writer, frame = "catalog", sys._getframe(1)
        while frame is not None:
            if "mlflow/tracking" in frame.f_code.co_filename:
                writer = "child run"
                break
            frame = frame.f_back
        start = time.process_time()
        original_save(self, *args, **kwargs)
        costs[(built.get(id(self), "?"), writer)].append(time.process_time() - start)

    def report() -> None:
        total = sum(sum(seconds) for seconds in costs.values())
        count = sum(len(seconds) for seconds in costs.values())
        print(f"\n{count} figures saved, {total:.1f} CPU s in savefig", file=sys.stderr)
        print(f"{'built by':75s} {'writer':9s} {'n':>3s} {'CPU s':>6s} {'ms each':>8s}", file=sys.stderr)
        for (name, writer), seconds in sorted(costs.items(), key=lambda item: -sum(item[1])):
            each = 1000 * statistics.median(seconds)
            print(
                f"{name:75s} {writer:9s} {len(seconds):3d} {sum(seconds):6.2f} {each:8.0f}", file=sys.stderr
            )

    Figure.__init__, Figure.savefig = init, savefig  # type: ignore[method-assign]
    atexit.register(report)
    from kedro.framework.cli import main

    sys.argv = ["kedro", "run", "--env", "smoke", "--pipelines", pipeline]
    main()


def main() -> None:
    """Parse the arguments and run one of the two benchmarks."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=15, help="saves per helper (default 15)")
    parser.add_argument("--run", metavar="PIPELINE", help="time the figures of this pipeline's smoke run")
    args = parser.parse_args()
    if args.run:
        record_run(args.run)
    else:
        bench_helpers(args.repeats)


if __name__ == "__main__":
    main()
