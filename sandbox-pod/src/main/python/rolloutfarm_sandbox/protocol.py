"""Frames between the server and a session: a JSON header, then the binary blobs it announces.

Every frame is a 4-byte big-endian length followed by that many bytes. A message is one header
frame (UTF-8 JSON object with a ``blobs`` count) followed by ``blobs`` raw frames.
"""

from __future__ import annotations

import json
import struct

_LENGTH = struct.Struct(">I")
MAX_FRAME = 256 * 1024 * 1024


class ProtocolError(Exception):
    pass


def send(sock, header: dict, blobs=()) -> None:
    header = dict(header)
    header["blobs"] = len(blobs)
    body = json.dumps(header, separators=(",", ":")).encode("utf-8")
    parts = [_LENGTH.pack(len(body)), body]
    for blob in blobs:
        parts.append(_LENGTH.pack(len(blob)))
        parts.append(blob)
    sock.sendall(b"".join(parts))


def _read_exact(rfile, n: int) -> bytes:
    data = rfile.read(n)
    if data is None or len(data) != n:
        raise EOFError("server closed the connection")
    return data


def _read_frame(rfile) -> bytes:
    (length,) = _LENGTH.unpack(_read_exact(rfile, 4))
    if length > MAX_FRAME:
        raise ProtocolError(f"frame of {length} bytes exceeds {MAX_FRAME}")
    return _read_exact(rfile, length)


def receive(rfile) -> tuple[dict, list[bytes]]:
    header = json.loads(_read_frame(rfile).decode("utf-8"))
    if not isinstance(header, dict):
        raise ProtocolError("header is not a JSON object")
    blobs = [_read_frame(rfile) for _ in range(int(header.get("blobs", 0)))]
    return header, blobs
