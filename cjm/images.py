"""Avatar uploads: check what the bytes really are, then re-encode them into a small clean image.

Nothing of the upload is trusted: not the file name, not the browser's content type, not the
metadata. Pillow has to open the bytes as one of a few formats; the pixels are then copied into a
fresh image (so EXIF, GPS, XMP, ICC and comments stay behind) and saved as PNG (when there is
transparency) or JPEG, at most AVATAR_SIDE pixels on each side.
"""

import io
import warnings

from flask import current_app
from flask_babel import gettext as _
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from .extensions import db
from .models import Image

# "JPEG" also opens the MPO files many phone cameras write (a JPEG with a multi-picture index).
FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
AVATAR_SIDE = 512
JPEG_QUALITY = 85


class ImageRejected(Exception):
    """An upload that is not an acceptable image; status is 413 (too large) or 422."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


def read_limited(stream, max_bytes: int) -> bytes:
    """At most max_bytes from an upload stream; ImageRejected(413) if there is more."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageRejected(
            _("The image is larger than %(mib).1f MiB.", mib=max_bytes / 1024 / 1024), 413
        )
    return data


def reencode(data: bytes, max_side: int) -> tuple[bytes, str, int, int]:
    """Decode data as an allowed image and re-encode it: (bytes, content type, width, height)."""
    refused = _("This file is not a PNG, JPEG, WebP or GIF image.")
    try:
        # Pillow warns (and at twice the size raises) on decompression bombs; either way, refuse.
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data), formats=FORMATS) as picture:
                # The header gives the size before any pixel is decoded.
                if max(picture.size) > max_side:
                    raise ImageRejected(
                        _("The image is too large: at most %(n)s pixels on each side.", n=max_side)
                    )
                picture.seek(0)  # GIF / animated WebP: the first frame
                picture.load()
                upright = ImageOps.exif_transpose(picture)
    except ImageRejected:
        raise
    except (
        UnidentifiedImageError,
        PILImage.DecompressionBombError,
        PILImage.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
    ) as e:
        raise ImageRejected(refused) from e

    alpha = upright.has_transparency_data
    try:
        upright = upright.convert("RGBA" if alpha else "RGB")
    except ValueError as e:  # an exotic mode Pillow cannot convert
        raise ImageRejected(refused) from e
    upright.thumbnail((AVATAR_SIDE, AVATAR_SIDE), PILImage.Resampling.LANCZOS)
    # A fresh image from the raw pixels carries no metadata of the upload at all.
    clean = PILImage.frombytes(upright.mode, upright.size, upright.tobytes())
    out = io.BytesIO()
    if alpha:
        clean.save(out, "PNG", optimize=True)
        content_type = "image/png"
    else:
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        content_type = "image/jpeg"
    return out.getvalue(), content_type, clean.width, clean.height


def save_avatar(upload, journey_id: int) -> Image:
    """Check and re-encode an uploaded FileStorage into a new Image row (caller commits)."""
    config = current_app.config
    data = read_limited(upload.stream, config["AVATAR_MAX_BYTES"])
    if not data:
        raise ImageRejected(_("The uploaded file is empty."))
    # AVATAR_MAX_PIXELS is the longest side accepted (so at most its square in pixels).
    encoded, content_type, width, height = reencode(data, config["AVATAR_MAX_PIXELS"])
    image = Image(
        journey_id=journey_id, content_type=content_type, data=encoded, width=width, height=height
    )
    db.session.add(image)
    db.session.flush()
    return image
