"""Bounded text capture for ``sys.stdout`` and ``sys.stderr`` during one execution."""

from __future__ import annotations

import io


class BoundedWriter(io.TextIOBase):
    """Keeps the first ``limit`` characters written and counts the rest."""

    def __init__(self, limit: int):
        super().__init__()
        self._limit = limit
        self._parts: list[str] = []
        self._kept = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    @property
    def encoding(self):
        return "utf-8"

    def isatty(self) -> bool:
        return False

    def write(self, text) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        room = self._limit - self._kept
        if room >= len(text):
            self._parts.append(text)
            self._kept += len(text)
        else:
            if room > 0:
                self._parts.append(text[:room])
                self._kept += room
            self.dropped += len(text) - max(room, 0)
        return len(text)

    def flush(self) -> None:
        pass

    def getvalue(self) -> str:
        text = "".join(self._parts)
        if self.dropped:
            text += f"\n...[output truncated: {self.dropped} more characters not shown]"
        return text
