"""Decoding of session inputs: images become PIL images, videos a decord-like frame reader."""

from __future__ import annotations

import io
import os
import shutil

import cv2
import numpy as np
from PIL import Image

from rolloutfarm_sandbox import protocol

IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG"}
VIDEO_TYPES = {"video/mp4"}


class MediaError(Exception):
    """A media item could not be decoded; the message names it."""


class VideoReader:
    """A decord-like reader: ``len()``, indexing, ``get_batch`` and ``get_avg_fps``.

    Frames are H x W x 3 RGB uint8 arrays. Short clips are decoded completely on open (so
    later calls cost nothing); longer ones are read on demand by seeking.
    """

    def __init__(self, path: str, eager_bytes: int = 256 * 1024 * 1024):
        capture = cv2.VideoCapture(path)
        if not capture.isOpened():
            raise ValueError("OpenCV cannot open the video")
        self._path = path
        self._fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        self._frames = None
        self._capture = None
        if count <= 0 or count * width * height * 3 <= eager_bytes:
            frames = []
            try:
                while True:
                    ok, frame = capture.read()
                    if not ok:
                        break
                    frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            finally:
                capture.release()
            if not frames:
                raise ValueError("the video has no decodable frames")
            self._frames = np.stack(frames)
            self._length = len(frames)
        else:
            self._capture = capture
            self._length = count

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.get_batch(range(*index.indices(self._length)))
        index = int(index)
        if not -self._length <= index < self._length:
            raise IndexError(f"frame {index} out of range for a video of {self._length} frames")
        if index < 0:
            index += self._length
        if self._frames is not None:
            return self._frames[index].copy()
        self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = self._capture.read()
        if not ok:
            raise IndexError(f"frame {index} could not be decoded")
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def get_batch(self, indices) -> np.ndarray:
        if hasattr(indices, "tolist"):
            indices = indices.tolist()
        return np.stack([self[int(i)] for i in indices])

    def get_avg_fps(self) -> float:
        return self._fps

    def __repr__(self) -> str:
        return f"<VideoReader {self._length} frames at {self._fps:.2f} fps>"


def decode_image(name: str, mime: str, source, max_pixels: int) -> Image.Image:
    """Decodes an image from a readable, seekable file object."""
    try:
        image = Image.open(source)
        if image.width * image.height > max_pixels:
            raise MediaError(
                f"media '{name}' ({mime}): {image.width}x{image.height} pixels exceed the cap "
                f"of {max_pixels}"
            )
        image.load()
    except MediaError:
        raise
    except Exception as e:  # PIL raises many types for corrupt data
        raise MediaError(f"media '{name}' ({mime}): cannot decode image: {e}") from None
    if image.format != IMAGE_TYPES[mime]:
        raise MediaError(
            f"media '{name}': declared {mime} but the data is {image.format or 'unknown'}"
        )
    return image


def decode_video(name: str, source, media_dir: str) -> VideoReader:
    os.makedirs(media_dir, exist_ok=True)
    path = os.path.join(media_dir, name + ".mp4")
    with open(path, "wb") as f:
        shutil.copyfileobj(source, f, 1 << 20)
    try:
        return VideoReader(path)
    except Exception as e:
        raise MediaError(f"media '{name}' (video/mp4): cannot decode video: {e}") from None


def receive_all(header: dict, rfile, max_pixels: int, media_dir: str) -> dict:
    """Decodes the open request's media as their bytes arrive on ``rfile``.

    Every announced frame is read to its end even when one fails to decode, so that the server,
    still writing, gets the error reply instead of a broken connection.
    """
    items = header.get("media", [])
    values = {}
    failure = None
    for i in range(int(header.get("blobs", 0))):
        blob = protocol.StreamedBlob(rfile)
        if failure is None and i < len(items):
            try:
                values[items[i]["name"]] = _decode(items[i], blob, max_pixels, media_dir)
            except MediaError as e:
                failure = e
        blob.skip_rest()
    if failure is not None:
        raise failure
    return values


def _decode(item: dict, source, max_pixels: int, media_dir: str):
    name, mime = item["name"], item["mime"]
    if mime in IMAGE_TYPES:
        return decode_image(name, mime, source, max_pixels)
    if mime in VIDEO_TYPES:
        return decode_video(name, source, media_dir)
    raise MediaError(
        f"media '{name}': unsupported mime type '{mime}' "
        "(use image/png, image/jpeg or video/mp4)"
    )
