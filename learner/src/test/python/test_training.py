import pytest
import torch

from engine_testing import make_engine, png
from rolloutfarm_engine import losses
from rolloutfarm_engine.engine import SampleRequestItem, TrainSeq
from rolloutfarm_engine.errors import EngineError
from rolloutfarm_engine.tokenizer import BOS, EOS, IMAGE, ByteTokenizer

tk = ByteTokenizer()


def weights(engine):
    return [p.detach().clone() for p in engine.backend.parameters()]


def demo_seq(answer, prompt="Q: 2+3? <|image|> A: ", color=(255, 0, 0)):
    p = [BOS] + tk.encode(prompt)
    a = tk.encode(answer) + [EOS]
    return TrainSeq(p + a, [0] * len(p) + [1] * len(a), [png(color)] * p.count(IMAGE))


def test_clip_binds_only_where_the_ratio_leaves_the_trust_region_in_the_advantage_direction():
    ratios = torch.tensor([0.5, 0.9, 1.0, 1.1, 1.5, 0.5, 1.5, 0.79, 1.21])
    adv = torch.tensor([1.0, 1.0, 1.0, -1.0, 1.0, -1.0, -1.0, -2.0, 2.0])
    new_lp = torch.log(ratios).requires_grad_()
    loss, clipped, ratio = losses.grpo_token_loss(new_lp, torch.zeros(9), adv, 0.2, 0.2)
    # positive advantage: clipped above 1.2; negative advantage: clipped below 0.8.
    assert clipped.tolist() == [False, False, False, False, True, True, False, True, True]
    assert ratio.tolist() == pytest.approx(ratios.tolist())
    loss.sum().backward()
    assert (new_lp.grad[clipped] == 0).all() and (new_lp.grad[~clipped] != 0).all()
    assert loss.tolist() == pytest.approx([-0.5, -0.9, -1.0, 1.1, -1.2, 0.8, 1.5, 1.6, -2.4])
    _, asym, _ = losses.grpo_token_loss(torch.log(torch.tensor([1.25, 0.85])), torch.zeros(2),
                                        torch.tensor([1.0, -1.0]), 0.1, 0.3)
    assert asym.tolist() == [False, True]


def test_train_step_reports_no_clipping_on_policy_and_full_clipping_far_off_policy():
    seqs = [demo_seq("5"), demo_seq("7", color=(0, 255, 0))]
    engine = make_engine(seed=1)
    current = engine.score(seqs)
    for s, lp in zip(seqs, current):
        s.old_logprobs, s.advantage = lp, 1.0
    on = engine.train_step(seqs, 1e-3)
    assert on["clip_fraction"] == 0 and on["approx_kl"] == pytest.approx(0, abs=1e-6)
    assert on["policy_version"] == 1 and on["optimizer_steps"] == 1 and on["tokens"] == 4 and on["grad_norm"] > 0
    assert on["loss"] == pytest.approx(-1.0, abs=1e-5)  # ratio 1, advantage 1, token mean
    assert on["entropy"] > 0
    far = make_engine(seed=1)
    for s in seqs:  # ratios of e (> 1.2) with positive advantages: every token clipped, no gradient
        s.old_logprobs = [lp - 1.0 for lp in s.old_logprobs]
    before = weights(far)
    r = far.train_step(seqs, 1e-3, mini_batch_size=1, epochs=2)
    assert r["clip_fraction"] == 1.0 and r["grad_norm"] == 0 and r["optimizer_steps"] == 4 and r["tokens"] == 8
    # AdamW still decays the matrices, but no parameter without weight decay moves.
    after = weights(far)
    assert any(torch.equal(a, b) for a, b in zip(before, after) if a.dim() < 2)


def test_masked_tokens_get_no_gradient():
    """Tokens and old logprobs outside the loss mask (after the last loss token, so that they
    are not context either) must not change the update."""
    def run(tail, junk_lp):
        engine = make_engine(seed=5)
        # Plain SGD so the weights move by exactly lr * gradient (Adam would magnify float noise
        # in gradients that are zero in exact arithmetic, such as attention key biases).
        engine.optimizer = torch.optim.SGD(engine.backend.parameters(), lr=1.0)
        p = [BOS] + tk.encode("prompt ")
        gen = tk.encode("abc")
        ids = p + gen + tail
        mask = [0] * len(p) + [1] * 3 + [0] * len(tail)
        old = [junk_lp] * len(p) + [-5.5, -5.6, -5.4] + [junk_lp] * len(tail)
        r = engine.train_step([TrainSeq(ids, mask, [], old, 0.7)], 1e-2)
        return r, weights(engine)

    r1, w1 = run(tk.encode("<interpreter>out</interpreter>"), 0.0)
    r2, w2 = run(tk.encode("zzzz"), -40.0)
    assert r1["loss"] == pytest.approx(r2["loss"], abs=1e-6) and r1["tokens"] == r2["tokens"] == 3
    for a, b in zip(w1, w2):
        assert torch.allclose(a, b, atol=1e-5)
    assert any(not torch.equal(a, b) for a, b in zip(w1, weights(make_engine(seed=5))))


