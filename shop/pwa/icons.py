"""The app icons, drawn with Pillow from the shop's logo (shop/static/shop/img/favicon.svg:
a white map pin on a teal rounded square), committed under shop/static/shop/pwa/.

Regenerate with ``python -m shop.pwa.icons`` after changing the logo.
"""

from pathlib import Path

from PIL import Image, ImageDraw

TEAL = (0x0B, 0x6E, 0x69, 255)
WHITE = (255, 255, 255, 255)
DIRECTORY = Path(__file__).resolve().parent.parent / "static" / "shop" / "pwa"
# name: (size in pixels, maskable). Maskable icons keep the pin inside the central 80 %
# "safe zone" and fill the whole square (the launcher cuts its own shape).
ICONS = {
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "icon-maskable-512.png": (512, True),
    "apple-touch-icon-180.png": (180, True),
}
SUPERSAMPLE = 4


def _pin(draw: ImageDraw.ImageDraw, *, scale: float, offset: float) -> None:
    """The logo's pin, in the 32-unit box of favicon.svg, scaled and shifted."""

    def xy(x: float, y: float) -> tuple[float, float]:
        return offset + x * scale, offset + y * scale

    # Head: a circle of radius 7 centred at (16, 13.5); tail: down to the point (16, 25.5).
    cx, cy, r = 16, 13.5, 7
    draw.ellipse([xy(cx - r, cy - r), xy(cx + r, cy + r)], fill=WHITE)
    draw.polygon([xy(cx - 6.1, cy + 3.4), xy(cx + 6.1, cy + 3.4), xy(16, 25.5)], fill=WHITE)
    hole = 2.6
    draw.ellipse([xy(cx - hole, 16.1 - 2 * hole), xy(cx + hole, 16.1)], fill=TEAL)


def icon(size: int, *, maskable: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle([0, 0, big, big], fill=TEAL)
        # The 32-unit logo box drawn at 80 % of the square, centred.
        scale = big * 0.8 / 32
        _pin(draw, scale=scale, offset=big * 0.1)
    else:
        draw.rounded_rectangle([0, 0, big - 1, big - 1], radius=big * 8 / 32, fill=TEAL)
        _pin(draw, scale=big / 32, offset=0)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def write_icons(directory: Path = DIRECTORY) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (size, maskable) in ICONS.items():
        path = directory / name
        image = icon(size, maskable=maskable)
        # The apple-touch icon has no transparency (iOS would show black corners).
        if name.startswith("apple-touch"):
            image = image.convert("RGB")
        image.save(path, format="PNG", optimize=True)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_icons():
        print(path)
