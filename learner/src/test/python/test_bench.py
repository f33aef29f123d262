from engine_testing import make_engine
from rolloutfarm_engine.bench import measure, peak_flops, train_flops_per_token


def test_measure_reports_train_and_sample_rates_with_their_baselines_on_cpu():
    engine = make_engine(seed=1, max_context=64)
    version = engine.policy_version
    res = measure(engine, batch=3, prompt_len=12, new_tokens=4, train_len=16, repeats=1, unbatched_items=2,
                  no_cache_tokens=3)
    assert res["device"] == "cpu" and "mfu" not in res
    for key in ("train_tokens_per_s", "sample_tokens_per_s", "sample_unbatched_tokens_per_s",
                "sample_no_cache_tokens_per_s"):
        assert res[key] > 0
    assert res["no_cache_tokens"] == 3
    # One warm-up and one timed train step, each a real update.
    assert engine.policy_version == version + 2


def test_flop_accounting_and_peaks():
    engine = make_engine(seed=1)
    n = sum(p.numel() for p in engine.backend.parameters())
    cfg = engine.backend.cfg
    assert train_flops_per_token(engine.backend, 100) == 6 * n + 12 * cfg.n_layers * cfg.d_model * 100 / 2
    assert peak_flops("NVIDIA H200") == 989e12
    assert peak_flops("some unknown card") is None
