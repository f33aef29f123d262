import os
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "..", "main", "python"))
sys.path.insert(0, os.path.join(_HERE, "..", "..", "..", "..", "proto", "src", "main", "python"))
sys.path.insert(0, _HERE)

import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _few_threads():
    torch.set_num_threads(1)
