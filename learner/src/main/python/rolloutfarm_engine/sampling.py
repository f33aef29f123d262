"""Batched sampling with a KV cache.

Reported logprobs: for temperature > 0, the log-probability of the sampled token under the
distribution it was actually drawn from, i.e. softmax(logits / temperature) restricted to
the top-p nucleus and renormalised. For temperature 0 (greedy) that distribution is a point
mass (logprob 0, which tells nothing), so the log-probability under the untempered model
distribution softmax(logits) is reported instead. Training computes the new policy's
logprobs at temperature 1 without top-p, so importance ratios are exact when rollouts are
sampled with temperature 1 and top_p 1.
"""

import dataclasses

import torch

FINISH_STOP, FINISH_EOS, FINISH_LENGTH = "STOP", "EOS", "LENGTH"


@dataclasses.dataclass
class SampleSpec:
    """One context to continue, already validated."""

    prompt: list
    images: list  # decoded image tensors [3, S, S], one per placeholder in order
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 0  # 0: until the context limit
    stop: tuple = ()
    seed: int = 0


@dataclasses.dataclass
class SampleOutput:
    token_ids: list
    logprobs: list
    text: str
    finish_reason: str
    matched_stop: str = ""


def sampling_logprobs(logits, temperature, top_p):
    """Log of the distribution each row is sampled from (see the module docstring).

    logits [B, V] float32; temperature, top_p [B]. Tokens outside the nucleus get -inf."""
    greedy = temperature <= 0
    t = torch.where(greedy, torch.ones_like(temperature), temperature)
    lp = torch.log_softmax(logits / t[:, None], dim=-1)
    p = torch.where((top_p <= 0) | (top_p >= 1) | greedy, torch.ones_like(top_p), top_p)
    if bool((p < 1).any()):
        probs = lp.exp()
        sorted_p, order = probs.sort(dim=-1, descending=True)
        before = sorted_p.cumsum(-1) - sorted_p  # mass of strictly more likely tokens
        keep_sorted = before < p[:, None]
        keep_sorted[:, 0] = True
        keep = torch.zeros_like(keep_sorted).scatter(1, order, keep_sorted)
        lp = torch.log_softmax(lp.masked_fill(~keep, float("-inf")), dim=-1)
    return lp


def sample(backend, specs, default_generator, max_batch=32):
    """Continues every spec; returns SampleOutputs in order. Items are batched up to max_batch
    rows, left-padded, and rows leave the batch (and their KV cache) as they finish."""
    out = []
    for i in range(0, len(specs), max_batch):
        out.extend(_sample_batch(backend, specs[i:i + max_batch], default_generator))
    return out


def _sample_batch(backend, specs, default_generator):
    dev = backend.device
    tokenizer = backend.tokenizer
    gens = []
    for s in specs:
        g = torch.Generator(device=dev)
        # Seed 0 is "unseeded": draw one from the engine's generator so runs stay reproducible.
        seed = s.seed or int(torch.randint(1, 2**62, (1,), generator=default_generator))
        g.manual_seed(seed)
        gens.append(g)
    budgets = []
    for s in specs:
        room = backend.max_context - backend.expanded_length(s.prompt)
        budgets.append(min(room, s.max_new_tokens) if s.max_new_tokens > 0 else room)
    results = [SampleOutput([], [], "", FINISH_LENGTH) for _ in specs]
    active = [i for i, b in enumerate(budgets) if b > 0]
    if not active:
        return results
    images = [img for i in active for img in specs[i].images]
    images = torch.stack(images) if images else None
    temp = torch.tensor([float(s.temperature) for s in specs], device=dev)
    top_p = torch.tensor([float(s.top_p) for s in specs], device=dev)
    with torch.no_grad():
        logits, state = backend.prefill([specs[i].prompt for i in active], images)
        while True:
            rows = torch.tensor(active, device=dev)
            lp = sampling_logprobs(logits, temp[rows], top_p[rows])
            chosen = []
            for r, i in enumerate(active):
                if specs[i].temperature <= 0:
                    t = int(torch.argmax(logits[r]))
                    lp_t = float(torch.log_softmax(logits[r], -1)[t])
                else:
                    t = int(torch.multinomial(lp[r].exp(), 1, generator=gens[i]))
                    lp_t = float(lp[r, t])
                chosen.append(t)
                res = results[i]
                res.token_ids.append(t)
                res.logprobs.append(lp_t)
            keep = []
            for r, i in enumerate(active):
                res, t = results[i], chosen[r]
                if t == backend.eos_token_id:
                    res.finish_reason = FINISH_EOS
                    continue
                if specs[i].stop:
                    text = tokenizer.decode([x for x in res.token_ids], skip_special=True)
                    # An earlier occurrence would already have stopped generation, so any
                    # occurrence now was completed by this token.
                    hit = next((st for st in specs[i].stop if st in text), None)
                    if hit is not None:
                        res.finish_reason, res.matched_stop = FINISH_STOP, hit
                        continue
                if len(res.token_ids) >= budgets[i]:
                    res.finish_reason = FINISH_LENGTH
                    continue
                keep.append(r)
            if not keep:
                break
            if len(keep) < len(active):
                state = backend.select(state, keep)
            active = [active[r] for r in keep]
            logits, state = backend.decode(state, torch.tensor([chosen[r] for r in keep], dtype=torch.long))
    for res in results:
        ids = res.token_ids[:-1] if res.finish_reason == FINISH_EOS else res.token_ids
        res.text = tokenizer.decode(ids, skip_special=True)
    return results
