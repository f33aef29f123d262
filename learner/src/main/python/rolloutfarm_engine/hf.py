"""A Hugging Face causal language model behind the engine's backend interface (text only).

Used when --model names a directory with a Hugging Face config.json. Needs the
`transformers` package; without it the engine exits with a message saying so."""

import contextlib
import os

import torch

from .errors import EngineError


class HFTokenizer:
    """The model's own tokenizer, with the byte tokenizer's calling conventions."""

    def __init__(self, tok):
        self.tok = tok
        self.bos_token_id = tok.bos_token_id
        self.eos_token_id = tok.eos_token_id

    def encode(self, text):
        return self.tok.encode(text, add_special_tokens=False)

    def decode(self, ids, skip_special=False):
        return self.tok.decode(ids, skip_special_tokens=skip_special)


def _select_cache(cache, rows):
    if hasattr(cache, "batch_select_indices"):  # transformers Cache objects
        cache.batch_select_indices(rows)
        return cache
    return tuple(tuple(t.index_select(0, rows) for t in layer) for layer in cache)


class HFBackend:
    kind = "hf"
    supports_images = False
    tokens_per_image = 0
    image_size = 0
    image_token_id = -1

    def __init__(self, path, device):
        try:
            import transformers
        except ImportError:
            raise EngineError("FAILED_PRECONDITION",
                              f"--model {path} is a Hugging Face model, but the transformers package is not installed "
                              "for this interpreter; install it (pip install transformers) or use --model builtin") from None
        self.path = os.path.abspath(path)
        self.device = torch.device(device)
        try:
            tok = transformers.AutoTokenizer.from_pretrained(self.path)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(self.path, torch_dtype=torch.float32)
        except Exception as e:  # transformers raises OSError/ValueError/KeyError for bad directories
            raise EngineError("DATA_LOSS", f"cannot load Hugging Face model from {self.path}: {e}") from None
        self.model.to(self.device)
        self.tokenizer = HFTokenizer(tok)
        if self.tokenizer.eos_token_id is None:
            raise EngineError("FAILED_PRECONDITION", f"tokenizer of {self.path} defines no EOS token")
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else self.tokenizer.eos_token_id
        cfg = self.model.config
        self.max_context = int(getattr(cfg, "max_position_embeddings", 0) or 4096)
        self.vocab_size = int(self.model.get_output_embeddings().weight.shape[0])
        self.eos_token_id = self.tokenizer.eos_token_id
        self.name = os.path.basename(self.path.rstrip("/")) or "hf-model"

    def config_dict(self):
        return {"path": self.path}

    def expanded_length(self, token_ids):
        return len(token_ids)

    def autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @property
    def dtype_name(self):
        return "bfloat16" if self.device.type == "cuda" else "float32"

    def _batch(self, seqs, left_pad):
        n = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), n), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), n), dtype=torch.long)
        for b, s in enumerate(seqs):
            sl = slice(n - len(s), n) if left_pad else slice(0, len(s))
            ids[b, sl] = torch.tensor(s, dtype=torch.long)
            mask[b, sl] = 1
        pos = (mask.cumsum(1) - 1).clamp(min=0)
        return ids.to(self.device), mask.to(self.device), pos.to(self.device)

    def prefill(self, seqs, images):
        ids, mask, pos = self._batch(seqs, left_pad=True)
        with self.autocast():
            out = self.model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True)
        return out.logits[:, -1].float(), {"cache": out.past_key_values, "mask": mask, "next_pos": pos[:, -1] + 1}

    def decode(self, state, tokens):
        mask = torch.cat([state["mask"], torch.ones(len(tokens), 1, dtype=torch.long, device=self.device)], 1)
        with self.autocast():
            out = self.model(input_ids=tokens.to(self.device)[:, None], attention_mask=mask,
                             position_ids=state["next_pos"][:, None], past_key_values=state["cache"], use_cache=True)
        return out.logits[:, -1].float(), {"cache": out.past_key_values, "mask": mask, "next_pos": state["next_pos"] + 1}

    def select(self, state, rows):
        rows = torch.as_tensor(rows, dtype=torch.long, device=self.device)
        return {"cache": _select_cache(state["cache"], rows), "mask": state["mask"].index_select(0, rows),
                "next_pos": state["next_pos"].index_select(0, rows)}

    def target_logits(self, seqs, images, rows, cols):
        ids, mask, pos = self._batch(seqs, left_pad=False)
        base = getattr(self.model, self.model.base_model_prefix)
        with self.autocast():
            hidden = base(input_ids=ids, attention_mask=mask, position_ids=pos).last_hidden_state
            sel = hidden[rows.to(self.device), (cols - 1).to(self.device)]
            return self.model.get_output_embeddings()(sel).float()

    def parameters(self):
        return self.model.parameters()

    def state_dict(self):
        return self.model.state_dict()

    def load_state_dict(self, sd):
        self.model.load_state_dict(sd)

    def train(self, mode=True):
        self.model.train(mode)
