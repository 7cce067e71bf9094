"""The arithmetic one network does per image, counted from its shape: the cost that does not vary.

A multiply-accumulate (MAC) is one weight times one input added to a sum. A convolution with
same padding computes every output position of every output channel from ``c_in × k × k``
inputs (the padded border counted as the framework computes it); a dense layer multiplies
each input by each unit. Pooling, ReLU, dropout and the biases add or compare but do not
multiply, so they are not counted. The counts depend on the architecture and the image shape
only: unlike wall-clock seconds, they come out the same on every machine and every run.
"""

from typing import Protocol

import pandas as pd

from dlpipeline.models.cnn import ConvNetSpec


class OfSpec(Protocol):
    """A trained configuration as far as counting goes: its name and network shape."""

    name: str
    spec: ConvNetSpec


def conv_macs(c_in: int, c_out: int, kernel_size: int, rows: int, cols: int) -> int:
    """MACs of one same-padded convolution over a ``rows × cols`` input: one output per input position."""
    return rows * cols * c_out * c_in * kernel_size**2


def dense_macs(n_in: int, n_out: int) -> int:
    """MACs of one dense layer: every input times every unit."""
    return n_in * n_out


def layer_macs(spec: ConvNetSpec) -> dict[str, int]:
    """MACs per image of each layer that multiplies: ``conv 1`` … ``conv N``, ``dense``, ``output``.

    Each convolution runs at the resolution its input has (the image, or the previous block's
    pooled maps): pooling before a convolution is what makes it cheaper.
    """
    channels, rows, cols = spec.in_shape
    counts = {}
    inputs = [(channels, rows, cols), *spec.block_shapes][: len(spec.filters)]  # what each conv sees
    for block, ((c_in, in_rows, in_cols), c_out) in enumerate(
        zip(inputs, spec.filters, strict=True), start=1
    ):
        counts[f"conv {block}"] = conv_macs(c_in, c_out, spec.kernel_size, in_rows, in_cols)
    counts["dense"] = dense_macs(spec.flat_features, spec.dense_units)
    counts["output"] = dense_macs(spec.dense_units, spec.n_classes)
    return counts


def macs_per_image(spec: ConvNetSpec) -> int:
    """MACs of one forward pass of one image through one network."""
    return sum(layer_macs(spec).values())


def operation_table(results: list[OfSpec]) -> pd.DataFrame:
    """One row per trained configuration: its parameters and the MACs one image costs, by kind of layer.

    ``image_shape`` (``channels x rows x cols``) is the unit a claim pairs on: every
    configuration is counted on the same images.
    """
    rows = []
    for name, spec in ((result.name, result.spec) for result in results):
        counts = layer_macs(spec)
        conv = sum(value for layer, value in counts.items() if layer.startswith("conv"))
        rows.append(
            {
                "configuration": name,
                "model": spec.model,
                "image_shape": "x".join(map(str, spec.in_shape)),
                "n_params": spec.n_params,
                "conv_macs": conv,
                "dense_macs": counts["dense"] + counts["output"],
                "macs_per_image": conv + counts["dense"] + counts["output"],
            }
        )
    return pd.DataFrame(rows)
