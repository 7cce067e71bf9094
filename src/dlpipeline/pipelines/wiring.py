"""How the experiments declare their nodes: one line a node, named after its function.

Kedro asks every node for a name (``kedro run --nodes``, kedro-viz and the DVC stages use
them); naming a node after the function it runs is the rule, so only exceptions name it.
"""

from collections.abc import Callable, Collection, Sequence
from typing import Any

from kedro.pipeline import Node, Pipeline, node

Names = str | list[str] | dict[str, str] | None


def step(func: Callable[..., Any], inputs: Names, outputs: Names, name: str | None = None) -> Node:
    """A node running ``func`` on ``inputs`` into ``outputs``, named ``name`` or after ``func``."""
    return node(func, inputs, outputs, name=name or func.__name__)


def part(
    data_nodes: Sequence[Node],
    train_nodes: Sequence[Node],
    namespace: str,
    executor: str | None,
    shared: Collection[str] = (),
    shared_parameters: Collection[str] = (),
) -> Pipeline:
    """One part of an experiment under ``namespace``: ``data_nodes`` tagged ``data``, the rest ``train``.

    ``executor`` is the experiment's executor parameter (``<pipeline>.executor``), which every
    part's ``params:executor`` reads (``None``: the part has none); ``shared`` names datasets of
    other parts read as they are, ``shared_parameters`` parameters (``params:mlp.torch``) likewise.
    """
    parameters = {name: name for name in shared_parameters}
    if executor is not None:
        parameters["params:executor"] = f"params:{executor}"
    return Pipeline(
        [Pipeline(data_nodes, tags="data"), Pipeline(train_nodes, tags="train")],
        namespace=namespace,
        inputs=set(shared) or None,
        parameters=parameters or None,
    )
