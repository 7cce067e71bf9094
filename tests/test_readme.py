"""What the README shows a user to type works as shown."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from tests.helpers import PROJECT_ROOT


def python_block_after(heading: str) -> str:
    """The first ```python block of the README section that starts with ``heading``."""
    text = (PROJECT_ROOT / "README.md").read_text()
    section = text[text.index(heading) :]
    return re.search(r"```python\n(.*?)```", section, flags=re.DOTALL).group(1)


def test_loading_the_best_model_of_a_run_takes_the_three_lines_shown(
    smoke_run: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(smoke_run("cnn"))
    namespace: dict = {}
    exec(python_block_after("### Trained models"), namespace)
    logits = namespace["net"](torch.rand(4, 1, 8, 8))
    assert logits.shape[-2:] == (4, 10)
    assert namespace["best"] in set(namespace["table"]["configuration"])
