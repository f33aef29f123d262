"""The generated suite: determinism, disjoint splits, valid records, decodable media, and a
scripted expert whose code prints exactly the answer while the guesses mostly miss."""

import hashlib
import json
import os
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from rolloutfarm_suite import FAMILIES, generate
from rolloutfarm_suite.evaluate import boxed_answer, code_of, load, problems, run_expert_code, score, verify
from rolloutfarm_suite.families import PALETTE

PER_FAMILY = 50
CODE_FAMILIES = ["count", "measure", "diff", "chart", "video"]
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "main", "python")


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("suite"))
    generate(out, seed=11, train=PER_FAMILY * len(FAMILIES), heldout=2 * len(FAMILIES))
    return out


def records(out, split):
    return load(os.path.join(out, f"{split}.jsonl"))


def tree_digest(out):
    digest = {}
    for root, _, files in os.walk(out):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                digest[os.path.relpath(path, out)] = hashlib.sha256(f.read()).hexdigest()
    return digest


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate(str(tmp_path / name), seed=seed, train=12, heldout=6)
    a, b, c = (tree_digest(str(tmp_path / n)) for n in "abc")
    assert len(a) > 18  # two JSONL files, a manifest and media
    assert a == b
    assert a.keys() == c.keys()
    assert a["train.jsonl"] != c["train.jsonl"]


def test_regenerating_into_the_same_folder_leaves_no_stale_media(tmp_path):
    generate(str(tmp_path), seed=1, train=30, heldout=6)
    generate(str(tmp_path), seed=1, train=6, heldout=6)
    referenced = {p for split in ("train", "heldout") for r in records(str(tmp_path), split)
                  for p in r["images"] + ([r["video"]] if "video" in r else [])}
    on_disk = {os.path.relpath(os.path.join(root, f), tmp_path).replace(os.sep, "/")
               for root, _, files in os.walk(tmp_path / "media") for f in files}
    assert on_disk == referenced


