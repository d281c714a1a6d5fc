"""Placeholder product photos drawn locally with Pillow (no network, no assets)."""

import io
import textwrap
import unicodedata

from PIL import Image, ImageChops, ImageDraw, ImageFont

SIZE = 600
JPEG_QUALITY = 80


def _ascii(text: str) -> str:
    # Pillow's built-in font only has ASCII glyphs: "Crémant" is drawn as "Cremant".
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def product_initials(title: str) -> str:
    """The first letters of the first two words of the title: "Munster AOP, 200 g" -> "MA"."""
    words = [word for word in title.split(",")[0].split() if word[0].isalpha()]
    return "".join(word[0] for word in words[:2]).upper()


def product_image_jpeg(*, title: str, colours: tuple[str, str]) -> bytes:
    """A 600x600 JPEG: a diagonal gradient, a soft disc, the initials and the short name."""
    start = Image.new("RGB", (SIZE, SIZE), colours[0])
    end = Image.new("RGB", (SIZE, SIZE), colours[1])
    vertical = Image.linear_gradient("L").resize((SIZE, SIZE))
    diagonal = ImageChops.add(vertical, vertical.transpose(Image.Transpose.ROTATE_90), scale=2.0)
    image = Image.composite(end, start, diagonal).convert("RGBA")

    overlay = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    centre_x, centre_y, radius = SIZE // 2, 250, 165
    draw.ellipse(
        (centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius),
        fill=(255, 255, 255, 46),
        outline=(255, 255, 255, 110),
        width=4,
    )
    initials = _ascii(product_initials(title))
    initials_font = ImageFont.load_default(size=150)
    draw.text(
        (centre_x + 3, centre_y + 4), initials, font=initials_font, fill=(0, 0, 0, 80), anchor="mm"
    )
    image = Image.alpha_composite(image, overlay).convert("RGB")

    draw = ImageDraw.Draw(image)
    draw.text((centre_x, centre_y), initials, font=initials_font, fill="white", anchor="mm")

    name_font = ImageFont.load_default(size=36)
    short_name = _ascii(title.split(",")[0])
    lines = textwrap.wrap(short_name, width=26)[:2]
    for index, line in enumerate(lines):
        draw.text((centre_x, 480 + index * 46), line, font=name_font, fill="white", anchor="mm")

    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return buffer.getvalue()
