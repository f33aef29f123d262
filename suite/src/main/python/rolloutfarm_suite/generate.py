"""Writes a seeded suite: ``train.jsonl``, ``heldout.jsonl`` and their media.

Record ``i`` of a split is drawn from its own generator seeded with (seed, split, i), so the
output is byte-for-byte the same for a seed. Families take turns (record ``i`` belongs to
family ``i mod len(families)``). A record whose content (question and pixels) already occurs
anywhere in the suite is redrawn, which keeps the splits disjoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass

import numpy as np
from PIL import Image

from rolloutfarm_suite.families import FAMILIES, Sample
from rolloutfarm_suite.video import write_mp4

SPLITS = ("train", "heldout")
MAX_REDRAWS = 1000
JPEG_QUALITY = 90


@dataclass
class SuiteSummary:
    out: str
    counts: dict[str, int]
    families: list[str]


def generate(out: str, seed: int, train: int, heldout: int, families: list[str] | None = None) -> SuiteSummary:
    families = list(families) if families else list(FAMILIES)
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown families {unknown}; known: {', '.join(FAMILIES)}")
    if len(set(families)) != len(families):
        raise ValueError(f"families listed twice: {families}")
    if seed < 0:
        raise ValueError(f"--seed must be >= 0, got {seed}")
    counts = {"train": train, "heldout": heldout}
    for split, count in counts.items():
        if count < 0:
            raise ValueError(f"--{split} must be >= 0, got {count}")

    os.makedirs(out, exist_ok=True)
    seen: set[str] = set()
    for split_index, split in enumerate(SPLITS):
        media = os.path.join(out, "media", split)
        shutil.rmtree(media, ignore_errors=True)  # media of an earlier generation into DIR
        os.makedirs(media)
        with open(os.path.join(out, f"{split}.jsonl"), "w", encoding="utf-8", newline="\n") as lines:
            for i in range(counts[split]):
                family = families[i % len(families)]
                sample = _draw_unseen(family, [seed, split_index, i], seen)
                record = _write(sample, f"{split}-{i:05d}-{family}", family, out, f"media/{split}")
                lines.write(json.dumps(record) + "\n")
    manifest = {"seed": seed, "families": families, **counts}
    with open(os.path.join(out, "suite.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(manifest, indent=2) + "\n")
    return SuiteSummary(out, counts, families)


def _draw_unseen(family: str, key: list[int], seen: set[str]) -> Sample:
    for redraw in range(MAX_REDRAWS):
        sample = FAMILIES[family].make(np.random.default_rng(key + [redraw]))
        fingerprint = content_fingerprint(sample)
        if fingerprint not in seen:
            seen.add(fingerprint)
            return sample
    raise RuntimeError(f"family {family} keeps repeating itself; generate fewer records")


def content_fingerprint(sample: Sample) -> str:
    h = hashlib.sha256(sample.question.encode())
    for picture in sample.images:
        h.update(picture.pixels.tobytes())
    if sample.video is not None:
        h.update(sample.video.frames.tobytes())
    return h.hexdigest()


def _write(sample: Sample, record_id: str, family: str, out: str, media: str) -> dict:
    images = []
    for k, picture in enumerate(sample.images):
        ext = "jpg" if picture.fmt == "jpeg" else "png"
        rel = f"{media}/{record_id}_{k}.{ext}"
        params = {"quality": JPEG_QUALITY} if picture.fmt == "jpeg" else {}
        Image.fromarray(picture.pixels).save(os.path.join(out, rel), format=picture.fmt.upper(), **params)
        images.append(rel)
    record = {
        "id": record_id,
        "family": family,
        "question": sample.question,
        "answer": sample.answer,
        "images": images,
    }
    if sample.video is not None:
        rel = f"{media}/{record_id}.mp4"
        write_mp4(os.path.join(out, rel), sample.video.frames, sample.video.fps)
        frames, height, width = sample.video.frames.shape[:3]
        record["video"] = rel
        record["video_info"] = {"frame_count": frames, "fps": sample.video.fps, "width": width, "height": height}
    record["verifier"] = sample.verifier
    record["expert"] = sample.expert_turns()
    record["guess"] = sample.guess_turns()
    return record
