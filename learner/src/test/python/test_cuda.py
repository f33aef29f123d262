"""The CUDA path (bf16 autocast); skipped where torch sees no GPU."""

import pytest
import torch

from engine_testing import make_engine, png
from rolloutfarm_engine import sampling
from rolloutfarm_engine.engine import SampleRequestItem, TrainSeq
from rolloutfarm_engine.tokenizer import BOS, EOS, IMAGE, ByteTokenizer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
tk = ByteTokenizer()


def test_cuda_engine_reports_the_gpu_and_bf16():
    info = make_engine(device="cuda").info()
    assert info["device"] == torch.cuda.get_device_name(0) and info["dtype"] == "bfloat16"


def test_cuda_kv_cache_sampling_matches_a_full_recompute_within_bf16_precision():
    engine = make_engine(seed=3, device="cuda")
    items = [SampleRequestItem([BOS] + tk.encode("look ") + [IMAGE], [png()], 1.0, 1.0, 16, (), 5),
             SampleRequestItem([BOS] + tk.encode("a much longer prompt here"), [], 0.8, 0.95, 10, (), 6)]
    outs, _ = engine.sample(items)
    for item, out in zip(items, outs):
        ids = item.prompt + out.token_ids
        n = len(out.token_ids)
        imgs = engine._decode_images("x", item.images)
        with torch.no_grad():
            logits = engine.backend.target_logits([ids], torch.stack(imgs) if imgs else None,
                                                  torch.zeros(n, dtype=torch.long), torch.arange(len(item.prompt), len(ids)))
        lp = sampling.sampling_logprobs(logits, torch.full((n,), item.temperature, device="cuda"),
                                        torch.full((n,), item.top_p, device="cuda"))
        again = lp.gather(1, torch.tensor(out.token_ids, device="cuda")[:, None])[:, 0].tolist()
        assert again == pytest.approx(out.logprobs, abs=0.1)


def test_cuda_training_learns_and_checkpoints_move_to_the_cpu(tmp_path):
    engine = make_engine(seed=2, device="cuda")
    p = [BOS] + tk.encode("Q ") + [IMAGE] + tk.encode(" A: ")
    a = tk.encode("\\boxed{7}") + [EOS]
    batch = [TrainSeq(p + a, [0] * len(p) + [1] * len(a), [png()])]
    first = engine.supervised_step(batch, 3e-3)
    for _ in range(30):
        last = engine.supervised_step(batch, 3e-3)
    assert last["loss"] < first["loss"] / 3
    for s in batch:
        s.old_logprobs, s.advantage = engine.score(batch)[0], 1.0
    r = engine.train_step(batch, 1e-3)
    assert r["optimizer_steps"] == 1 and r["clip_fraction"] < 0.5
    engine.save(str(tmp_path / "ck"))
    cpu = make_engine(seed=9, device="cpu")
    assert cpu.load(str(tmp_path / "ck")) == engine.policy_version
    gpu_scores, cpu_scores = engine.score(batch)[0], cpu.score(batch)[0]
    assert cpu_scores == pytest.approx(gpu_scores, abs=0.1)
