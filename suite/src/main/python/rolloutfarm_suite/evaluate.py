"""Reads a suite back, checks its records, runs the scripted expert's code locally and scores
both the expert and the guess trajectories with the record's verifier.

The code runs in this process, in a fresh namespace bound the way the sandbox binds it
(``image_clue_i`` as PIL images, ``video_clue_0`` as a decord-like reader): use it only on
suites this package generated.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
from dataclasses import dataclass, field

from PIL import Image

from rolloutfarm_suite.video import VideoReader

REQUIRED = {"id": str, "family": str, "question": str, "answer": str, "images": list, "verifier": dict,
            "expert": list, "guess": list}
VERIFIER_KINDS = ("exact", "numeric", "choice", "boxed")
CODE = re.compile(r"<code>\s*```python\n(.*?)\n```\s*</code>", re.DOTALL)
BOXED = re.compile(r"<answer>\s*\\boxed\{(.*)\}\s*</answer>", re.DOTALL)


def load(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def problems(record: dict, base: str) -> list[str]:
    """What is wrong with one record, as messages naming the record and field; empty if valid."""
    rid = record.get("id", "<no id>")
    found = []
    for name, kind in REQUIRED.items():
        if not isinstance(record.get(name), kind):
            found.append(f"{rid}: field {name!r} missing or not a {kind.__name__}")
    if found:
        return found
    paths = list(record["images"]) + ([record["video"]] if "video" in record else [])
    for rel in paths:
        if not isinstance(rel, str) or os.path.isabs(rel) or ".." in rel.split("/"):
            found.append(f"{rid}: media path {rel!r} must be relative to the JSONL file")
        elif not os.path.isfile(os.path.join(base, rel)):
            found.append(f"{rid}: media file {rel!r} does not exist under {base}")
    verifier = record["verifier"]
    if verifier.get("kind") not in VERIFIER_KINDS:
        found.append(f"{rid}: verifier.kind {verifier.get('kind')!r} is not one of {VERIFIER_KINDS}")
    if not isinstance(verifier.get("tolerance", 0.0), (int, float)):
        found.append(f"{rid}: verifier.tolerance must be a number")
    expert = record["expert"]
    if len(expert) != 2 or not expert[0].endswith("</code>") or CODE.search(expert[0]) is None:
        found.append(f"{rid}: expert must be [reasoning + <code> block ending in </code>, boxed answer]")
    elif boxed_answer(expert[1]) is None:
        found.append(f"{rid}: expert's last turn has no <answer>\\boxed{{...}}</answer>")
    if len(record["guess"]) != 1 or boxed_answer(record["guess"][0]) is None:
        found.append(f"{rid}: guess must be one <answer>\\boxed{{...}}</answer> turn")
    return found


def code_of(response: str) -> str:
    match = CODE.search(response)
    if match is None:
        raise ValueError(f"no <code> block in {response!r}")
    return match.group(1)


def boxed_answer(response: str) -> str | None:
    match = BOXED.search(response)
    return match.group(1).strip() if match else None


def run_expert_code(record: dict, base: str) -> str:
    """Runs the expert's code with the record's media bound; returns what it printed."""
    namespace: dict = {"__name__": "__main__"}
    for k, rel in enumerate(record["images"]):
        with Image.open(os.path.join(base, rel)) as img:
            namespace[f"image_clue_{k}"] = img.convert("RGB")
    if "video" in record:
        namespace["video_clue_0"] = VideoReader(os.path.join(base, record["video"]))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code_of(record["expert"][0]), f"<expert {record['id']}>", "exec"), namespace)
    return out.getvalue()


def verify(answer: str, reference: str, verifier: dict) -> bool:
    """The suite's reading of task.proto's Verifier kinds."""
    kind = verifier.get("kind")
    if kind == "numeric":
        try:
            a, r = float(answer), float(reference)
        except ValueError:
            return False
        return math.isfinite(a) and abs(a - r) <= float(verifier.get("tolerance", 0.0)) * max(1.0, abs(r))
    if kind == "choice":
        letter = re.match(r"\W*([A-Za-z])\b", answer)
        return letter is not None and letter.group(1).upper() == reference.strip().upper()
    if kind == "exact":
        return " ".join(answer.split()).lower() == " ".join(reference.split()).lower()
    if kind == "boxed":
        return answer.strip() == reference.strip()
    raise ValueError(f"unknown verifier kind {kind!r}")


@dataclass
class FamilyScore:
    records: int = 0
    expert_correct: int = 0
    guess_correct: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def expert_accuracy(self) -> float:
        return self.expert_correct / self.records if self.records else 0.0

    @property
    def guess_accuracy(self) -> float:
        return self.guess_correct / self.records if self.records else 0.0


def score(path: str) -> dict[str, FamilyScore]:
    """Per family: how often the expert (code output and boxed answer) and the guess are right."""
    base = os.path.dirname(os.path.abspath(path))
    scores: dict[str, FamilyScore] = {}
    for record in load(path):
        found = problems(record, base)
        if found:
            raise ValueError("; ".join(found))
        s = scores.setdefault(record["family"], FamilyScore())
        s.records += 1
        printed = run_expert_code(record, base).strip()
        final = boxed_answer(record["expert"][-1])
        if printed == f"boxed{{{final}}}" and verify(final, record["answer"], record["verifier"]):
            s.expert_correct += 1
        else:
            s.failures.append(f"{record['id']}: code printed {printed!r}, answer {record['answer']!r}")
        if verify(boxed_answer(record["guess"][-1]), record["answer"], record["verifier"]):
            s.guess_correct += 1
    return scores