def pixels_fingerprint(out, record):
    h = hashlib.sha256(record["question"].encode())
    for rel in record["images"]:
        h.update(np.asarray(Image.open(os.path.join(out, rel))).tobytes())
    if "video" in record:
        with open(os.path.join(out, record["video"]), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def test_splits_are_disjoint_in_ids_media_and_content(suite):
    train, heldout = records(suite, "train"), records(suite, "heldout")
    assert len(train) == PER_FAMILY * len(FAMILIES) and len(heldout) == 2 * len(FAMILIES)
    assert not {r["id"] for r in train} & {r["id"] for r in heldout}
    media = [{p for r in split for p in r["images"] + [r.get("video")] if p} for split in (train, heldout)]
    assert len(media[0]) > len(train) and not media[0] & media[1]
    contents = [pixels_fingerprint(suite, r) for r in train + heldout]
    assert len(set(contents)) == len(contents)


def test_families_take_turns_and_a_subset_can_be_chosen(suite, tmp_path):
    counts = {}
    for r in records(suite, "train"):
        counts[r["family"]] = counts.get(r["family"], 0) + 1
    assert counts == {f: PER_FAMILY for f in FAMILIES}
    generate(str(tmp_path), seed=2, train=4, heldout=2, families=["video", "count"])
    assert [r["family"] for r in records(str(tmp_path), "train")] == ["video", "count"] * 2


def test_every_record_validates(suite):
    for split in ("train", "heldout"):
        for r in records(suite, split):
            assert problems(r, suite) == []
            assert len(r["question"]) < 100
            assert r["verifier"]["kind"] in ("numeric", "choice")
            assert all(not os.path.isabs(p) for p in r["images"])


def test_invalid_records_are_reported_by_id_and_field(suite):
    good = records(suite, "train")[0]
    assert problems({**good, "answer": 3}, suite) == [f"{good['id']}: field 'answer' missing or not a str"]
    missing = problems({**good, "images": ["media/nope.png"]}, suite)
    assert missing == [f"{good['id']}: media file 'media/nope.png' does not exist under {suite}"]
    absolute = problems({**good, "images": [os.path.join(suite, good["images"][0])]}, suite)
    assert "must be relative" in absolute[0]
    assert "verifier.kind" in problems({**good, "verifier": {"kind": "fuzzy"}}, suite)[0]
    assert "expert must be" in problems({**good, "expert": [good["expert"][1]]}, suite)[0]


def test_expert_code_prints_exactly_the_boxed_answer_for_every_record(suite):
    for split in ("train", "heldout"):
        for r in records(suite, split):
            printed = run_expert_code(r, suite)
            assert printed == f"boxed{{{r['answer']}}}\n", r["id"]
            assert r["expert"][1] == f"<answer>\\boxed{{{r['answer']}}}</answer>"


def test_the_media_are_bound_the_way_the_sandbox_binds_them(suite):
    # The sandbox hands the code PIL images straight from Image.open, so they must be RGB.
    for r in records(suite, "train"):
        for rel in r["images"]:
            with Image.open(os.path.join(suite, rel)) as img:
                assert img.mode == "RGB"


def test_expert_turns_follow_the_pyvision_format_with_one_code_skeleton_per_family(suite):
    skeletons = {}
    for r in records(suite, "train"):
        first = r["expert"][0]
        reasoning, _, rest = first.partition("\n<code>\n```python\n")
        assert rest.endswith("\n```\n</code>") and first.count("<code>") == 1
        assert 0 < len(reasoning) < 60 and "\n" not in reasoning
        code = code_of(first)
        assert len(code) <= 190
        # Only a colour word copied from the question varies inside a family.
        colour = re.search(r"C\['(\w+)'\]", code)
        if colour:
            assert colour.group(1) in PALETTE and colour.group(1) in r["question"]
            code = code.replace(f"C['{colour.group(1)}']", "C[?]")
        skeletons.setdefault(r["family"], set()).add(code)
        assert re.fullmatch(r"<answer>\\boxed\{[^{}]+\}</answer>", r["guess"][0])
    assert {f: len(s) for f, s in skeletons.items()} == {f: 1 for f in FAMILIES}


def test_guessing_is_far_below_the_expert_except_where_one_look_is_enough(suite):
    scores = score(os.path.join(suite, "train.jsonl"))
    for family in FAMILIES:
        assert scores[family].expert_accuracy == 1.0, scores[family].failures
    for family in CODE_FAMILIES:
        assert scores[family].guess_accuracy <= 0.45, family
    assert scores["compare"].guess_accuracy >= 0.7
    # A guess is a plausible estimate, not noise: numeric guesses land near the answer.
    for r in records(suite, "train"):
        if r["family"] in ("count", "diff", "chart"):
            assert abs(int(boxed_answer(r["guess"][0])) - int(r["answer"])) <= 10


def test_images_decode_as_png_and_jpeg(suite):
    formats = set()
    for r in records(suite, "train"):
        for rel in r["images"]:
            with Image.open(os.path.join(suite, rel)) as img:
                img.load()
                formats.add(img.format)
                assert img.size == (96, 96)
                assert img.format == ("JPEG" if rel.endswith(".jpg") else "PNG")
    assert formats == {"PNG", "JPEG"}


def test_videos_decode_with_opencv_with_the_stated_frame_count(suite):
    videos = [r for r in records(suite, "train") if "video" in r]
    assert len(videos) == PER_FAMILY and all(not r["images"] for r in videos)
    for r in videos:
        info = r["video_info"]
        capture = cv2.VideoCapture(os.path.join(suite, r["video"]))
        assert capture.isOpened()
        assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == info["frame_count"]
        assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(info["fps"])
        decoded = 0
        while decoded <= info["frame_count"]:
            ok, frame = capture.read()
            if not ok:
                break
            assert frame.shape == (info["height"], info["width"], 3)
            decoded += 1
        capture.release()
        assert decoded == info["frame_count"]
        assert 0 < int(r["answer"]) < info["frame_count"] - 1


def test_verifier_kinds_follow_the_task_contract():
    assert verify("392", "400", {"kind": "numeric", "tolerance": 0.05})
    assert not verify("379", "400", {"kind": "numeric", "tolerance": 0.05})
    assert verify("5.0", "5", {"kind": "numeric", "tolerance": 0.0})
    assert not verify("five", "5", {"kind": "numeric", "tolerance": 0.0})
    assert not verify("nan", "5", {"kind": "numeric", "tolerance": 1.0})
    assert verify("(b) right", "B", {"kind": "choice"})
    assert not verify("A", "B", {"kind": "choice"})
    assert verify("  Left  Side", "left side", {"kind": "exact"})
    assert not verify(" 5", "6", {"kind": "boxed"})
    with pytest.raises(ValueError, match="unknown verifier kind 'fuzzy'"):
        verify("1", "1", {"kind": "fuzzy"})


def cli(*args):
    env = {**os.environ, "PYTHONPATH": os.path.abspath(SOURCE)}
    return subprocess.run([sys.executable, "-m", "rolloutfarm_suite", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_command_line_generates_and_evaluates(tmp_path):
    out = str(tmp_path / "data")
    r = cli("generate", "--out", out, "--seed", "4", "--train", "6", "--heldout", "3", "--families", "count,chart")
    assert r.returncode == 0, r.stderr
    assert "wrote 6 train + 3 held-out records (count, chart)" in r.stdout
    assert json.load(open(os.path.join(out, "suite.json"))) == {
        "seed": 4, "families": ["count", "chart"], "train": 6, "heldout": 3}
    r = cli("evaluate", os.path.join(out, "heldout.jsonl"))
    assert r.returncode == 0, r.stderr
    assert re.search(r"count\s+2\s+100.0%", r.stdout) and re.search(r"chart\s+1\s+100.0%", r.stdout)


def test_the_command_line_names_bad_arguments(tmp_path):
    r = cli("generate", "--out", str(tmp_path), "--train", "2", "--heldout", "1", "--families", "count,maze")
    assert r.returncode == 2
    assert "unknown families ['maze']" in r.stderr and "count, measure" in r.stderr
    r = cli("generate", "--out", str(tmp_path), "--train", "-1", "--heldout", "1")
    assert r.returncode == 2 and "--train must be >= 0, got -1" in r.stderr


def test_a_record_exports_as_a_task_and_scripted_responses_files(suite, tmp_path):
    record = next(r for r in records(suite, "heldout") if r["family"] == "video")
    r = cli("export", os.path.join(suite, "heldout.jsonl"), "--id", record["id"], "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    task = json.load(open(tmp_path / f"{record['id']}.task.json"))
    assert task["video"] == os.path.join(suite, record["video"]) and os.path.isfile(task["video"])
    assert {k: task[k] for k in ("id", "question", "answer", "verifier", "video_info")} == {
        k: record[k] for k in ("id", "question", "answer", "verifier", "video_info")}
    expert = open(tmp_path / f"{record['id']}.expert.txt").read()
    assert expert == record["expert"][0] + "\n----\n" + record["expert"][1] + "\n"
    assert open(tmp_path / f"{record['id']}.guess.txt").read() == record["guess"][0] + "\n"
    r = cli("export", os.path.join(suite, "heldout.jsonl"), "--id", "nope", "--out", str(tmp_path))
    assert r.returncode == 2 and "no record with id 'nope'" in r.stderr
