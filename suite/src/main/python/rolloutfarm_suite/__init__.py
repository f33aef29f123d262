"""Synthetic visual reasoning suite: seeded PyVision-style tasks with a scripted expert.

Every record carries the question, the reference answer, its media, a verifier, the scripted
expert's turns (reasoning + templated code, then the boxed answer) and a direct-guess
trajectory, so that a small policy can be warmed up on a mixture of both.
"""

from rolloutfarm_suite.families import FAMILIES, Sample
from rolloutfarm_suite.generate import generate

__all__ = ["FAMILIES", "Sample", "generate"]
