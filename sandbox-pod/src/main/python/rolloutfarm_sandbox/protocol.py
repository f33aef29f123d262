"""Frames between the server and a session: a JSON header, then the binary blobs it announces.

Every frame is a 4-byte big-endian length followed by that many bytes. A message is one header
frame (UTF-8 JSON object with a ``blobs`` count) followed by ``blobs`` raw frames.
"""

from __future__ import annotations

import io
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


def receive_header(rfile) -> dict:
    """Reads a message's header; its ``blobs`` frames follow and are the caller's to read."""
    header = json.loads(_read_frame(rfile).decode("utf-8"))
    if not isinstance(header, dict):
        raise ProtocolError("header is not a JSON object")
    return header


def receive(rfile) -> tuple[dict, list[bytes]]:
    header = receive_header(rfile)
    blobs = [_read_frame(rfile) for _ in range(int(header.get("blobs", 0)))]
    return header, blobs


class StreamedBlob(io.RawIOBase):
    """One incoming binary frame that decoders read like a file while it is still arriving.

    Bytes are pulled from the connection only as the reader asks for them, so decoding a large
    image overlaps its transfer instead of waiting for the last byte. Everything read is kept,
    so seeking back works as in a file. Call :meth:`skip_rest` before reading the next frame.
    """

    def __init__(self, rfile):
        super().__init__()
        (length,) = _LENGTH.unpack(_read_exact(rfile, 4))
        if length > MAX_FRAME:
            raise ProtocolError(f"frame of {length} bytes exceeds {MAX_FRAME}")
        self.length = length
        self._rfile = rfile
        self._view = memoryview(bytearray(length))
        self._filled = 0
        self._pos = 0

    def _fill(self, upto: int) -> None:
        while self._filled < upto:
            n = self._rfile.readinto1(self._view[self._filled : self.length])
            if not n:
                raise EOFError("server closed the connection")
            self._filled += n

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        end = self.length if n is None or n < 0 else min(self.length, self._pos + n)
        if end <= self._pos:
            return b""
        self._fill(end)
        data = bytes(self._view[self._pos : end])
        self._pos = end
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.length}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def skip_rest(self) -> None:
        """Reads what is left of the frame, so the connection is at the next one."""
        self._fill(self.length)
        self._pos = self.length
