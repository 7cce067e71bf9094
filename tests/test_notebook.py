"""The neuron-slider notebook: committed clean, and runs top to bottom headless in a project copy.

That it writes no MLflow store into the project itself is checked after every test (``tests/conftest.py``).
"""

import faulthandler
import json
import time
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from tests.helpers import PROJECT_ROOT, SMOKE

NOTEBOOK = Path("notebooks") / "mlp_slider.ipynb"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
STALL_SECONDS = 60
"""After this long, the test writes every thread's stack into its temporary folder: should a run
wait again as four suite runs did (below), the stacks show where."""
POLL_SLICE_SECONDS = 1.0


def poll_shell_in_slices(client: NotebookClient) -> None:
    """Make the client's waits for a cell's reply poll the shell socket every ``POLL_SLICE_SECONDS``.

    While nbclient waits on the shell socket for a cell's reply, it sends the kernel the messages
    of the Output widget that ``interact`` draws into, on that same socket; its edge-triggered
    wake-up can then be lost (nbclient issue 312), and a reply already there is read only when the
    wait times out. Four suite runs found this test 300 s (its cell timeout) slow, every cell done in
    7 s and the kernel's shutdown in 2 s. A fresh poll each second reads such a reply at once; the
    cell's timeout still holds as a whole.
    """
    channel = client.kc.shell_channel
    wait_for_message = channel.get_msg

    async def get_msg_in_slices(timeout: float | None = None) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            try:
                return await wait_for_message(
                    timeout=POLL_SLICE_SECONDS if left is None else max(0.0, min(POLL_SLICE_SECONDS, left))
                )
            except Empty:
                if left is not None and left <= POLL_SLICE_SECONDS:
                    raise

    channel.get_msg = get_msg_in_slices


def all_outputs(notebook: nbformat.NotebookNode) -> list[dict]:
    """Every output of a run: the cells' own, and those ``interact`` captured in its Output widget."""
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    widget_state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for model in widget_state.values():
        if model.get("model_name") == "OutputModel":
            outputs.extend(model["state"].get("outputs", []))
    return outputs


def test_the_committed_notebook_has_no_outputs_and_uses_the_python3_kernel():
    notebook = nbformat.read(PROJECT_ROOT / NOTEBOOK, as_version=4)

    assert notebook.metadata.kernelspec.name == "python3"
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code_cells)
    assert code_cells[0].source.splitlines()[-1] == "%load_ext kedro.ipython"
    assert "def update_plot(n_neurons" in "".join(cell.source for cell in code_cells)


def test_the_notebook_runs_headless_on_the_smoke_env_and_draws_a_decision_boundary(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch
):
    # The kernel inherits this environment; Kedro reads KEDRO_ENV when no --env is given.
    monkeypatch.setenv("KEDRO_ENV", SMOKE)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    notebook_path = project_copy / NOTEBOOK
    notebook = nbformat.read(notebook_path, as_version=4)

    # The kernelspec's argv starts with "python", which jupyter_client swaps for
    # sys.executable: the kernel runs in pytest's own environment. Its working directory
    # is the copy's notebooks/, from which `%load_ext kedro.ipython` finds the copy.
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(notebook_path.parent)}},
    )
    client.on_notebook_start = lambda notebook: poll_shell_in_slices(client)
    # Every thread's stack, every STALL_SECONDS that the run or the write still waits.
    with (project_copy / "stalled_stacks.txt").open("w") as stacks:
        faulthandler.dump_traceback_later(STALL_SECONDS, repeat=True, file=stacks)
        try:
            client.execute()  # raises CellExecutionError if a cell fails
            # Kept in pytest's temporary folder, with each cell's times (nbclient's cell metadata).
            nbformat.write(notebook, notebook_path)
        finally:
            faulthandler.cancel_dump_traceback_later()

    outputs = all_outputs(notebook)  # a failing update_plot only shows up in the widget's outputs
    errors = [output for output in outputs if output.get("output_type") == "error"]
    assert not errors, json.dumps(errors, indent=1)[:3000]
    assert any("image/png" in output.get("data", {}) for output in outputs)
