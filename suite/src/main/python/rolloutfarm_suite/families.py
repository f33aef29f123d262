"""The task families. Each one draws a small scene with crisp colours, asks a short question,
and scripts the expert's code: one skeleton per family, in which only a word copied from the
question varies (a colour name), so that a tiny byte-level policy can clone it.

A family's guess is a noisy perceptual estimate of the answer: usually wrong where the answer
has to be measured from pixels, usually right where one look is enough (``compare``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# The colours questions name. The expert's code carries the same table as its first line.
PALETTE = {"red": (255, 0, 0), "green": (0, 160, 0), "blue": (0, 0, 255)}
PALETTE_LINE = "C={'red':(255,0,0),'green':(0,160,0),'blue':(0,0,255)}"
# Colours that appear only as distractors.
EXTRA_COLOURS = [(0, 0, 0), (255, 140, 0), (128, 0, 160)]
WHITE = (255, 255, 255)


@dataclass
class Picture:
    """One input image: RGB pixels and the file format it is stored in ("png" or "jpeg")."""

    pixels: np.ndarray
    fmt: str = "png"


@dataclass
class Clip:
    """One input video: RGB frames (N x H x W x 3, uint8) and its frame rate."""

    frames: np.ndarray
    fps: float


@dataclass
class Sample:
    """What a family makes for one record, before media are written to disk."""

    question: str
    answer: str
    verifier: dict
    reasoning: str
    code: str
    guess: str
    images: list[Picture] = field(default_factory=list)
    video: Clip | None = None

    def expert_turns(self) -> list[str]:
        """The scripted expert: reasoning + one code block, then the boxed answer."""
        first = f"{self.reasoning}\n<code>\n```python\n{self.code}\n```\n</code>"
        return [first, boxed(self.answer)]

    def guess_turns(self) -> list[str]:
        """A direct answer without code."""
        return [boxed(self.guess)]


def printed_boxed(expr: str) -> str:
    """The expert's last line: it prints its result as ``boxed{...}``, the form the answer turn
    takes, so that the answer repeats the characters right after the same ``boxed{`` in the
    interpreter output (a copy a small byte-level policy learns, unlike a bare number found
    by its distance from the answer)."""
    return f"print('boxed{{%s}}'%({expr}))"


def boxed(answer: str) -> str:
    return f"<answer>\\boxed{{{answer}}}</answer>"


def numeric(tolerance: float = 0.0) -> dict:
    return {"kind": "numeric", "tolerance": tolerance}


def choice() -> dict:
    return {"kind": "choice", "tolerance": 0.0}


def canvas(height: int, width: int, colour=WHITE) -> np.ndarray:
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:] = colour
    return img


def noisy_count(rng: np.random.Generator, value: int, sd: float, low: int, high: int) -> int:
    return int(np.clip(round(value + rng.normal(0.0, sd)), low, high))


class Family:
    """A task family: ``make(rng)`` returns one Sample drawn from ``rng``."""

    name = ""
    description = ""

    def make(self, rng: np.random.Generator) -> Sample:
        raise NotImplementedError


class CountFamily(Family):
    """Count the squares of one palette colour among squares of other colours."""

    name = "count"
    description = "count 6x6 squares of one colour among distractors (96x96 PNG)"
    SIDE, CELL, GRID = 6, 8, 12

    def make(self, rng):
        colour = str(rng.choice(list(PALETTE)))
        n = int(rng.integers(2, 10))
        distractors = int(rng.integers(3, 10))
        others = [c for k, c in PALETTE.items() if k != colour] + EXTRA_COLOURS
        img = canvas(self.GRID * self.CELL, self.GRID * self.CELL)
        cells = rng.choice(self.GRID * self.GRID, n + distractors, replace=False)
        for i, cell in enumerate(cells):
            row, col = divmod(int(cell), self.GRID)
            y = row * self.CELL + int(rng.integers(0, self.CELL - self.SIDE + 1))
            x = col * self.CELL + int(rng.integers(0, self.CELL - self.SIDE + 1))
            fill = PALETTE[colour] if i < n else others[int(rng.integers(len(others)))]
            img[y : y + self.SIDE, x : x + self.SIDE] = fill
        code = (
            f"import numpy as np\n{PALETTE_LINE}\na=np.array(image_clue_0)\n"
            + printed_boxed(f"(a==C['{colour}']).all(2).sum()//36")
        )
        return Sample(
            question=f"How many {colour} squares are in the image?",
            answer=str(n),
            verifier=numeric(),
            reasoning=f"I count {colour} pixels; a square has 36.",
            code=code,
            guess=str(noisy_count(rng, n, 1.8, 1, 12)),
            images=[Picture(img)],
        )


class MeasureFamily(Family):
    """Measure the area of a rectangle or the length of a 1-pixel line, both in pixels."""

    name = "measure"
    description = "area of a rectangle or length of a 1 px line, in pixels (96x96 PNG)"
    SIZE = 96

    def make(self, rng):
        colour = str(rng.choice(list(PALETTE)))
        others = [c for k, c in PALETTE.items() if k != colour] + EXTRA_COLOURS
        img = canvas(self.SIZE, self.SIZE)
        area = bool(rng.integers(2))
        for _ in range(int(rng.integers(2, 4))):
            fill = others[int(rng.integers(len(others)))]
            self._shape(rng, img, area, fill)
        value = self._shape(rng, img, area, PALETTE[colour])  # drawn last: never hidden
        if area:
            question = f"What is the area in pixels of the {colour} rectangle?"
            reasoning = f"The area is the number of {colour} pixels."
        else:
            question = f"How many pixels long is the {colour} line?"
            reasoning = f"The line is 1 px wide, so I count {colour} pixels."
        code = (
            f"import numpy as np\n{PALETTE_LINE}\na=np.array(image_clue_0)\n"
            + printed_boxed(f"(a==C['{colour}']).all(2).sum()")
        )
        guess = max(1, round(value * math.exp(rng.normal(0.0, 0.25))))
        return Sample(
            question=question,
            answer=str(value),
            verifier=numeric(0.05),
            reasoning=reasoning,
            code=code,
            guess=str(guess),
            images=[Picture(img)],
        )

    def _shape(self, rng, img, area, fill) -> int:
        if area:
            h, w = (int(v) for v in rng.integers(5, 41, size=2))
        elif rng.integers(2):
            h, w = 1, int(rng.integers(12, 91))
        else:
            h, w = int(rng.integers(12, 91)), 1
        y = int(rng.integers(0, self.SIZE - h + 1))
        x = int(rng.integers(0, self.SIZE - w + 1))
        img[y : y + h, x : x + w] = fill
        return h * w


class CompareFamily(Family):
    """Which of two dark shapes is larger; one look is usually enough."""

    name = "compare"
    description = "which of two dark shapes is larger, left or right (96x96 JPEG)"
    SIZE = 96

    def make(self, rng):
        while True:
            big = float(rng.uniform(16, 36))
            ratio = math.exp(rng.uniform(math.log(1.12), math.log(2.5)))
            sizes = [big, big / math.sqrt(ratio)]
            if rng.integers(2):
                sizes.reverse()
            masks = [self._mask(rng, centre_x, size) for centre_x, size in zip((24, 72), sizes)]
            areas = [int(m.sum()) for m in masks]
            if max(areas) >= 1.1 * min(areas):
                break
        img = canvas(self.SIZE, self.SIZE)
        for mask in masks:
            img[mask] = tuple(int(v) for v in rng.integers(0, 90, size=3))
        answer = "A" if areas[0] > areas[1] else "B"
        seen = [a * math.exp(rng.normal(0.0, 0.3)) for a in areas]
        code = (
            "import numpy as np\na=np.array(image_clue_0).sum(2)<300\n"
            + printed_boxed("'A' if a[:,:48].sum()>a[:,48:].sum() else 'B'")
        )
        return Sample(
            question="Which shape is larger? A) left B) right",
            answer=answer,
            verifier=choice(),
            reasoning="I compare dark pixels in the two halves.",
            code=code,
            guess="A" if seen[0] > seen[1] else "B",
            images=[Picture(img, "jpeg")],
        )

    def _mask(self, rng, centre_x: int, size: float) -> np.ndarray:
        centre_y = float(rng.uniform(30, 66))
        box = [centre_x - size / 2, centre_y - size / 2, centre_x + size / 2, centre_y + size / 2]
        layer = Image.new("L", (self.SIZE, self.SIZE), 0)
        draw = ImageDraw.Draw(layer)
        if rng.integers(2):
            draw.ellipse(box, fill=255)
        else:
            draw.rectangle(box, fill=255)
        return np.array(layer) > 0


class DiffFamily(Family):
    """Spot the difference: how many squares changed between two images."""

    name = "diff"
    description = "how many 8x8 squares differ between two images (2 x 96x96 PNG)"
    SIDE, CELL, GRID = 8, 12, 8

    def make(self, rng):
        colours = list(PALETTE.values()) + EXTRA_COLOURS
        cells = self.GRID * self.GRID
        scene: dict[int, int] = {}
        for cell in rng.choice(cells, int(rng.integers(10, 19)), replace=False):
            scene[int(cell)] = int(rng.integers(len(colours)))
        changed = dict(scene)
        k = int(rng.integers(1, 7))
        for cell in (int(c) for c in rng.choice(cells, k, replace=False)):
            if cell not in scene:
                changed[cell] = int(rng.integers(len(colours)))
            elif rng.integers(2):
                del changed[cell]
            else:
                changed[cell] = (scene[cell] + int(rng.integers(1, len(colours)))) % len(colours)
        code = (
            "import numpy as np\na=np.array(image_clue_0);b=np.array(image_clue_1)\n"
            + printed_boxed("(a!=b).any(2).sum()//64")
        )
        return Sample(
            question="How many squares differ between the two images?",
            answer=str(k),
            verifier=numeric(),
            reasoning="I count changed pixels; a square has 64.",
            code=code,
            guess=str(noisy_count(rng, k, 1.8, 1, 9)),
            images=[Picture(self._draw(scene, colours)), Picture(self._draw(changed, colours))],
        )

    def _draw(self, scene: dict[int, int], colours) -> np.ndarray:
        img = canvas(self.GRID * self.CELL, self.GRID * self.CELL)
        offset = (self.CELL - self.SIDE) // 2
        for cell, colour in scene.items():
            row, col = divmod(cell, self.GRID)
            y, x = row * self.CELL + offset, col * self.CELL + offset
            img[y : y + self.SIDE, x : x + self.SIDE] = colours[colour]
        return img


class ChartFamily(Family):
    """Read one bar's value off a bar chart with a labelled axis (4 px per unit)."""

    name = "chart"
    description = "value of one bar in a bar chart with a labelled axis, 4 px per unit (96x96 PNG)"
    SIZE, BASE, LEFT, UNIT, WIDTH = 96, 86, 16, 4, 16
    GRID_GREY, AXIS = (215, 215, 215), (0, 0, 0)

    def make(self, rng):
        names = list(PALETTE)
        order = [names[int(i)] for i in rng.permutation(len(names))]
        values = {name: int(rng.integers(1, 21)) for name in order}
        colour = str(rng.choice(names))
        img = Image.fromarray(canvas(self.SIZE, self.SIZE))
        draw = ImageDraw.Draw(img)
        font = ImageFont.load_default()
        for tick in (5, 10, 15, 20):
            y = self.BASE - tick * self.UNIT
            draw.line([(self.LEFT, y), (self.SIZE - 2, y)], fill=self.GRID_GREY)
            draw.text((1, y - 5), str(tick), fill=self.AXIS, font=font)
        pixels = np.array(img)
        for i, name in enumerate(order):
            x = self.LEFT + 6 + i * (self.WIDTH + 8)
            pixels[self.BASE - values[name] * self.UNIT : self.BASE, x : x + self.WIDTH] = PALETTE[name]
        pixels[self.BASE, self.LEFT - 1 :] = self.AXIS
        pixels[2 : self.BASE + 1, self.LEFT - 1] = self.AXIS
        value = values[colour]
        code = (
            f"import numpy as np\n{PALETTE_LINE}\na=np.array(image_clue_0)\n"
            + printed_boxed(f"(a==C['{colour}']).all(2).sum(0).max()//4")
        )
        return Sample(
            question=f"What value does the {colour} bar show?",
            answer=str(value),
            verifier=numeric(),
            reasoning=f"One unit is 4 px; I measure the {colour} bar.",
            code=code,
            guess=str(noisy_count(rng, value, 2.5, 1, 20)),
            images=[Picture(pixels)],
        )


class VideoFamily(Family):
    """Which frame a coloured light turns on in, with other lights and a moving dot around."""

    name = "video"
    description = "first frame in which a coloured light is on (64x64 MP4, 12-20 frames, 8 fps)"
    SIZE, LAMP, FPS = 64, 10, 8.0
    BACKGROUND, UNLIT, DOT = (128, 128, 128), (60, 60, 60), (255, 255, 255)
    CORNERS = [(4, 4), (4, 50), (50, 4), (50, 50)]

    def make(self, rng):
        frames = int(rng.integers(12, 21))
        names = list(PALETTE)
        colour = str(rng.choice(names))
        others = [n for n in names if n != colour]
        lamps = [colour] + others[: int(rng.integers(1, 3))]
        corners = rng.permutation(len(self.CORNERS))[: len(lamps)]
        on = rng.choice(np.arange(1, frames - 1), len(lamps), replace=False)
        start = [float(rng.uniform(12, 52)), float(rng.uniform(22, 42))]
        speed = [float(rng.uniform(-4, 4)), float(rng.uniform(-2, 2))]
        video = np.empty((frames, self.SIZE, self.SIZE, 3), dtype=np.uint8)
        for t in range(frames):
            video[t] = self.BACKGROUND
            for lamp, corner, switch in zip(lamps, corners, on):
                y, x = self.CORNERS[int(corner)]
                lit = PALETTE[lamp] if t >= switch else self.UNLIT
                video[t, y : y + self.LAMP, x : x + self.LAMP] = lit
            self._dot(video[t], start, speed, t)
        code = (
            f"{PALETTE_LINE}\nv=video_clue_0\n"
            + printed_boxed(f"[i for i in range(len(v)) if (abs(v[i].astype(int)-C['{colour}']).sum(2)<99).sum()>30][0]")
        )
        answer = int(on[0])
        return Sample(
            question=f"In which frame (from 0) does the {colour} light turn on?",
            answer=str(answer),
            verifier=numeric(),
            reasoning=f"I scan the frames for the {colour} light.",
            code=code,
            guess=str(noisy_count(rng, (frames - 1) / 2, frames / 4, 1, frames - 2)),
            video=Clip(video, self.FPS),
        )

    def _dot(self, frame, start, speed, t):
        # Bounces inside the middle band, away from the lamps in the corners.
        y = self._bounce(start[1] + speed[1] * t, 20, 44)
        x = self._bounce(start[0] + speed[0] * t, 10, 54)
        yy, xx = np.ogrid[: self.SIZE, : self.SIZE]
        frame[(yy - y) ** 2 + (xx - x) ** 2 <= 9] = self.DOT

    @staticmethod
    def _bounce(p: float, low: float, high: float) -> float:
        span = high - low
        p = (p - low) % (2 * span)
        return low + (p if p <= span else 2 * span - p)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (CountFamily(), MeasureFamily(), CompareFamily(), DiffFamily(), ChartFamily(), VideoFamily())
}
