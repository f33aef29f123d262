"""Python side of the contracts: descriptor loading, Debian protoc compatibility, wire round trips."""

import importlib
import os
import shutil
import subprocess
import sys

import pytest

import contract_peer
import rolloutfarm_pb
from rolloutfarm_pb import pb

PROTO_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "main", "proto")


def test_every_service_and_required_name_is_loaded():
    for service in ("SandboxService", "PolicyService", "LearnerService", "EngineService"):
        assert getattr(pb, service).full_name == f"rolloutfarm.v1.{service}"
    rpcs = {m.name for m in pb.SandboxService.methods}
    assert rpcs == {"OpenSession", "Execute", "CloseSession", "GetStats"}
    assert pb.EXEC_STATUS_KILLED != pb.EXEC_STATUS_TIMEOUT
    media = pb.Media(name="image_clue_0", mime_type="image/png", data=b"x")
    assert pb.OpenSessionRequest(media=[media]).media[0].name == "image_clue_0"


@pytest.mark.parametrize("name", sorted(contract_peer.REFERENCES))
def test_reference_messages_round_trip_through_bytes(name):
    msg = contract_peer.REFERENCES[name]()
    again = type(msg).FromString(msg.SerializeToString())
    assert again == msg
    assert again.SerializeToString() == msg.SerializeToString()


def test_missing_descriptor_set_names_the_path_and_the_fix(tmp_path):
    missing = tmp_path / "nope.pb"
    with pytest.raises(FileNotFoundError) as err:
        rolloutfarm_pb.load(str(missing))
    assert str(missing) in str(err.value) and "ROLLOUTFARM_DESCRIPTOR_SET" in str(err.value)


def test_debian_protoc_and_grpc_python_plugin_compile_every_contract(tmp_path):
    protoc = shutil.which("protoc")
    plugin = shutil.which("grpc_python_plugin")
    assert protoc and plugin, "protoc and grpc_python_plugin are installed by ./farm (protobuf-compiler, protobuf-compiler-grpc)"
    protos = sorted(os.path.join("rolloutfarm", "v1", f) for f in os.listdir(os.path.join(PROTO_ROOT, "rolloutfarm", "v1")))
    subprocess.run([protoc, f"-I{PROTO_ROOT}", f"--python_out={tmp_path}", f"--grpc_out={tmp_path}",
                    f"--plugin=protoc-gen-grpc={plugin}", *protos], check=True)
    # The generated stubs import with this interpreter's protobuf runtime and agree with the
    # descriptor-set classes on the wire.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from rolloutfarm.v1 import sandbox_pb2, sandbox_pb2_grpc;"
        "r = sandbox_pb2.ExecuteResponse(status=sandbox_pb2.EXEC_STATUS_TIMEOUT, session_alive=True, stdout='x');"
        "assert hasattr(sandbox_pb2_grpc, 'SandboxServiceStub');"
        "sys.stdout.buffer.write(r.SerializeToString())"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, capture_output=True).stdout
    decoded = pb.ExecuteResponse.FromString(out)
    assert decoded.status == pb.EXEC_STATUS_TIMEOUT and decoded.session_alive and decoded.stdout == "x"


def test_unary_service_handler_and_stub_talk_over_loopback():
    grpc = pytest.importorskip("grpc")
    from concurrent import futures

    class Engine:
        def Info(self, request, context):
            return pb.EngineInfo(model_name="echo", vocab_size=259)

        def Tokenize(self, request, context):
            return pb.TokenizeResponse(token_ids=list(request.text.encode()))

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((rolloutfarm_pb.service_handler(pb.EngineService, Engine()),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = rolloutfarm_pb.Stub(channel, pb.EngineService)
            assert stub.Info(pb.EngineInfoRequest(), timeout=5).model_name == "echo"
            assert list(stub.Tokenize(pb.TokenizeRequest(text="hi"), timeout=5).token_ids) == [104, 105]
            with pytest.raises(grpc.RpcError) as err:
                stub.TrainStep(pb.TrainStepRequest(), timeout=5)
            assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        server.stop(None)
