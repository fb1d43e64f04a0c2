"""Buyer photos: images only (by their bytes, not their name), bounded, metadata stripped.

Every photo is decoded and encoded again with Pillow: what is stored holds pixels only — no EXIF
(GPS position, phone model, time), no XMP, no comments — turned upright by its EXIF orientation
first so it looks the same.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000
"""Larger images are refused (a decompression bomb is small on the wire)."""
MAX_SIDE = 4096
"""Larger images are scaled down to this on their longest side."""

_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "PNG"}
_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class PhotoRefused(ValueError):
    """The upload is not a photo we take; ``reason`` is a key for the page's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    data: bytes
    content_type: str
    filename: str


def sniff_image(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def clean(data: bytes, *, max_bytes: int, index: int = 1) -> CleanPhoto:
    """Check and re-encode one upload. Raises :class:`PhotoRefused` (``too_large``,
    ``not_image``) — a GIF keeps its first frame only, as a PNG."""
    if len(data) > max_bytes:
        raise PhotoRefused("too_large")
    sniffed = sniff_image(data[:16])
    if sniffed is None:
        raise PhotoRefused("not_image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise PhotoRefused("too_large")
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise PhotoRefused("not_image") from exc
    except Image.DecompressionBombWarning as exc:
        raise PhotoRefused("too_large") from exc
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    target = _FORMATS[sniffed]
    if target == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    if target == "PNG" and upright.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        upright = upright.convert("RGBA")
    out = io.BytesIO()
    options: dict[str, object] = {"quality": 88} if target in ("JPEG", "WEBP") else {}
    upright.save(out, format=target, **options)
    content_type = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[target]
    return CleanPhoto(out.getvalue(), content_type, f"photo-{index}.{_EXTENSIONS[target]}")
