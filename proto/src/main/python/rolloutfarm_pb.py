"""Rollout Farm protobuf messages and gRPC glue for Python, built at run time.

The message classes come from the descriptor set that the Maven build writes
(proto/target/rolloutfarm-descriptor.pb), not from generated *_pb2 modules: stubs made by a
newer protoc do not import on older protobuf runtimes (Debian ships 3.21), while a
descriptor set loads on all of them.

    from rolloutfarm_pb import pb
    t = pb.Trajectory(trajectory_id="t1", end_reason=pb.END_REASON_DONE)

Set ROLLOUTFARM_DESCRIPTOR_SET to use a descriptor set from another place (container images
copy it next to the Python sources).
"""

import os
import types

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.internal import enum_type_wrapper

PACKAGE = "rolloutfarm.v1"
_HERE = os.path.dirname(os.path.abspath(__file__))
_DEFAULT_DESCRIPTOR_SET = os.path.join(_HERE, "..", "..", "..", "target", "rolloutfarm-descriptor.pb")


def descriptor_set_path():
    """Where the descriptor set is read from."""
    return os.path.abspath(os.environ.get("ROLLOUTFARM_DESCRIPTOR_SET", _DEFAULT_DESCRIPTOR_SET))


def _message_class(descriptor):
    # protobuf >= 4.22 has GetMessageClass; 3.20/4.21 only the factory's GetPrototype.
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(descriptor.file.pool).GetPrototype(descriptor)


def load(path=None):
    """Loads every rolloutfarm.v1 message and enum into a namespace.

    Messages are attributes by their short name (pb.Task); enums too (pb.EndReason), and
    enum values are attributes by their value name (pb.END_REASON_DONE), as in *_pb2 modules.
    """
    path = path or descriptor_set_path()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"protobuf descriptor set not found at {path}: build the proto module first "
            "(./farm builds it) or set ROLLOUTFARM_DESCRIPTOR_SET") from None
    fds = descriptor_pb2.FileDescriptorSet.FromString(data)
    pool = descriptor_pool.DescriptorPool()
    for file_proto in fds.file:
        pool.Add(file_proto)
    ns = types.SimpleNamespace()
    for file_proto in fds.file:
        if file_proto.package != PACKAGE:
            continue
        fd = pool.FindFileByName(file_proto.name)
        for name, desc in fd.message_types_by_name.items():
            setattr(ns, name, _message_class(desc))
        for name, desc in fd.enum_types_by_name.items():
            wrapper = enum_type_wrapper.EnumTypeWrapper(desc)
            setattr(ns, name, wrapper)
            for value in desc.values:
                setattr(ns, value.name, value.number)
        for name, desc in fd.services_by_name.items():
            setattr(ns, name, desc)
    ns.pool = pool
    return ns


def method_paths(service):
    """(rpc name, full method path, input class, output class, client streaming, server streaming)."""
    out = []
    for m in service.methods:
        out.append((m.name, f"/{service.full_name}/{m.name}", _message_class(m.input_type),
                    _message_class(m.output_type),
                    getattr(m, "client_streaming", False), getattr(m, "server_streaming", False)))
    return out


def service_handler(service, implementation):
    """A grpc GenericRpcHandler serving `implementation`, whose methods are named like the RPCs
    (unary-unary only) and take (request, context)."""
    import grpc

    handlers = {}
    for name, _path, req_cls, resp_cls, cstream, sstream in method_paths(service):
        if cstream or sstream:
            raise NotImplementedError(f"{service.full_name}/{name}: only unary RPCs are supported")
        fn = getattr(implementation, name, None)
        if fn is None:
            continue
        handlers[name] = grpc.unary_unary_rpc_method_handler(
            fn, request_deserializer=req_cls.FromString,
            response_serializer=resp_cls.SerializeToString)
    return grpc.method_handlers_generic_handler(service.full_name, handlers)


class Stub:
    """A client for a unary service: stub.Info(request, timeout=...) returns the response."""

    def __init__(self, channel, service):
        for name, path, req_cls, resp_cls, cstream, sstream in method_paths(service):
            if cstream or sstream:
                continue
            setattr(self, name, channel.unary_unary(
                path, request_serializer=req_cls.SerializeToString,
                response_deserializer=resp_cls.FromString))


_loaded = None


def __getattr__(name):
    # `from rolloutfarm_pb import pb` loads the descriptor set on first use, so that importing
    # this module never fails and a missing build is reported where it matters.
    global _loaded
    if name == "pb":
        if _loaded is None:
            _loaded = load()
        return _loaded
    raise AttributeError(f"module 'rolloutfarm_pb' has no attribute {name!r}")
