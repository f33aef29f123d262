"""Engine throughput: train-step and sample tokens/s, and on CUDA the model FLOP utilisation.

    python3 -m rolloutfarm_engine.bench [--model builtin[:JSON]] [--device auto] [--json]

Prints a table of medians over --repeats runs (after one warm-up), or with --json one JSON
object with train_tokens_per_s, sample_tokens_per_s, device and, on CUDA, mfu. The same run
measures a baseline for sampling: the same requests generated one at a time
(sample_unbatched_tokens_per_s), which is what serving without dynamic batching would get, and
the same batch without a KV cache (sample_no_cache_tokens_per_s).
The learner's `./farm bench learner` calls this."""

import argparse
import io
import json
import os
import statistics
import sys
import time

import torch

# Dense bf16 tensor-core peaks (FLOP/s) by device-name fragment; override with
# ROLLOUTFARM_PEAK_FLOPS for other GPUs.
PEAK_BF16 = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "L4": 121e12, "A10": 125e12,
             "RTX 4090": 165e12, "V100": 125e12}


def peak_flops(device_name):
    env = os.environ.get("ROLLOUTFARM_PEAK_FLOPS")
    if env:
        return float(env)
    for frag, flops in PEAK_BF16.items():
        if frag in device_name:
            return flops
    return None


def train_flops_per_token(backend, context):
    """6 FLOPs per parameter per token (forward + backward) plus attention scores and values
    (12 * layers * width * context / 2 for the causal half), as in the PaLM MFU accounting."""
    n_params = sum(p.numel() for p in backend.parameters())
    cfg = getattr(backend, "cfg", None)
    attn = 12 * cfg.n_layers * cfg.d_model * context / 2 if cfg is not None else 0
    return 6 * n_params + attn


def _png():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 140, 200)).save(buf, "PNG")
    return buf.getvalue()


def _sync(engine):
    if engine.backend.device.type == "cuda":
        torch.cuda.synchronize()


