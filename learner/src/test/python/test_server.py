"""The engine process end to end over loopback gRPC."""

import json
import os
import subprocess
import sys

import grpc
import pytest

import rolloutfarm_pb
from engine_testing import TINY, png
from rolloutfarm_pb import pb
from rolloutfarm_engine.tokenizer import BOS, EOS, IMAGE, ByteTokenizer

ENGINE_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "main", "python")
tk = ByteTokenizer()


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(ENGINE_SRC))
    env.setdefault("ROLLOUTFARM_DESCRIPTOR_SET", rolloutfarm_pb.descriptor_set_path())
    proc = subprocess.Popen(
        [sys.executable, "-m", "rolloutfarm_engine", "--listen", "127.0.0.1:0", "--model", "builtin:" + json.dumps(TINY),
         "--seed", "3", "--device", "cpu", "--threads", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline()  # bounded: the process either prints the port or exits
        assert line.startswith("ENGINE_PORT "), f"no port line: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}"
        channel = grpc.insecure_channel(f"127.0.0.1:{int(line.split()[1])}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield rolloutfarm_pb.Stub(channel, pb.EngineService)
        channel.close()
    finally:
        proc.terminate()
        try:
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def image():
    return pb.Image(png=png((200, 0, 0)), width=20, height=12)


def prompt():
    return [BOS] + tk.encode("look ") + [IMAGE] + tk.encode(" answer: ")


def test_every_rpc_over_loopback(stub, tmp_path):
    info = stub.Info(pb.EngineInfoRequest(), timeout=30)
    assert info.model_name == "builtin-tiny-vlm" and info.device == "cpu" and info.dtype == "float32"
    assert (info.vocab_size, info.image_token_id, info.eos_token_id) == (260, IMAGE, EOS)
    assert info.max_context_tokens == 128 and info.tokens_per_image == 4 and info.parameter_count > 0
    assert list(stub.Tokenize(pb.TokenizeRequest(text="a<|image|>"), timeout=30).token_ids) == [97, IMAGE]

    params = pb.SamplingParams(temperature=1.0, top_p=1.0, max_new_tokens=8, seed=5)
    req = pb.SampleRequest(items=[pb.SampleItem(prompt_token_ids=prompt(), images=[image()], params=params),
                                  pb.SampleItem(prompt_token_ids=[BOS], params=params)])
    resp = stub.Sample(req, timeout=60)
    assert len(resp.results) == 2 and resp.policy_version == info.policy_version
    first = resp.results[0]
    assert len(first.token_ids) == len(first.logprobs) and resp.generated_tokens == sum(len(r.token_ids) for r in resp.results)
    assert first.finish_reason in (pb.FINISH_REASON_EOS, pb.FINISH_REASON_LENGTH)

    ids = prompt() + list(first.token_ids)
    mask = [0] * len(prompt()) + [1] * len(first.token_ids)
    old = [0.0] * len(prompt()) + list(first.logprobs)
    train = stub.TrainStep(pb.TrainStepRequest(
        sequences=[pb.TrainSequence(token_ids=ids, loss_mask=mask, old_logprobs=old, advantage=1.0, images=[image()])],
        learning_rate=1e-3, clip_low=0.2, clip_high=0.2, max_grad_norm=1.0, epochs=2), timeout=60)
    assert train.policy_version == info.policy_version + 1 and train.tokens == 2 * len(first.token_ids)
    assert train.optimizer_steps == 2 and 0 <= train.clip_fraction < 1 and train.seconds > 0 and train.entropy > 0

    sup = stub.SupervisedStep(pb.SupervisedStepRequest(
        sequences=[pb.SupervisedSequence(token_ids=ids, loss_mask=mask, images=[image()])], learning_rate=1e-3,
        max_grad_norm=1.0), timeout=60)
    assert sup.policy_version == train.policy_version + 1 and sup.loss > 0 and sup.tokens == len(first.token_ids)

    saved = stub.SaveCheckpoint(pb.SaveCheckpointRequest(directory=str(tmp_path / "ck")), timeout=60)
    assert saved.policy_version == sup.policy_version and "engine.json" in saved.files
    again = stub.Sample(req, timeout=60)
    stub.SupervisedStep(pb.SupervisedStepRequest(
        sequences=[pb.SupervisedSequence(token_ids=ids, loss_mask=mask, images=[image()])], learning_rate=1e-2), timeout=60)
    loaded = stub.LoadCheckpoint(pb.LoadCheckpointRequest(directory=str(tmp_path / "ck")), timeout=60)
    assert loaded.policy_version == saved.policy_version
    restored = stub.Sample(req, timeout=60)
    assert [list(r.token_ids) for r in restored.results] == [list(r.token_ids) for r in again.results]
    assert stub.Info(pb.EngineInfoRequest(), timeout=30).policy_version == saved.policy_version


def test_errors_map_to_status_codes_with_actionable_messages(stub, tmp_path):
    def code_of(call, request):
        with pytest.raises(grpc.RpcError) as err:
            call(request, timeout=30)
        return err.value.code(), err.value.details()

    code, msg = code_of(stub.Sample, pb.SampleRequest(items=[pb.SampleItem(prompt_token_ids=[BOS, IMAGE])]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "items[0]" in msg and "0 images" in msg
    code, msg = code_of(stub.TrainStep, pb.TrainStepRequest(
        sequences=[pb.TrainSequence(token_ids=[BOS, 97, 98], loss_mask=[0, 1], old_logprobs=[0, -1, -1])],
        learning_rate=1e-3))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "loss_mask has 2 entries but token_ids has 3" in msg
    code, msg = code_of(stub.Sample, pb.SampleRequest(items=[pb.SampleItem(prompt_token_ids=[BOS] * 500)]))
    assert code == grpc.StatusCode.OUT_OF_RANGE and "allows 128" in msg
    code, msg = code_of(stub.LoadCheckpoint, pb.LoadCheckpointRequest(directory=str(tmp_path / "missing")))
    assert code == grpc.StatusCode.NOT_FOUND and "missing" in msg
    code, _ = code_of(stub.Sample, pb.SampleRequest())
    assert code == grpc.StatusCode.INVALID_ARGUMENT


def test_bad_command_line_exits_with_a_message():
    env = dict(os.environ, PYTHONPATH=os.path.abspath(ENGINE_SRC))
    r = subprocess.run([sys.executable, "-m", "rolloutfarm_engine", "--model", "builtin:{\"n_heads\": 3}"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and "multiple of n_heads" in r.stderr and "ENGINE_PORT" not in r.stdout
    r = subprocess.run([sys.executable, "-m", "rolloutfarm_engine", "--model", "/no/such/dir"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and "/no/such/dir" in r.stderr


def _gone(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return any(line.split()[:2] == ["State:", "Z"] for line in f)  # exited, not yet reaped
    except FileNotFoundError:
        return True


def test_engine_started_with_exit_with_parent_stops_when_its_starter_is_killed():
    import signal
    import time

    env = dict(os.environ, PYTHONPATH=os.path.abspath(ENGINE_SRC))
    env.setdefault("ROLLOUTFARM_DESCRIPTOR_SET", rolloutfarm_pb.descriptor_set_path())
    engine_cmd = " ".join([sys.executable, "-m", "rolloutfarm_engine", "--listen", "127.0.0.1:0",
                           "--model", "'builtin:" + json.dumps(TINY) + "'", "--device", "cpu", "--threads", "1",
                           "--exit-with-parent"])
    # A shell stands in for the learner: it starts the engine, reports its pid, and is then killed.
    starter = subprocess.Popen(["/bin/sh", "-c", f"{engine_cmd} & echo PID $!; wait"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    engine_pid = None
    try:
        engine_pid = int(starter.stdout.readline().split()[1])
        assert starter.stdout.readline().startswith("ENGINE_PORT ")
        assert not _gone(engine_pid)
        starter.send_signal(signal.SIGKILL)
        starter.wait(timeout=10)
        for _ in range(300):
            if _gone(engine_pid):
                break
            time.sleep(0.1)
        assert _gone(engine_pid), "the engine outlived the process that started it"
    finally:
        if engine_pid is not None and not _gone(engine_pid):
            os.kill(engine_pid, signal.SIGKILL)
        if starter.poll() is None:
            starter.kill()
