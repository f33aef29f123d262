"""The built-in small vision-language policy: a patch-embedding vision encoder in front of a
decoder-only transformer over bytes.

Token/image mapping rule (how the learner's token sequence becomes model positions):
    The learner's sequences hold ONE image placeholder token (IMAGE) per image. Inside the
    model each placeholder expands to `tokens_per_image` consecutive positions holding that
    image's patch embeddings (raster order); every other token occupies one position. So
    sequence index j sits at model positions [end(j) - width(j) + 1, end(j)], where
    width = tokens_per_image for a placeholder and 1 otherwise, and end(j) is the running
    sum of widths minus 1. The distribution of token j (j >= 1) is read from the model
    output at position end(j - 1), i.e. after the whole previous token, image included.
    The context limit counts model positions (each image counts tokens_per_image).

Attention is written out by hand because Debian's torch 1.13 has no
scaled_dot_product_attention; on torch 2.x the fused kernel is used when present.
"""

import contextlib
import dataclasses
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import tokenizer as tok
from .errors import invalid

_FUSED_ATTENTION = hasattr(F, "scaled_dot_product_attention")
# Logit offset for tokens the policy may never emit (PAD, BOS, IMAGE). Finite, so that
# p * log p stays 0 rather than NaN in entropy sums.
_FORBIDDEN = -1.0e4


@dataclasses.dataclass
class ModelConfig:
    """Shape of the built-in policy. The defaults learn the quickstart tasks on 2 CPU cores
    in minutes: ~0.8M parameters, 1024 positions, 16 positions per image."""

    d_model: int = 128
    n_layers: int = 3
    n_heads: int = 4
    d_ff: int = 512
    max_context: int = 1024
    image_size: int = 32
    patch_size: int = 8
    vocab_size: int = tok.ByteTokenizer.vocab_size

    @property
    def tokens_per_image(self):
        return (self.image_size // self.patch_size) ** 2

    def validate(self):
        for name in ("d_model", "n_layers", "n_heads", "d_ff", "max_context", "image_size", "patch_size"):
            if getattr(self, name) <= 0:
                raise invalid(f"model config: {name} must be positive, got {getattr(self, name)}")
        if self.d_model % self.n_heads:
            raise invalid(f"model config: d_model ({self.d_model}) must be a multiple of n_heads ({self.n_heads})")
        if self.image_size % self.patch_size:
            raise invalid(f"model config: image_size ({self.image_size}) must be a multiple of patch_size ({self.patch_size})")
        if self.vocab_size != tok.ByteTokenizer.vocab_size:
            raise invalid(f"model config: vocab_size is fixed by the byte tokenizer to {tok.ByteTokenizer.vocab_size}")
        return self

    @classmethod
    def from_dict(cls, d):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise invalid(f"model config: unknown keys {unknown}; known: {sorted(known)}")
        try:
            return cls(**{k: int(v) for k, v in d.items()}).validate()
        except (TypeError, ValueError) as e:
            raise invalid(f"model config: {e}") from None

    @classmethod
    def from_json(cls, text):
        try:
            d = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as e:
            raise invalid(f"model config is not valid JSON ({e}): {text!r}") from None
        if not isinstance(d, dict):
            raise invalid(f"model config must be a JSON object, got {text!r}")
        return cls.from_dict(d)

    def to_dict(self):
        return dataclasses.asdict(self)


class VisionEncoder(nn.Module):
    """Image [3, S, S] -> tokens_per_image embeddings: non-overlapping patches, a linear
    projection, a small MLP and learned patch positions."""

    def __init__(self, cfg):
        super().__init__()
        self.patch = nn.Conv2d(3, cfg.d_model, cfg.patch_size, stride=cfg.patch_size)
        self.pos = nn.Parameter(torch.zeros(cfg.tokens_per_image, cfg.d_model))
        self.mlp = nn.Sequential(nn.LayerNorm(cfg.d_model), nn.Linear(cfg.d_model, cfg.d_model), nn.GELU(),
                                 nn.Linear(cfg.d_model, cfg.d_model))
        self.norm = nn.LayerNorm(cfg.d_model)

    def forward(self, images):
        x = self.patch(images).flatten(2).transpose(1, 2) + self.pos  # [N, P, d]
        return self.norm(x + self.mlp(x))


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, x, allowed, past):
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        if _FUSED_ATTENTION:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
            att = att.masked_fill(~allowed, float("-inf")).softmax(dim=-1)
            y = att @ v
        return self.proj(y.transpose(1, 2).reshape(b, t, d)), (k, v)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = Attention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_ff), nn.GELU(), nn.Linear(cfg.d_ff, cfg.d_model))

    def forward(self, x, allowed, past):
        a, kv = self.attn(self.ln1(x), allowed, past)
        x = x + a
        return x + self.mlp(self.ln2(x)), kv


