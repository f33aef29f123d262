"""The Python side of the cross-language contract test.

Builds the same reference messages as ContractTest.java, field by field, so that equality
after crossing the language boundary means both runtimes agree on the wire format.

    contract_peer.py check DIR   decode DIR/java-<name>.bin and compare with the reference
    contract_peer.py write DIR   encode the reference into DIR/python-<name>.bin
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "main", "python"))

from rolloutfarm_pb import pb  # noqa: E402

PNG_BYTES = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF, 0x10])


def reference_trajectory():
    t = pb.Trajectory(
        trajectory_id="traj-7", task_id="count-0001#3", prompt_id="count-0001", group_index=3,
        policy_version=42, token_ids=[1, 2, 3, 250, 9, 10, 11, 12, 13], prompt_tokens=4,
        logprobs=[0.0, 0.0, 0.0, 0.0, -0.5, -1.25, -0.125, 0.0, 0.0],
        loss_mask=[0, 0, 0, 0, 1, 1, 1, 0, 0], end_reason=pb.END_REASON_DONE, answer="7",
        tool_calls=1, attempt=1, failure_message="", family="count")
    turn = t.turns.add(text="Let me count. <code>\n```python\nprint(len(dots))\n```\n</code>",
                       code="print(len(dots))", policy_version=42, generated_start=4,
                       generated_count=3, observation_start=7, observation_count=2,
                       policy_ms=12.5, sandbox_ms=0.75)
    turn.observation.status = pb.EXEC_STATUS_OK
    turn.observation.stdout = "7\n"
    turn.observation.stderr = ""
    turn.observation.images_dropped = 1
    turn.observation.rendered = "<interpreter>Text Result:\n7\n</interpreter> — ünïcödé ✓"
    turn.observation.images.add(png=PNG_BYTES, width=640, height=480)
    t.turns.add(text="<answer>\\boxed{7}</answer>", policy_version=43, generated_start=9)
    t.reward.total = 1.1
    t.reward.accuracy = 1.0
    t.reward.tool_bonus = 0.1
    t.reward.extracted_answer = "7"
    t.reward.note = "correct"
    t.timings.started_unix_ms = 1_790_000_000_000
    t.timings.finished_unix_ms = 1_790_000_000_321
    t.timings.policy_ms = 300.25
    t.timings.sandbox_ms = 20.5
    return t


def reference_train_step():
    r = pb.TrainStepRequest(learning_rate=1e-4, clip_low=0.2, clip_high=0.2, max_grad_norm=1.0,
                            mini_batch_size=8, epochs=2, loss_aggregation="token-mean")
    s = r.sequences.add(token_ids=[5, 6, 7, 250], loss_mask=[0, 1, 1, 0],
                        old_logprobs=[0.0, -0.25, -2.0, 0.0], advantage=-0.375)
    s.images.add(png=PNG_BYTES, width=1, height=1)
    r.sequences.add(token_ids=[8], loss_mask=[1], old_logprobs=[-3.5], advantage=0.625)
    return r


def reference_sample_response():
    r = pb.SampleResponse(policy_version=9, generated_tokens=3, seconds=0.5)
    r.results.add(token_ids=[60, 47, 62], logprobs=[-0.5, -0.25, -4.0], text="<a>",
                  finish_reason=pb.FINISH_REASON_STOP, matched_stop="</code>")
    return r


def reference_run_status():
    r = pb.RunStatus(phase=pb.RUN_PHASE_TRAINING, step=12, total_steps=100, policy_version=12,
                     healthy=True, message="training", active_leases=64,
                     trajectories_accepted=3072, updated_unix_ms=1_790_000_000_999)
    r.metrics["reward_mean"] = 0.5
    r.metrics["tool_calls_per_trajectory"] = 1.75
    return r


REFERENCES = {
    "trajectory": reference_trajectory,
    "train_step": reference_train_step,
    "sample_response": reference_sample_response,
    "run_status": reference_run_status,
}


def main(argv):
    if len(argv) != 3 or argv[1] not in ("check", "write"):
        print(__doc__, file=sys.stderr)
        return 2
    directory = argv[2]
    for name, build in REFERENCES.items():
        expected = build()
        if argv[1] == "write":
            with open(os.path.join(directory, f"python-{name}.bin"), "wb") as f:
                f.write(expected.SerializeToString())
            continue
        with open(os.path.join(directory, f"java-{name}.bin"), "rb") as f:
            got = type(expected).FromString(f.read())
        if got != expected:
            print(f"{name}: Java encoding decodes differently in Python\n--- expected\n{expected}"
                  f"--- got\n{got}", file=sys.stderr)
            return 1
    print("contract ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
