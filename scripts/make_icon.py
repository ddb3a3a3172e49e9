"""Draw Powershare's brand icon (256x256 PNG): a lightning bolt shared out to three sockets.

Run: .venv/bin/python scripts/make_icon.py  (writes custom_components/powershare/brand/icon.png)
"""

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
SCALE = 4  # draw large, then downsample for smooth edges
OUTPUT = Path(__file__).resolve().parent.parent / "custom_components/powershare/brand/icon.png"

BACKGROUND = (19, 111, 99, 255)  # deep teal
BOLT = (255, 200, 40, 255)  # amber
LINE = (255, 255, 255, 255)


def draw() -> Image.Image:
    """Return the icon drawn at SIZE x SIZE."""
    big = SIZE * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)

    def s(*points: float) -> list[tuple[float, float]]:
        return [(points[i] * SCALE, points[i + 1] * SCALE) for i in range(0, len(points), 2)]

    pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=48 * SCALE, fill=BACKGROUND)
    # The bolt: capacity coming in from the grid.
    pen.polygon(s(150, 24, 96, 124, 134, 124, 128, 190, 184, 92, 142, 92, 164, 24), fill=BOLT)
    # The feeder splitting into three chargers: the sharing.
    width = 10 * SCALE
    pen.line(s(128, 188, 128, 206), fill=LINE, width=width)
    pen.line(s(64, 206, 192, 206), fill=LINE, width=width)
    for x in (64, 128, 192):
        pen.line(s(x, 206, x, 222), fill=LINE, width=width)
        pen.ellipse(s(x - 14, 218, x + 14, 246), outline=LINE, width=6 * SCALE)
    return image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


if __name__ == "__main__":
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    draw().save(OUTPUT, optimize=True)
    print(f"wrote {OUTPUT}")
