"""The engine: one policy, its optimizer and its version, independent of gRPC.

Sequences arrive as the learner builds them (one IMAGE token per image, see model.py for the
mapping to model positions). Every public method validates its input and raises EngineError
with the status code the RPC layer returns.
"""

import dataclasses
import math
import time

import torch

from . import checkpoint, losses, sampling
from .errors import EngineError, invalid, out_of_range
from .images import decode_png

TOKEN_MEAN, SEQUENCE_MEAN = "token-mean", "sequence-mean"


@dataclasses.dataclass
class TrainSeq:
    """One training sequence: token ids, loss mask, old logprobs (GRPO only), advantage
    (GRPO only) and the PNG bytes of its images."""

    token_ids: list
    loss_mask: list
    images: list = dataclasses.field(default_factory=list)
    old_logprobs: list = None
    advantage: float = 0.0


@dataclasses.dataclass
class SampleRequestItem:
    prompt: list
    images: list  # PNG bytes
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 0
    stop: tuple = ()
    seed: int = 0


class Engine:
    def __init__(self, backend, seed=0, micro_batch_tokens=8192, weight_decay=0.01):
        self.backend = backend
        self.seed = seed
        self.policy_version = 0
        self.micro_batch_tokens = micro_batch_tokens
        self.rng = torch.Generator()
        self.rng.manual_seed(seed)
        decay = [p for p in backend.parameters() if p.requires_grad and p.dim() >= 2]
        no_decay = [p for p in backend.parameters() if p.requires_grad and p.dim() < 2]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)

    # facts ---------------------------------------------------------------------------------
    def info(self):
        b = self.backend
        dev = b.device
        return {
            "model_name": b.name,
            "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
            "dtype": b.dtype_name,
            "parameter_count": sum(p.numel() for p in b.parameters() if p.requires_grad),
            "vocab_size": b.vocab_size,
            "image_token_id": b.image_token_id,
            "eos_token_id": b.eos_token_id,
            "max_context_tokens": b.max_context,
            "tokens_per_image": b.tokens_per_image,
            "policy_version": self.policy_version,
            "torch_version": torch.__version__,
        }

    def tokenize(self, text):
        return self.backend.tokenizer.encode(text)

    # validation ----------------------------------------------------------------------------
    def _check_tokens(self, where, ids, n_images):
        if not ids:
            raise invalid(f"{where}: token_ids is empty (a context needs at least one token, e.g. BOS)")
        v = self.backend.vocab_size
        bad = next((i for i, t in enumerate(ids) if t < 0 or t >= v), None)
        if bad is not None:
            raise invalid(f"{where}: token_ids[{bad}] = {ids[bad]} is outside the vocabulary [0, {v})")
        placeholders = sum(1 for t in ids if t == self.backend.image_token_id)
        if placeholders != n_images:
            raise invalid(f"{where}: {placeholders} image placeholder tokens (id {self.backend.image_token_id}) "
                          f"but {n_images} images; send exactly one image per placeholder, in order")
        if placeholders and not self.backend.supports_images:
            raise invalid(f"{where}: model {self.backend.name} has no vision encoder; send text-only contexts")
        n = self.backend.expanded_length(ids)
        if n > self.backend.max_context:
            raise out_of_range(f"{where}: context is {n} positions ({len(ids)} tokens, {placeholders} images × "
                               f"{self.backend.tokens_per_image}) but the model allows {self.backend.max_context}")

    def _decode_images(self, where, images):
        if not images:
            return []
        return [decode_png(png, self.backend.image_size, f"{where}.images[{k}]") for k, png in enumerate(images)]

    def _check_train_seq(self, where, s, grpo):
        self._check_tokens(where, s.token_ids, len(s.images))
        n = len(s.token_ids)
        if len(s.loss_mask) != n:
            raise invalid(f"{where}: loss_mask has {len(s.loss_mask)} entries but token_ids has {n}")
        if any(m not in (0, 1) for m in s.loss_mask):
            raise invalid(f"{where}: loss_mask entries must be 0 or 1")
        if s.loss_mask[0]:
            raise invalid(f"{where}: loss_mask[0] is 1, but the first token has no context to be predicted from")
        img = self.backend.image_token_id
        bad = next((j for j, (t, m) in enumerate(zip(s.token_ids, s.loss_mask)) if m and t == img), None)
        if bad is not None:
            raise invalid(f"{where}: loss_mask[{bad}] is 1 on an image placeholder; images are inputs, not generated")
        if grpo:
            if len(s.old_logprobs) != n:
                raise invalid(f"{where}: old_logprobs has {len(s.old_logprobs)} entries but token_ids has {n} "
                              "(they are aligned with token_ids; put 0 where loss_mask is 0)")
            bad = next((j for j, (lp, m) in enumerate(zip(s.old_logprobs, s.loss_mask))
                        if m and not (math.isfinite(lp) and lp <= 1e-4)), None)
            if bad is not None:
                raise invalid(f"{where}: old_logprobs[{bad}] = {s.old_logprobs[bad]} is not a finite logprob <= 0")
            if not math.isfinite(s.advantage):
                raise invalid(f"{where}: advantage is {s.advantage}, must be finite")

    # sampling ------------------------------------------------------------------------------
    def sample(self, items):
        if not items:
            raise invalid("items is empty: send at least one context to continue")
        specs = []
        for i, it in enumerate(items):
            where = f"items[{i}]"
            self._check_tokens(where, it.prompt, len(it.images))
            if it.temperature < 0 or not math.isfinite(it.temperature):
                raise invalid(f"{where}.params.temperature = {it.temperature}; must be >= 0 (0 = greedy)")
            if not (0 <= it.top_p <= 1):
                raise invalid(f"{where}.params.top_p = {it.top_p}; must be in (0, 1] (0 means 1)")
            if any(not s for s in it.stop):
                raise invalid(f"{where}.params.stop has an empty string")
            specs.append(sampling.SampleSpec(list(it.prompt), self._decode_images(where, it.images), it.temperature,
                                             it.top_p, it.max_new_tokens, tuple(it.stop), it.seed))
        t0 = time.perf_counter()
        self.backend.train(False)
        outs = sampling.sample(self.backend, specs, self.rng)
        return outs, time.perf_counter() - t0

    # training ------------------------------------------------------------------------------
    def _set_lr(self, lr):
        if not (lr > 0 and math.isfinite(lr)):
            raise invalid(f"learning_rate = {lr}; must be a positive number")
        for g in self.optimizer.param_groups:
            g["lr"] = lr

    def _micro_batches(self, order, seqs):
        """Splits `order` into groups whose padded size stays within micro_batch_tokens."""
        group, longest = [], 0
        for i in order:
            n = self.backend.expanded_length(seqs[i].token_ids)
            if group and max(longest, n) * (len(group) + 1) > self.micro_batch_tokens:
                yield group
                group, longest = [], 0
            group.append(i)
            longest = max(longest, n)
        if group:
            yield group

    def _forward_tokens(self, seqs, images, idx):
        """Teacher-forced logprobs of the loss tokens of seqs[idx]: (log-distributions [N, V],
        targets [N], sequence index [N] (position in idx))."""
        rows, cols, targets = [], [], []
        for r, i in enumerate(idx):
            for j, m in enumerate(seqs[i].loss_mask):
                if m:
                    rows.append(r)
                    cols.append(j)
                    targets.append(seqs[i].token_ids[j])
        imgs = [im for i in idx for im in images[i]]
        logits = self.backend.target_logits([seqs[i].token_ids for i in idx], torch.stack(imgs) if imgs else None,
                                            torch.tensor(rows, dtype=torch.long), torch.tensor(cols, dtype=torch.long))
        logp = torch.log_softmax(logits, dim=-1)
        dev = logp.device
        t = torch.tensor(targets, dtype=torch.long, device=dev)
        return logp, t, torch.tensor(rows, dtype=torch.long, device=dev), cols

    def _optimizer_step(self, max_grad_norm):
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        norm = float(torch.nn.utils.clip_grad_norm_(params, max_grad_norm if max_grad_norm > 0 else float("inf")))
        if math.isfinite(norm):
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return norm

    def train_step(self, seqs, learning_rate, clip_low=0.2, clip_high=0.2, max_grad_norm=1.0, mini_batch_size=0,
                   epochs=1, loss_aggregation=TOKEN_MEAN):
        """One GRPO update. Zero-valued knobs take their defaults: clip 0.2, one epoch, the
        whole batch as one mini-batch, token-mean aggregation."""
        t0 = time.perf_counter()
        if not seqs:
            raise invalid("sequences is empty: send at least one sequence")
        clip_low = clip_low or 0.2
        clip_high = clip_high or 0.2
        if not (0 < clip_low < 1) or clip_high <= 0:
            raise invalid(f"clip_low = {clip_low} must be in (0, 1) and clip_high = {clip_high} positive")
        epochs = epochs or 1
        mini = mini_batch_size or len(seqs)
        agg = loss_aggregation or TOKEN_MEAN
        if agg not in (TOKEN_MEAN, SEQUENCE_MEAN):
            raise invalid(f"loss_aggregation = {agg!r}; use {TOKEN_MEAN!r} or {SEQUENCE_MEAN!r}")
        for i, s in enumerate(seqs):
            self._check_train_seq(f"sequences[{i}]", s, grpo=True)
        if not any(any(s.loss_mask) for s in seqs):
            raise invalid("no sequence has a loss token (loss_mask is all 0): nothing to train on")
        self._set_lr(learning_rate)
        images = [self._decode_images(f"sequences[{i}]", s.images) for i, s in enumerate(seqs)]
        self.backend.train(True)
        stats = {"loss": 0.0, "grad_norm": 0.0, "clipped": 0, "entropy": 0.0, "kl": 0.0, "tokens": 0, "steps": 0}
        for _ in range(epochs):
            order = torch.randperm(len(seqs), generator=self.rng).tolist()
            for m in range(0, len(order), mini):
                mb = order[m:m + mini]
                n_tok = sum(sum(seqs[i].loss_mask) for i in mb)
                if n_tok == 0:
                    continue
                n_seq = sum(1 for i in mb if any(seqs[i].loss_mask))
                mb_loss = 0.0
                for micro in self._micro_batches(mb, seqs):
                    if not any(any(seqs[i].loss_mask) for i in micro):
                        continue
                    logp, targets, rows, cols = self._forward_tokens(seqs, images, micro)
                    dev = logp.device
                    new_lp = logp.gather(1, targets[:, None])[:, 0]
                    old_lp = torch.tensor([seqs[micro[r]].old_logprobs[c] for r, c in zip(rows.tolist(), cols)],
                                          dtype=torch.float32, device=dev)
                    adv = torch.tensor([seqs[i].advantage for i in micro], dtype=torch.float32, device=dev)[rows]
                    tok_loss, clipped, ratio = losses.grpo_token_loss(new_lp, old_lp, adv, clip_low, clip_high)
                    if agg == TOKEN_MEAN:
                        w = torch.full_like(tok_loss, 1.0 / n_tok)
                    else:
                        counts = torch.tensor([sum(seqs[i].loss_mask) for i in micro], dtype=torch.float32, device=dev)
                        w = 1.0 / (counts[rows] * n_seq)
                    loss = (tok_loss * w).sum()
                    loss.backward()
                    mb_loss += float(loss)
                    with torch.no_grad():
                        stats["clipped"] += int(clipped.sum())
                        stats["entropy"] += float(losses.entropy_from_logprobs(logp.detach()).sum())
                        stats["kl"] += float(losses.approx_kl(ratio).sum())
                        stats["tokens"] += len(targets)
                stats["grad_norm"] += self._optimizer_step(max_grad_norm)
                stats["loss"] += mb_loss
                stats["steps"] += 1
        self.policy_version += 1
        steps, toks = max(1, stats["steps"]), max(1, stats["tokens"])
        return {"policy_version": self.policy_version, "loss": stats["loss"] / steps,
                "clip_fraction": stats["clipped"] / toks, "grad_norm": stats["grad_norm"] / steps,
                "entropy": stats["entropy"] / toks, "tokens": stats["tokens"], "seconds": time.perf_counter() - t0,
                "approx_kl": stats["kl"] / toks, "optimizer_steps": stats["steps"]}

    def supervised_step(self, seqs, learning_rate, max_grad_norm=1.0):
        """One behaviour-cloning update: token-mean cross-entropy on the loss tokens."""
        t0 = time.perf_counter()
        if not seqs:
            raise invalid("sequences is empty: send at least one sequence")
        for i, s in enumerate(seqs):
            self._check_train_seq(f"sequences[{i}]", s, grpo=False)
        n_tok = sum(sum(s.loss_mask) for s in seqs)
        if n_tok == 0:
            raise invalid("no sequence has a loss token (loss_mask is all 0): nothing to imitate")
        self._set_lr(learning_rate)
        images = [self._decode_images(f"sequences[{i}]", s.images) for i, s in enumerate(seqs)]
        self.backend.train(True)
        total = 0.0
        for micro in self._micro_batches(range(len(seqs)), seqs):
            if not any(any(seqs[i].loss_mask) for i in micro):
                continue
            logp, targets, _, _ = self._forward_tokens(seqs, images, micro)
            loss = -logp.gather(1, targets[:, None]).sum() / n_tok
            loss.backward()
            total += float(loss)
        norm = self._optimizer_step(max_grad_norm)
        self.policy_version += 1
        return {"policy_version": self.policy_version, "loss": total, "grad_norm": norm, "tokens": n_tok,
                "seconds": time.perf_counter() - t0}

    def score(self, seqs):
        """Teacher-forced logprobs of every loss token, without gradients (tests and tools)."""
        images = [self._decode_images(f"sequences[{i}]", s.images) for i, s in enumerate(seqs)]
        self.backend.train(False)
        with torch.no_grad():
            logp, targets, rows, cols = self._forward_tokens(seqs, images, list(range(len(seqs))))
            lp = logp.gather(1, targets[:, None])[:, 0].cpu()
        out = [[0.0] * len(s.token_ids) for s in seqs]
        for k, (r, c) in enumerate(zip(rows.tolist(), cols)):
            out[r][c] = float(lp[k])
        return out

    # checkpoints ---------------------------------------------------------------------------
    def save(self, directory):
        return checkpoint.save(self, directory)

    def load(self, directory):
        return checkpoint.load(self, directory)


__all__ = ["Engine", "EngineError", "TrainSeq", "SampleRequestItem"]
