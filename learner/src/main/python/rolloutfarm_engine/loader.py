"""Builds the policy backend named by --model."""

import os

import torch

from . import checkpoint
from .errors import EngineError
from .model import BuiltinBackend, ModelConfig

BUILTIN = "builtin"


def pick_device(name):
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise EngineError("FAILED_PRECONDITION", "--device cuda but torch sees no CUDA device; use --device cpu or auto")
    if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
        raise EngineError("INVALID_ARGUMENT", f"--device {name!r}: use auto, cpu or cuda")
    return name


def build_backend(spec, device):
    """(backend, checkpoint directory to restore or None) for a --model value:
    builtin, builtin:{JSON config}, a directory saved by this engine, or a Hugging Face
    causal-LM directory (needs the transformers package)."""
    if spec == BUILTIN or spec.startswith(BUILTIN + ":"):
        cfg = ModelConfig.from_json(spec[len(BUILTIN) + 1:]) if ":" in spec else ModelConfig()
        return BuiltinBackend(cfg, device), None
    if not os.path.isdir(spec):
        raise EngineError("NOT_FOUND", f"--model {spec!r}: not 'builtin[:JSON]' and no such directory")
    if os.path.isfile(os.path.join(spec, checkpoint.MANIFEST)):
        manifest = checkpoint.read_manifest(spec)
        if manifest.get("backend") == BUILTIN:
            return BuiltinBackend(ModelConfig.from_dict(manifest["model_config"]), device), spec
        if manifest.get("backend") == "hf":
            from .hf import HFBackend
            return HFBackend(manifest["model_config"]["path"], device), spec
        raise EngineError("DATA_LOSS", f"--model {spec}: unknown backend {manifest.get('backend')!r} in {checkpoint.MANIFEST}")
    if os.path.isfile(os.path.join(spec, "config.json")):
        from .hf import HFBackend
        return HFBackend(spec, device), None
    raise EngineError("NOT_FOUND", f"--model {spec}: the directory holds neither an engine checkpoint "
                      f"({checkpoint.MANIFEST}) nor a Hugging Face model (config.json)")

