"""``plt.show()`` (and ``PIL.Image.Image.show()``) capture figures as PNG images."""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402


class FigureSink:
    """Collects the images one execution shows, capped in count and in pixels per image."""

    def __init__(self, max_images: int, max_pixels: int):
        self.max_images = max_images
        self.max_pixels = max_pixels
        self.images: list[tuple[bytes, int, int]] = []
        self.dropped = 0

    def _room(self) -> bool:
        if len(self.images) >= self.max_images:
            self.dropped += 1
            return False
        return True

    def add_figure(self, figure) -> None:
        if not self._room():
            return
        width, height = figure.get_size_inches() * figure.dpi
        dpi = figure.dpi
        if width * height > self.max_pixels:
            dpi = dpi * math.sqrt(self.max_pixels / (width * height)) * 0.999
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
        png = buffer.getvalue()
        with Image.open(io.BytesIO(png)) as decoded:
            self.images.append((png, decoded.width, decoded.height))

    def add_pil(self, image: Image.Image) -> None:
        if not self._room():
            return
        if image.width * image.height > self.max_pixels:
            scale = math.sqrt(self.max_pixels / (image.width * image.height))
            image = image.resize(
                (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
            )
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P", "I", "1"):
            image = image.convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        self.images.append((buffer.getvalue(), image.width, image.height))


_sink: FigureSink | None = None


def begin(max_images: int, max_pixels: int) -> FigureSink:
    global _sink
    _sink = FigureSink(max_images, max_pixels)
    return _sink


def end() -> None:
    global _sink
    _sink = None


def _show(*args, **kwargs) -> None:
    """Captures every open figure as a PNG and closes them."""
    for number in plt.get_fignums():
        figure = plt.figure(number)
        if _sink is not None:
            _sink.add_figure(figure)
    plt.close("all")


def _pil_show(self, *args, **kwargs) -> None:
    if _sink is not None:
        _sink.add_pil(self)


def install() -> None:
    plt.show = _show
    Image.Image.show = _pil_show
