"""A small decord-like video reader backed by OpenCV, used to check the expert's code locally.

Same surface the sandbox binds as ``video_clue_0``: ``len()``, indexing (negative indices too)
returning an H x W x 3 RGB uint8 array, ``get_batch(indices)`` returning N x H x W x 3, and
``get_avg_fps()``. Frames are decoded once, on open: the suite's clips are tiny.
"""

from __future__ import annotations

import cv2
import numpy as np


class VideoReader:
    def __init__(self, path: str):
        capture = cv2.VideoCapture(path)
        if not capture.isOpened():
            raise ValueError(f"cannot open video {path!r}")
        try:
            self._fps = float(capture.get(cv2.CAP_PROP_FPS))
            frames = []
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        finally:
            capture.release()
        if not frames:
            raise ValueError(f"video {path!r} has no decodable frames")
        self._frames = np.stack(frames)

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index: int) -> np.ndarray:
        if not -len(self) <= index < len(self):
            raise IndexError(f"frame {index} out of range for a video of {len(self)} frames")
        return self._frames[index].copy()

    def get_batch(self, indices) -> np.ndarray:
        return np.stack([self[int(i)] for i in indices])

    def get_avg_fps(self) -> float:
        return self._fps


def write_mp4(path: str, frames: np.ndarray, fps: float) -> None:
    """Writes RGB frames as an MPEG-4 (mp4v) file; raises when OpenCV cannot encode."""
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write MP4 (mp4v) to {path!r}")
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
