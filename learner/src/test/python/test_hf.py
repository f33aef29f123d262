"""--model PATH with a Hugging Face causal LM (needs transformers; skipped otherwise)."""

import importlib.util

import pytest
import torch

from rolloutfarm_engine import sampling
from rolloutfarm_engine.engine import Engine, SampleRequestItem, TrainSeq
from rolloutfarm_engine.errors import EngineError
from rolloutfarm_engine.loader import build_backend

HAVE_TRANSFORMERS = importlib.util.find_spec("transformers") is not None


def tiny_hf_model(path):
    """A randomly initialised Llama with a byte-level BPE tokenizer trained on a few lines,
    saved like a downloaded model (no network needed)."""
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<s>", "</s>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(["<code>print(1)</code> <answer>\\boxed{42}</answer>"] * 20, trainer)
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    fast.save_pretrained(path)
    cfg = transformers.LlamaConfig(vocab_size=len(fast), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                   num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
                                   bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                                   pad_token_id=fast.pad_token_id)
    torch.manual_seed(0)
    transformers.LlamaForCausalLM(cfg).save_pretrained(path)


@pytest.mark.skipif(HAVE_TRANSFORMERS, reason="transformers is installed")
def test_hf_directory_without_transformers_says_what_to_install(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    with pytest.raises(EngineError) as err:
        build_backend(str(tmp_path), "cpu")
    assert err.value.code == "FAILED_PRECONDITION" and "transformers" in err.value.message


@pytest.mark.skipif(not HAVE_TRANSFORMERS, reason="transformers is not installed")
@pytest.mark.parametrize("device", ["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
def test_hf_model_samples_with_exact_logprobs_trains_and_checkpoints(tmp_path, device):
    tiny_hf_model(tmp_path / "m")
    backend, restore = build_backend(str(tmp_path / "m"), device)
    assert restore is None and not backend.supports_images
    engine = Engine(backend, seed=1)
    info = engine.info()
    assert info["vocab_size"] == backend.vocab_size and info["eos_token_id"] == backend.eos_token_id
    prompt = [backend.tokenizer.bos_token_id] + engine.tokenize("<code>print")
    items = [SampleRequestItem(prompt, [], 1.0, 1.0, 12, (), 3), SampleRequestItem(prompt[:2], [], 1.0, 1.0, 7, (), 4)]
    outs, _ = engine.sample(items)
    tol = 1e-3 if device == "cpu" else 0.1
    for item, out in zip(items, outs):
        ids = item.prompt + out.token_ids
        n = len(out.token_ids)
        with torch.no_grad():
            logits = backend.target_logits([ids], None, torch.zeros(n, dtype=torch.long),
                                           torch.arange(len(item.prompt), len(ids)))
        lp = sampling.sampling_logprobs(logits, torch.ones(n, device=logits.device), torch.ones(n, device=logits.device))
        again = lp.gather(1, torch.tensor(out.token_ids, device=logits.device)[:, None])[:, 0].tolist()
        assert again == pytest.approx(out.logprobs, abs=tol)
    seq = TrainSeq(items[0].prompt + outs[0].token_ids, [0] * len(prompt) + [1] * len(outs[0].token_ids), [],
                   [0.0] * len(prompt) + outs[0].logprobs, 1.0)
    r = engine.train_step([seq], 1e-4)
    assert r["policy_version"] == 1 and r["tokens"] == len(outs[0].token_ids)
    engine.save(str(tmp_path / "ck"))
    again, restore = build_backend(str(tmp_path / "ck"), device)
    resumed = Engine(again, seed=5)
    assert resumed.load(restore) == 1
    assert resumed.score([seq])[0] == pytest.approx(engine.score([seq])[0], abs=tol)
    with pytest.raises(EngineError) as err:
        engine.sample([SampleRequestItem(prompt + [0], [b"png"], 1.0, 1.0, 4)])
    assert err.value.code == "INVALID_ARGUMENT"
