import math

import pytest
import torch

from engine_testing import make_engine, png
from rolloutfarm_engine import sampling
from rolloutfarm_engine.engine import SampleRequestItem, TrainSeq
from rolloutfarm_engine.errors import EngineError
from rolloutfarm_engine.tokenizer import BOS, EOS, IMAGE, ByteTokenizer

tk = ByteTokenizer()


def prompts():
    return [
        SampleRequestItem([BOS] + tk.encode("look: ") + [IMAGE] + tk.encode(" count?"), [png()], 1.0, 1.0, 12, (), 11),
        SampleRequestItem([BOS] + tk.encode("hi"), [], 0.7, 0.9, 9, (), 12),
        SampleRequestItem([BOS, IMAGE, IMAGE] + tk.encode("diff"), [png((0, 0, 255)), png((0, 255, 0), (8, 8))],
                          1.3, 0.5, 15, (), 13),
    ]


def recompute_sampling_logprobs(engine, item, out):
    """Logprobs of the sampled tokens from one full forward pass (no cache), put through the
    same temperature/top-p transform the sampler uses."""
    b = engine.backend
    ids = item.prompt + out.token_ids
    n = len(out.token_ids)
    cols = torch.arange(len(item.prompt), len(ids))
    imgs = engine._decode_images("x", item.images)
    with torch.no_grad():
        logits = b.target_logits([ids], torch.stack(imgs) if imgs else None, torch.zeros(n, dtype=torch.long), cols)
    lp = sampling.sampling_logprobs(logits, torch.full((n,), item.temperature), torch.full((n,), item.top_p))
    return lp.gather(1, torch.tensor(out.token_ids)[:, None])[:, 0].tolist()


def test_kv_cache_sampling_logprobs_equal_a_full_recompute_for_a_padded_batch():
    engine = make_engine(seed=3)
    items = prompts()
    outs, _ = engine.sample(items)
    assert [len(o.token_ids) for o in outs] == [12, 9, 15]
    for item, out in zip(items, outs):
        again = recompute_sampling_logprobs(engine, item, out)
        assert again == pytest.approx(out.logprobs, abs=1e-4)
        assert all(lp <= 0 for lp in out.logprobs)


def test_a_batched_item_gets_the_tokens_it_gets_alone():
    engine = make_engine(seed=3)
    items = prompts()
    batched, _ = engine.sample(items)
    alone, _ = engine.sample([items[2]])
    assert alone[0].token_ids == batched[2].token_ids
    assert alone[0].logprobs == pytest.approx(batched[2].logprobs, abs=1e-4)


def test_seeds_reproduce_and_differ():
    engine = make_engine(seed=3)
    item = prompts()[0]
    item.max_new_tokens = 30
    a, _ = engine.sample([item])
    b, _ = engine.sample([item])
    item.seed = 99
    c, _ = engine.sample([item])
    assert a[0].token_ids == b[0].token_ids and a[0].logprobs == b[0].logprobs
    assert a[0].token_ids != c[0].token_ids


def test_unseeded_sampling_follows_the_engine_seed():
    def run(seed):
        engine = make_engine(seed=seed)
        item = SampleRequestItem([BOS], [], 1.0, 1.0, 20, (), 0)
        return [o.token_ids for o in engine.sample([item, item])[0]]

    first = run(5)
    assert first == run(5)
    assert first[0] != first[1]


def test_greedy_reports_the_untempered_logprob_and_top_p_restricts_the_support():
    engine = make_engine(seed=4)
    greedy = SampleRequestItem([BOS] + tk.encode("x"), [], 0.0, 1.0, 8, (), 1)
    out = engine.sample([greedy])[0][0]
    assert recompute_sampling_logprobs(engine, greedy, out) == pytest.approx(out.logprobs, abs=1e-4)
    logits = torch.tensor([[2.0, 1.0, 0.5, -1.0]])
    lp = sampling.sampling_logprobs(logits, torch.tensor([1.0]), torch.tensor([0.7]))
    p = torch.softmax(logits, -1)[0]
    assert p[0] < 0.7 < p[0] + p[1]  # the nucleus is the two most likely tokens
    assert torch.isinf(lp[0, 2:]).all()
    assert lp[0, :2].exp().tolist() == pytest.approx((p[:2] / p[:2].sum()).tolist())
    hot = sampling.sampling_logprobs(logits, torch.tensor([0.5]), torch.tensor([1.0]))
    assert hot[0].tolist() == pytest.approx(torch.log_softmax(logits[0] / 0.5, -1).tolist())


