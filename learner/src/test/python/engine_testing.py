"""Helpers shared by the engine tests: tiny engines and PNG images."""

import io

import torch

from rolloutfarm_engine.engine import Engine
from rolloutfarm_engine.model import BuiltinBackend, ModelConfig

TINY = dict(d_model=32, n_layers=2, n_heads=2, d_ff=64, max_context=128, image_size=16, patch_size=8)


def make_engine(seed=0, device="cpu", **overrides):
    torch.manual_seed(seed)
    cfg = ModelConfig(**{**TINY, **overrides})
    return Engine(BuiltinBackend(cfg, device), seed=seed)


def png(color=(255, 0, 0), size=(20, 12)):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()
