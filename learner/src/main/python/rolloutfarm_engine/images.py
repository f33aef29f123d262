"""PNG bytes to the fixed-size tensors the vision encoder reads."""

import io

import numpy as np
import torch
from PIL import Image as PILImage

from .errors import invalid


def decode_png(data, size, where):
    """PNG (or any format PIL reads) -> float tensor [3, size, size] in [-1, 1].

    Every image is resized to size x size (bilinear): the built-in policy sees a coarse
    thumbnail, while exact measurements are the job of the code it writes."""
    if not data:
        raise invalid(f"{where}: image has no bytes (expected PNG data in Image.png)")
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            img = img.convert("RGB").resize((size, size), PILImage.BILINEAR)
            arr = np.asarray(img, dtype=np.float32)
    except Exception as e:  # PIL raises several unrelated types for bad data
        raise invalid(f"{where}: cannot decode image ({type(e).__name__}: {e}); send PNG bytes") from None
    t = torch.from_numpy(arr.copy()).permute(2, 0, 1)
    return t / 127.5 - 1.0