class Layout:
    """Where each sequence's tokens and images sit in the padded model batch (see the module
    docstring for the rule). left_pad aligns sequence ends (sampling); otherwise starts
    (training)."""

    def __init__(self, seqs, cfg, left_pad):
        tpi = cfg.tokens_per_image
        self.ends = []
        lengths = []
        for s in seqs:
            t = torch.tensor(s, dtype=torch.long)
            widths = torch.where(t == tok.IMAGE, torch.full_like(t, tpi), torch.ones_like(t))
            end = torch.cumsum(widths, 0) - 1
            self.ends.append(end)
            lengths.append(int(end[-1]) + 1 if len(s) else 0)
        self.batch = len(seqs)
        self.length = max(lengths) if lengths else 0
        offsets = [self.length - n if left_pad else 0 for n in lengths]
        text_b, text_pos, text_ids, img_b, img_start = [], [], [], [], []
        for b, (s, end) in enumerate(zip(seqs, self.ends)):
            t = torch.tensor(s, dtype=torch.long)
            end = end + offsets[b]
            self.ends[b] = end
            is_img = t == tok.IMAGE
            text_b.append(torch.full((int((~is_img).sum()),), b, dtype=torch.long))
            text_pos.append(end[~is_img])
            text_ids.append(t[~is_img])
            img_b.append(torch.full((int(is_img.sum()),), b, dtype=torch.long))
            img_start.append(end[is_img] - (tpi - 1))
        cat = lambda xs: torch.cat(xs) if xs else torch.zeros(0, dtype=torch.long)  # noqa: E731
        self.text_b, self.text_pos, self.text_ids = cat(text_b), cat(text_pos), cat(text_ids)
        self.img_b, self.img_start = cat(img_b), cat(img_start)
        ar = torch.arange(self.length)
        off = torch.tensor(offsets, dtype=torch.long)[:, None]
        lens = torch.tensor(lengths, dtype=torch.long)[:, None]
        self.valid = (ar[None, :] >= off) & (ar[None, :] < off + lens)  # [B, L]
        self.positions = (ar[None, :] - off).clamp(min=0)
        self.lengths = lengths


class TinyVLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.max_context, cfg.d_model)
        self.vision = VisionEncoder(cfg)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        bias = torch.zeros(cfg.vocab_size)
        bias[[tok.PAD, tok.BOS, tok.IMAGE]] = _FORBIDDEN
        self.register_buffer("logit_bias", bias, persistent=False)
        self.apply(self._init)
        for blk in self.blocks:  # GPT-2 style: residual branches start small in deeper nets
            for lin in (blk.attn.proj, blk.mlp[2]):
                nn.init.normal_(lin.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)

    def embed(self, layout, images):
        """Input embeddings [B, L, d] for a layout; images [N, 3, S, S] in layout order."""
        dev = self.tok_emb.weight.device
        x = torch.zeros(layout.batch, layout.length, self.cfg.d_model, device=dev, dtype=self.tok_emb.weight.dtype)
        x = x.index_put((layout.text_b.to(dev), layout.text_pos.to(dev)), self.tok_emb(layout.text_ids.to(dev)))
        if len(layout.img_b):
            feats = self.vision(images.to(dev)).to(x.dtype)  # [N, P, d]
            p = self.cfg.tokens_per_image
            pos = layout.img_start.to(dev)[:, None] + torch.arange(p, device=dev)[None, :]
            x = x.index_put((layout.img_b.to(dev)[:, None].expand(-1, p), pos), feats)
        return x + self.pos_emb(layout.positions.to(dev))

    def run(self, x, allowed, cache=None):
        """Transformer over embeddings x [B, T, d]; allowed [B, 1, T, T_past + T] says which
        keys each query sees. Returns normalised hidden states and the new KV cache."""
        new_cache = []
        for i, blk in enumerate(self.blocks):
            x, kv = blk(x, allowed, None if cache is None else cache[i])
            new_cache.append(kv)
        return self.ln_f(x), new_cache

    def logits(self, hidden):
        """Hidden states -> float32 logits over the vocabulary (weights tied to the input
        embedding; PAD, BOS and IMAGE are never emitted)."""
        return F.linear(hidden, self.tok_emb.weight).float() + self.logit_bias