class ScriptedBackend:
    """Emits a fixed byte script whatever the context: each step's logits put all mass on the
    next scripted token. Exercises the sampler's stopping rules without a model."""

    device = torch.device("cpu")
    tokenizer = tk
    eos_token_id = EOS

    def __init__(self, script, max_context=64):
        self.script = script
        self.max_context = max_context

    def expanded_length(self, ids):
        return len(ids)

    def _logits(self, steps):
        out = torch.full((len(steps), 260), -30.0)
        for r, s in enumerate(steps):
            out[r, self.script[min(s, len(self.script) - 1)]] = 30.0
        return out

    def prefill(self, seqs, images):
        steps = [0] * len(seqs)
        return self._logits(steps), steps

    def decode(self, state, tokens):
        steps = [s + 1 for s in state]
        return self._logits(steps), steps

    def select(self, state, rows):
        return [state[r] for r in rows]


def run_script(script, stop=(), max_new=0, prompt_len=1, max_context=64):
    spec = sampling.SampleSpec([BOS] * prompt_len, [], 1.0, 1.0, max_new, tuple(stop), 7)
    return sampling.sample(ScriptedBackend(script, max_context), [spec], torch.Generator())[0]


def test_stop_string_ends_generation_after_it_is_produced_and_is_kept():
    out = run_script(tk.encode("x = 1</code>more"), stop=("</answer>", "</code>"))
    assert out.finish_reason == sampling.FINISH_STOP and out.matched_stop == "</code>"
    assert out.text == "x = 1</code>" and len(out.token_ids) == len(out.logprobs) == len("x = 1</code>")


def test_eos_length_and_context_limit_end_generation():
    eos = run_script(tk.encode("ok") + [EOS] + tk.encode("zz"))
    assert eos.finish_reason == sampling.FINISH_EOS and eos.text == "ok" and eos.token_ids[-1] == EOS
    length = run_script(tk.encode("abcdefgh"), max_new=5)
    assert length.finish_reason == sampling.FINISH_LENGTH and length.text == "abcde"
    ctx = run_script(tk.encode("abcdefgh" * 8), prompt_len=60, max_context=64)
    assert ctx.finish_reason == sampling.FINISH_LENGTH and len(ctx.token_ids) == 4
    full = run_script(tk.encode("abc"), prompt_len=64, max_context=64)
    assert full.token_ids == [] and full.finish_reason == sampling.FINISH_LENGTH
    assert all(math.isclose(lp, 0.0, abs_tol=1e-6) for lp in eos.logprobs)


def test_malformed_sample_requests_are_invalid_arguments():
    engine = make_engine()
    cases = {
        "1 image placeholder tokens": SampleRequestItem([BOS, IMAGE], [], 1.0, 1.0, 4),
        "outside the vocabulary": SampleRequestItem([BOS, 999], [], 1.0, 1.0, 4),
        "token_ids is empty": SampleRequestItem([], [], 1.0, 1.0, 4),
        "temperature": SampleRequestItem([BOS], [], -1.0, 1.0, 4),
        "cannot decode image": SampleRequestItem([BOS, IMAGE], [b"not a png"], 1.0, 1.0, 4),
    }
    for needle, item in cases.items():
        with pytest.raises(EngineError) as err:
            engine.sample([item])
        assert err.value.code == "INVALID_ARGUMENT" and needle in err.value.message
    with pytest.raises(EngineError) as err:
        engine.sample([SampleRequestItem([BOS] * 200, [], 1.0, 1.0, 4)])
    assert err.value.code == "OUT_OF_RANGE" and "allows 128" in err.value.message


def test_images_change_what_the_model_sees():
    engine = make_engine(seed=2)
    seq = [BOS, IMAGE] + tk.encode("abc")
    red = engine.score([TrainSeq(seq, [0, 0, 1, 1, 1], [png((255, 0, 0))])])[0]
    blue = engine.score([TrainSeq(seq, [0, 0, 1, 1, 1], [png((0, 0, 255))])])[0]
    assert red[2:] != pytest.approx(blue[2:], abs=1e-6)
