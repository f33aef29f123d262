"""Errors that carry the gRPC status code they map to at the RPC boundary."""


class EngineError(Exception):
    """A failure the caller can act on; `code` is a grpc.StatusCode name such as
    "INVALID_ARGUMENT" (kept as a string so that this module does not import grpc)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message):
    return EngineError("INVALID_ARGUMENT", message)


def out_of_range(message):
    return EngineError("OUT_OF_RANGE", message)
