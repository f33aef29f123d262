import json
import os

import pytest
import torch

from engine_testing import make_engine, png
from rolloutfarm_engine.engine import SampleRequestItem, TrainSeq
from rolloutfarm_engine.errors import EngineError
from rolloutfarm_engine.tokenizer import BOS, EOS, IMAGE, ByteTokenizer

tk = ByteTokenizer()


def batch():
    p = [BOS] + tk.encode("see ") + [IMAGE] + tk.encode(" -> ")
    a = tk.encode("\\boxed{3}") + [EOS]
    return [TrainSeq(p + a, [0] * len(p) + [1] * len(a), [png((10, 200, 30))])]


def probe():
    return [SampleRequestItem([BOS] + tk.encode("x") + [IMAGE], [png((0, 0, 200))], 1.0, 1.0, 16, (), 0)]


def test_save_and_load_restore_identical_outputs_version_and_optimizer(tmp_path):
    a = make_engine(seed=1)
    a.supervised_step(batch(), 1e-2)
    files, version = a.save(str(tmp_path / "ck"))
    assert version == 1 and set(files) == {"model.pt", "optimizer.pt", "rng.pt", "engine.json"}
    assert not [f for f in os.listdir(tmp_path / "ck") if ".tmp" in f]
    b = make_engine(seed=9)  # different weights and RNG until the load
    assert b.load(str(tmp_path / "ck")) == 1 and b.policy_version == 1
    # Unseeded sampling draws from the restored engine RNG, so even that matches.
    sa, sb = a.sample(probe())[0][0], b.sample(probe())[0][0]
    assert sa.token_ids == sb.token_ids and sa.logprobs == sb.logprobs
    # The optimizer state came along: one more identical step keeps the two identical.
    ra, rb = a.supervised_step(batch(), 1e-2), b.supervised_step(batch(), 1e-2)
    assert ra["loss"] == rb["loss"] and ra["policy_version"] == rb["policy_version"] == 2
    for x, y in zip(a.backend.parameters(), b.backend.parameters()):
        assert torch.equal(x, y)


def test_missing_corrupt_and_mismatched_checkpoints_are_reported(tmp_path):
    engine = make_engine(seed=1)
    cases = [(tmp_path / "nope", "NOT_FOUND", "does not exist")]
    (tmp_path / "empty").mkdir()
    cases.append((tmp_path / "empty", "NOT_FOUND", "engine.json is missing"))
    engine.save(str(tmp_path / "ck"))
    with open(tmp_path / "ck" / "model.pt", "r+b") as f:
        f.seek(100)
        f.write(b"garbage")
    cases.append((tmp_path / "ck", "DATA_LOSS", "corrupt"))
    engine.save(str(tmp_path / "bad-json"))
    (tmp_path / "bad-json" / "engine.json").write_text("{not json")
    cases.append((tmp_path / "bad-json", "DATA_LOSS", "unreadable"))
    make_engine(seed=1, d_model=64).save(str(tmp_path / "other"))
    cases.append((tmp_path / "other", "FAILED_PRECONDITION", "--model"))
    for path, code, needle in cases:
        with pytest.raises(EngineError) as err:
            engine.load(str(path))
        assert err.value.code == code and needle in err.value.message and str(path) in err.value.message
    manifest = json.loads((tmp_path / "other" / "engine.json").read_text())
    assert manifest["model_config"]["d_model"] == 64 and manifest["policy_version"] == 0


def test_engine_started_from_a_checkpoint_directory_resumes_it(tmp_path):
    from rolloutfarm_engine.__main__ import build_engine, parse_args

    a = make_engine(seed=1, d_model=48)
    a.supervised_step(batch(), 1e-2)
    a.save(str(tmp_path / "ck"))
    b = build_engine(parse_args(["--model", str(tmp_path / "ck"), "--device", "cpu", "--threads", "1"]))
    assert b.policy_version == 1 and b.backend.cfg.d_model == 48
    assert a.score(batch()) == b.score(batch())


def _grpo_steps(engine, steps, tokens_seen):
    """GRPO steps on the engine's own unseeded samples (drawn from the engine RNG)."""
    prompts = [[BOS] + tk.encode(f"Q{i}:") for i in range(2)]
    for _ in range(steps):
        items = [SampleRequestItem(p, [], 1.0, 1.0, 3, (), 0) for p in prompts for _ in range(4)]
        outs, _ = engine.sample(items)
        tokens_seen.append([o.token_ids for o in outs])
        rewards = [float(o.token_ids[0] % 2) for o in outs]
        seqs = []
        for k, (it, o, r) in enumerate(zip(items, outs, rewards)):
            g = k // 4
            baseline = sum(rewards[g * 4:(g + 1) * 4]) / 4
            n = len(it.prompt)
            seqs.append(TrainSeq(it.prompt + o.token_ids, [0] * n + [1] * len(o.token_ids), [],
                                 [0.0] * n + o.logprobs, r - baseline))
        engine.train_step(seqs, 1e-2, mini_batch_size=4)


def test_a_run_interrupted_and_resumed_continues_like_an_uninterrupted_one(tmp_path):
    """Tolerance: on CPU in float32 the continuation is exact (same sampled tokens) and the
    final weights agree within 1e-6; on CUDA, kernels are not bit-deterministic."""
    whole_tokens, split_tokens = [], []
    whole = make_engine(seed=4)
    _grpo_steps(whole, 6, whole_tokens)

    first = make_engine(seed=4)
    _grpo_steps(first, 3, split_tokens)
    first.save(str(tmp_path / "ck"))
    del first
    resumed = make_engine(seed=99)  # fresh weights and RNG until the load
    assert resumed.load(str(tmp_path / "ck")) == 3
    _grpo_steps(resumed, 3, split_tokens)

    assert split_tokens == whole_tokens
    assert resumed.policy_version == whole.policy_version == 6
    for x, y in zip(whole.backend.parameters(), resumed.backend.parameters()):
        assert torch.allclose(x, y, rtol=0, atol=1e-6)
