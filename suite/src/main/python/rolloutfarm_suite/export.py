"""Writes one record as the rollout worker's debugging inputs: a task JSON (media paths made
absolute) and the expert's and the guess's responses files, whose consecutive responses are
separated by a line holding only ``----`` (for ``./farm rollout --policy scripted:FILE``)."""

from __future__ import annotations

import json
import os

from rolloutfarm_suite.evaluate import load, problems

TASK_FIELDS = ("id", "family", "question", "answer", "images", "video", "video_info", "verifier")


def export(jsonl: str, record_id: str, out: str) -> list[str]:
    base = os.path.dirname(os.path.abspath(jsonl))
    matches = [r for r in load(jsonl) if r.get("id") == record_id]
    if not matches:
        raise ValueError(f"no record with id {record_id!r} in {jsonl}")
    record = matches[0]
    found = problems(record, base)
    if found:
        raise ValueError("; ".join(found))
    task = {k: record[k] for k in TASK_FIELDS if k in record}
    task["images"] = [os.path.join(base, p) for p in record["images"]]
    if "video" in record:
        task["video"] = os.path.join(base, record["video"])
    os.makedirs(out, exist_ok=True)
    written = []
    for name, text in (
        ("task.json", json.dumps(task, indent=2) + "\n"),
        ("expert.txt", responses_file(record["expert"])),
        ("guess.txt", responses_file(record["guess"])),
    ):
        path = os.path.join(out, f"{record_id}.{name}")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        written.append(path)
    return written


def responses_file(responses: list[str]) -> str:
    return "\n----\n".join(responses) + "\n"
