"""GRPO and behaviour-cloning losses, as pure functions of per-token tensors."""

import torch


def grpo_token_loss(new_logprobs, old_logprobs, advantages, clip_low, clip_high):
    """Clipped token-level importance-ratio loss (PPO/GRPO surrogate, no KL term).

    All inputs are [N] over loss tokens; advantages are the sequence advantage broadcast to
    its tokens. Returns (per-token loss, clipped, ratio) where `clipped` marks tokens on which
    the clipped branch binds (ratio > 1 + clip_high with a positive advantage, or
    ratio < 1 - clip_low with a negative one), i.e. tokens that give no gradient."""
    ratio = torch.exp(new_logprobs - old_logprobs)
    unclipped = -advantages * ratio
    clipped_ratio = torch.clamp(ratio, 1.0 - clip_low, 1.0 + clip_high)
    clipped = -advantages * clipped_ratio
    loss = torch.maximum(unclipped, clipped)
    return loss, (clipped > unclipped).detach(), ratio.detach()


def entropy_from_logprobs(logp):
    """Entropy of each row of a log-distribution [N, V]."""
    return -(logp.exp() * logp).sum(-1)


def approx_kl(ratio):
    """k3 estimator of KL(old || new) from ratios new/old on tokens sampled from old."""
    return (ratio - 1.0) - torch.log(ratio)