def measure(engine, batch, prompt_len, new_tokens, train_len, repeats, unbatched_items=4, no_cache_tokens=4):
    from .engine import SampleRequestItem, TrainSeq

    b = engine.backend
    tk = b.tokenizer
    text = "Solve it with code. <interpreter>Text Result:\n42\n</interpreter> " * 50
    image_ids = [b.image_token_id] if b.supports_images else []
    images = [_png()] if image_ids else []
    bos = [getattr(tk, "bos_token_id", None) or 0]
    prompt = (bos + image_ids + tk.encode(text))[:prompt_len]
    # No EOS: the measured call generates exactly new_tokens per item (a stop string that
    # never occurs keeps the stop check in the loop).
    items = [SampleRequestItem(prompt, images, 1.0, 1.0, new_tokens, ("\x00never\x00",), 1 + i) for i in range(batch)]

    def sample_once():
        _sync(engine)
        t0 = time.perf_counter()
        outs, _ = engine.sample(items)
        _sync(engine)
        return sum(len(o.token_ids) for o in outs) / (time.perf_counter() - t0)

    def sample_unbatched_once():
        # Baseline: the first few requests, each in its own engine call (no dynamic batching).
        _sync(engine)
        t0 = time.perf_counter()
        tokens = 0
        for item in items[:max(1, min(unbatched_items, batch))]:
            outs, _ = engine.sample([item])
            tokens += len(outs[0].token_ids)
        _sync(engine)
        return tokens / (time.perf_counter() - t0)

    def sample_no_cache_once():
        # Baseline: the same batch without a KV cache, every token a forward pass over the whole
        # context so far. Fewer tokens (no_cache_tokens), which flatters the baseline: its cost
        # per token grows with the length generated.
        steps = max(1, min(no_cache_tokens, new_tokens))
        seqs = [list(prompt) for _ in range(batch)]
        imgs = engine._decode_images("bench", images) * batch if images else []
        stacked = torch.stack(imgs).to(b.device) if imgs else None
        gen = torch.Generator(device=b.device)
        gen.manual_seed(1)
        _sync(engine)
        t0 = time.perf_counter()
        with torch.no_grad():
            for _ in range(steps):
                logits, _ = b.prefill(seqs, stacked)
                probs = torch.softmax(logits.float(), -1)
                nxt = torch.multinomial(probs, 1, generator=gen)[:, 0].tolist()
                for seq, t in zip(seqs, nxt):
                    seq.append(t)
        _sync(engine)
        return batch * steps / (time.perf_counter() - t0)

    ids = (bos + image_ids + tk.encode(text))[:train_len]
    half = len(ids) // 2
    seq = TrainSeq(ids, [0] * half + [1] * (len(ids) - half), images, [0.0] * half + [-5.0] * (len(ids) - half), 1.0)
    seqs = [seq] * batch

    def train_once():
        version = engine.policy_version
        _sync(engine)
        t0 = time.perf_counter()
        engine.train_step(seqs, 1e-6, max_grad_norm=1.0)
        _sync(engine)
        assert engine.policy_version == version + 1
        return batch * len(ids) / (time.perf_counter() - t0)

    sample_once(), train_once()  # warm-up (allocator, kernels)
    sample = statistics.median(sample_once() for _ in range(repeats))
    unbatched = statistics.median(sample_unbatched_once() for _ in range(repeats))
    no_cache = statistics.median(sample_no_cache_once() for _ in range(repeats))
    train = statistics.median(train_once() for _ in range(repeats))
    positions = b.expanded_length(ids)
    out = {"train_tokens_per_s": train, "sample_tokens_per_s": sample,
           "sample_unbatched_tokens_per_s": unbatched, "sample_no_cache_tokens_per_s": no_cache,
           "no_cache_tokens": max(1, min(no_cache_tokens, new_tokens))}
    out["train_positions_per_s"] = train * positions / len(ids)
    if b.device.type == "cuda":
        name = torch.cuda.get_device_name(b.device)
        out["device"] = name
        peak = peak_flops(name)
        flops = train_flops_per_token(b, positions) * out["train_positions_per_s"]
        out["train_tflops"] = flops / 1e12
        out["mfu"] = flops / peak if peak else None
    else:
        out["device"] = "cpu"
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m rolloutfarm_engine.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="builtin")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0, help="CPU threads; 0 = every core")
    p.add_argument("--batch", type=int, default=16, help="sequences per sample call and per train step")
    p.add_argument("--prompt-tokens", type=int, default=256)
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--train-tokens", type=int, default=384, help="tokens per training sequence (half are loss tokens)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--unbatched-items", type=int, default=4,
                   help="requests generated one at a time for the unbatched sampling baseline")
    p.add_argument("--no-cache-tokens", type=int, default=4,
                   help="tokens generated per request by the no-KV-cache sampling baseline")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = p.parse_args(argv)

    from .__main__ import build_engine

    engine = build_engine(argparse.Namespace(model=args.model, device=args.device, threads=args.threads,
                                             seed=args.seed, micro_batch_tokens=1 << 20))
    res = measure(engine, args.batch, args.prompt_tokens, args.new_tokens, args.train_tokens, args.repeats,
                  args.unbatched_items, args.no_cache_tokens)
    info = engine.info()
    res.update({"model": info["model_name"], "parameter_count": info["parameter_count"], "dtype": info["dtype"],
                "threads": torch.get_num_threads(), "batch": args.batch, "torch_version": torch.__version__,
                "repeats": args.repeats, "prompt_tokens": args.prompt_tokens, "new_tokens": args.new_tokens,
                "train_tokens": args.train_tokens})
    if args.json:
        print(json.dumps(res))
        return 0
    print(f"engine bench: {res['model']} ({res['parameter_count']:,} parameters, {res['dtype']}) on {res['device']}, "
          f"{res['threads']} threads, batch {args.batch}, medians of {args.repeats}")
    print(f"{'figure':<28}{'value':>14}")
    for key in ("train_tokens_per_s", "train_positions_per_s", "sample_tokens_per_s", "sample_unbatched_tokens_per_s",
                "sample_no_cache_tokens_per_s", "train_tflops", "mfu"):
        if res.get(key) is not None:
            v = res[key]
            print(f"{key:<28}{(f'{v:.2%}' if key == 'mfu' else f'{v:,.1f}'):>14}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