def prefill_mask(layout, device):
    """Causal mask over a layout that also hides padding; a padded query sees only itself,
    so that its softmax is defined."""
    n = layout.length
    causal = torch.ones(n, n, dtype=torch.bool).tril()
    allowed = causal[None] & layout.valid[:, None, :]
    allowed |= torch.eye(n, dtype=torch.bool)[None]
    return allowed[:, None].to(device)


class BuiltinBackend:
    """The built-in policy behind the engine's backend interface: prefill/decode with a KV
    cache for sampling and teacher-forced logits for training."""

    name = "builtin-tiny-vlm"
    kind = "builtin"

    def __init__(self, cfg, device):
        self.cfg = cfg.validate()
        self.device = torch.device(device)
        self.model = TinyVLM(cfg).to(self.device)
        self.tokenizer = tok.ByteTokenizer()
        self.supports_images = True

    # facts -----------------------------------------------------------------------------
    @property
    def max_context(self):
        return self.cfg.max_context

    @property
    def tokens_per_image(self):
        return self.cfg.tokens_per_image

    @property
    def image_size(self):
        return self.cfg.image_size

    @property
    def vocab_size(self):
        return self.cfg.vocab_size

    @property
    def image_token_id(self):
        return tok.IMAGE

    @property
    def eos_token_id(self):
        return tok.EOS

    def config_dict(self):
        return self.cfg.to_dict()

    def expanded_length(self, token_ids):
        n_img = sum(1 for t in token_ids if t == tok.IMAGE)
        return len(token_ids) + n_img * (self.cfg.tokens_per_image - 1)

    def autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @property
    def dtype_name(self):
        return "bfloat16" if self.device.type == "cuda" else "float32"

    # sampling ----------------------------------------------------------------------------
    def prefill(self, seqs, images):
        """Runs the prompts; returns logits for the next token of each and the decoding state."""
        layout = Layout(seqs, self.cfg, left_pad=True)
        with self.autocast():
            x = self.model.embed(layout, images)
            h, cache = self.model.run(x, prefill_mask(layout, self.device))
            logits = self.model.logits(h[:, -1])
        state = {"cache": cache, "valid": layout.valid.to(self.device),
                 "next_pos": torch.tensor(layout.lengths, device=self.device)}
        return logits, state

    def decode(self, state, tokens):
        """Feeds one new token per row; returns next-token logits and the updated state."""
        tokens = tokens.to(self.device)
        valid = torch.cat([state["valid"], torch.ones(len(tokens), 1, dtype=torch.bool, device=self.device)], 1)
        pos = state["next_pos"].clamp(max=self.cfg.max_context - 1)
        with self.autocast():
            x = self.model.tok_emb(tokens)[:, None] + self.model.pos_emb(pos)[:, None]
            h, cache = self.model.run(x, valid[:, None, None, :], state["cache"])
            logits = self.model.logits(h[:, -1])
        return logits, {"cache": cache, "valid": valid, "next_pos": state["next_pos"] + 1}

    def select(self, state, rows):
        rows = torch.as_tensor(rows, dtype=torch.long, device=self.device)
        return {"cache": [(k.index_select(0, rows), v.index_select(0, rows)) for k, v in state["cache"]],
                "valid": state["valid"].index_select(0, rows), "next_pos": state["next_pos"].index_select(0, rows)}

    # training ----------------------------------------------------------------------------
    def target_logits(self, seqs, images, rows, cols):
        """Teacher-forced logits [N, V] predicting seqs[rows[i]][cols[i]] (cols >= 1), with
        gradients; one forward pass over the right-padded batch."""
        layout = Layout(seqs, self.cfg, left_pad=False)
        src = torch.stack([layout.ends[r][c - 1] for r, c in zip(rows.tolist(), cols.tolist())]) if len(rows) else \
            torch.zeros(0, dtype=torch.long)
        with self.autocast():
            x = self.model.embed(layout, images)
            h, _ = self.model.run(x, prefill_mask(layout, self.device))
            sel = h[rows.to(self.device), src.to(self.device)]
            return self.model.logits(sel)

    def parameters(self):
        return self.model.parameters()

    def state_dict(self):
        return self.model.state_dict()

    def load_state_dict(self, sd):
        self.model.load_state_dict(sd)

    def train(self, mode=True):
        self.model.train(mode)