def test_sequence_mean_weighs_sequences_not_tokens():
    long_seq, short_seq = demo_seq("123456789"), demo_seq("1")
    engine = make_engine(seed=1)
    for s, lp in zip((long_seq, short_seq), engine.score([long_seq, short_seq])):
        s.old_logprobs = lp
    long_seq.advantage, short_seq.advantage = 1.0, -1.0
    # At ratio 1 the loss is -mean(advantage): token-mean favours the long sequence's tokens.
    tm = make_engine(seed=1).train_step([long_seq, short_seq], 1e-3, loss_aggregation="token-mean")
    sm = make_engine(seed=1).train_step([long_seq, short_seq], 1e-3, loss_aggregation="sequence-mean")
    assert tm["loss"] == pytest.approx(-(10 - 2) / 12, abs=1e-5)
    assert sm["loss"] == pytest.approx(0.0, abs=1e-5)


def test_behaviour_cloning_reduces_the_loss():
    engine = make_engine(seed=2)
    batch = [demo_seq("\\boxed{5}", "Q: 2+3? <|image|> A: "), demo_seq("\\boxed{12}", "Q: 7+5? <|image|> A: ", (0, 0, 255))]
    first = engine.supervised_step(batch, 3e-3)
    assert first["policy_version"] == 1 and first["tokens"] == 21 and first["loss"] == pytest.approx(5.55, abs=0.3)
    for _ in range(40):
        last = engine.supervised_step(batch, 3e-3)
    assert last["policy_version"] == 41
    assert last["loss"] < first["loss"] / 3


def test_grpo_on_a_toy_task_raises_the_mean_reward():
    """Reward 1 when the continuation starts with a digit (about 4% of bytes at random init)."""
    engine = make_engine(seed=1)
    prompts = [[BOS] + tk.encode(f"Q{i}:") for i in range(4)]
    digits = set(tk.encode("0123456789"))
    group = 16
    means = []
    for _ in range(20):
        items = [SampleRequestItem(p, [], 1.0, 1.0, 2, (), 0) for p in prompts for _ in range(group)]
        outs, _ = engine.sample(items)
        rewards = [1.0 if o.token_ids[0] in digits else 0.0 for o in outs]
        means.append(sum(rewards) / len(rewards))
        seqs = []
        for k, (it, o, r) in enumerate(zip(items, outs, rewards)):
            g = k // group
            baseline = sum(rewards[g * group:(g + 1) * group]) / group
            n = len(it.prompt)
            seqs.append(TrainSeq(it.prompt + o.token_ids, [0] * n + [1] * len(o.token_ids), [],
                                 [0.0] * n + o.logprobs, r - baseline))
        engine.train_step(seqs, 1e-2, mini_batch_size=16)
    assert sum(means[:3]) / 3 < 0.15
    assert sum(means[-3:]) / 3 > 0.6


def test_malformed_training_batches_are_invalid_arguments():
    engine = make_engine()
    good = demo_seq("5")
    n = len(good.token_ids)
    cases = {
        "loss_mask has 3 entries": TrainSeq(good.token_ids, [0, 1, 1], good.images, [0.0] * n, 1.0),
        "old_logprobs has 2 entries": TrainSeq(good.token_ids, good.loss_mask, good.images, [0.0, 0.0], 1.0),
        "but 0 images": TrainSeq(good.token_ids, good.loss_mask, [], [0.0] * n, 1.0),
        "loss_mask[0] is 1": TrainSeq(good.token_ids, [1] + good.loss_mask[1:], good.images, [0.0] * n, 1.0),
        "on an image placeholder": TrainSeq(good.token_ids, [0] + [1] * (n - 1), good.images, [-1.0] * n, 1.0),
        "is not a finite logprob": TrainSeq(good.token_ids, good.loss_mask, good.images, [float("nan")] * n, 1.0),
        "nothing to train on": TrainSeq(good.token_ids, [0] * n, good.images, [0.0] * n, 1.0),
    }
    for needle, seq in cases.items():
        with pytest.raises(EngineError) as err:
            engine.train_step([seq], 1e-3)
        assert err.value.code == "INVALID_ARGUMENT" and needle in err.value.message, err.value.message
    ok = TrainSeq(good.token_ids, good.loss_mask, good.images, [-1.0] * n, 1.0)
    for kwargs, needle in (({"loss_aggregation": "sum"}, "loss_aggregation"), ({"clip_low": 1.5}, "clip_low")):
        with pytest.raises(EngineError) as err:
            engine.train_step([ok], 1e-3, **kwargs)
        assert needle in err.value.message
    with pytest.raises(EngineError) as err:
        engine.supervised_step([ok], 0.0)
    assert "learning_rate" in err.value.message
    assert engine.policy_version == 0
