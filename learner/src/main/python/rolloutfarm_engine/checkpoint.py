"""Checkpoints: a directory with the weights, the optimizer state, the RNG states and a
manifest (engine.json) holding the policy version, the model config and a SHA-256 of every
file. Each file is written to a temporary name and renamed into place, and the manifest is
written last, so a crash mid-save never leaves a manifest that points at partial files."""

import hashlib
import io
import json
import os

import torch

from .errors import EngineError

MANIFEST = "engine.json"
FORMAT = 1


def _atomic_write(path, data):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _torch_bytes(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def save(engine, directory):
    if not directory:
        raise EngineError("INVALID_ARGUMENT", "directory is empty: say where to write the checkpoint")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise EngineError("FAILED_PRECONDITION", f"cannot create checkpoint directory {directory}: {e}") from None
    b = engine.backend
    rng = {"engine": engine.rng.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    payload = {
        "model.pt": _torch_bytes(b.state_dict()),
        "optimizer.pt": _torch_bytes(engine.optimizer.state_dict()),
        "rng.pt": _torch_bytes(rng),
    }
    sums = {}
    try:
        for name, data in payload.items():
            _atomic_write(os.path.join(directory, name), data)
            sums[name] = hashlib.sha256(data).hexdigest()
        manifest = {"format": FORMAT, "model_name": b.name, "backend": b.kind, "model_config": b.config_dict(),
                    "policy_version": engine.policy_version, "files": sums}
        _atomic_write(os.path.join(directory, MANIFEST), json.dumps(manifest, indent=2).encode())
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError as e:
        raise EngineError("FAILED_PRECONDITION", f"cannot write checkpoint to {directory}: {e}") from None
    return sorted(payload) + [MANIFEST], engine.policy_version


def read_manifest(directory):
    """The manifest of a checkpoint directory; NOT_FOUND / DATA_LOSS when missing or bad."""
    if not directory:
        raise EngineError("INVALID_ARGUMENT", "directory is empty: say which checkpoint to load")
    if not os.path.isdir(directory):
        raise EngineError("NOT_FOUND", f"checkpoint directory {directory} does not exist")
    path = os.path.join(directory, MANIFEST)
    if not os.path.isfile(path):
        raise EngineError("NOT_FOUND", f"no checkpoint in {directory}: {MANIFEST} is missing "
                          "(the save did not finish, or this is not an engine checkpoint)")
    try:
        with open(path, "rb") as f:
            manifest = json.loads(f.read())
        manifest["policy_version"], manifest["files"], manifest["model_config"]  # noqa: B018
    except (ValueError, KeyError, TypeError) as e:
        raise EngineError("DATA_LOSS", f"checkpoint manifest {path} is unreadable: {e}") from None
    if manifest.get("format") != FORMAT:
        raise EngineError("DATA_LOSS", f"checkpoint {path} has format {manifest.get('format')}, this engine reads {FORMAT}")
    return manifest


def _read_verified(directory, manifest, name, device):
    path = os.path.join(directory, name)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise EngineError("DATA_LOSS", f"checkpoint file {path} is missing") from None
    want = manifest["files"].get(name)
    if want != hashlib.sha256(data).hexdigest():
        raise EngineError("DATA_LOSS", f"checkpoint file {path} is corrupt (SHA-256 does not match {MANIFEST})")
    try:
        return torch.load(io.BytesIO(data), map_location=device)
    except Exception as e:  # torch.load raises assorted types on bad pickles
        raise EngineError("DATA_LOSS", f"checkpoint file {path} cannot be read: {e}") from None


def load(engine, directory):
    manifest = read_manifest(directory)
    b = engine.backend
    if manifest.get("backend") != b.kind or manifest["model_config"] != b.config_dict():
        raise EngineError("FAILED_PRECONDITION",
                          f"checkpoint {directory} holds model {manifest.get('backend')} {manifest['model_config']} but "
                          f"this engine runs {b.kind} {b.config_dict()}; start the engine with --model {directory}")
    weights = _read_verified(directory, manifest, "model.pt", b.device)
    optim = _read_verified(directory, manifest, "optimizer.pt", b.device)
    rng = _read_verified(directory, manifest, "rng.pt", "cpu")
    b.load_state_dict(weights)
    engine.optimizer.load_state_dict(optim)
    engine.rng.set_state(rng["engine"])
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    engine.policy_version = int(manifest["policy_version"])
    return engine.policy_version
