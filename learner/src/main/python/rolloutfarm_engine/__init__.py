"""PyTorch engine of the Rollout Farm learner.

The Java learner starts this package as a process (`python3 -m rolloutfarm_engine`) and talks
to it over the `EngineService` gRPC contract. The engine owns the model, the tokenizer and
the optimizer: it samples continuations with exact logprobs, applies GRPO and
behaviour-cloning updates, and saves and restores checkpoints.
"""

from .errors import EngineError

__all__ = ["EngineError"]
