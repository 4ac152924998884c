"""Upload validation: a campaign image must really be an image (its content, not its name), and not too big."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
ALLOWED_FORMATS = {"JPEG": {".jpg", ".jpeg"}, "PNG": {".png"}, "WEBP": {".webp"}}


def validate_campaign_image(file) -> None:
    """Accept JPEG, PNG or WebP up to 5 MB whose content decodes as that format and matches the file extension.

    Pillow reads the header and verifies the data; a renamed script, an HTML file or a decompression bomb is refused.
    """
    from PIL import Image, UnidentifiedImageError

    if file.size > MAX_IMAGE_BYTES:
        raise ValidationError(_("The image is larger than 5 MB."), code="image_too_large")
    name = (getattr(file, "name", "") or "").lower()
    extension = name[name.rfind(".") :] if "." in name else ""
    position = file.tell() if hasattr(file, "tell") else 0
    try:
        file.seek(0)
        with Image.open(file) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("The file is not a JPEG, PNG or WebP image."), code="image_invalid") from None
    finally:
        file.seek(position)
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError(_("The file is not a JPEG, PNG or WebP image."), code="image_invalid")
    if extension not in ALLOWED_FORMATS[image_format]:
        raise ValidationError(_("The file name does not match the image type."), code="image_extension_mismatch")
    if width * height > MAX_IMAGE_PIXELS:
        raise ValidationError(_("The image has too many pixels."), code="image_too_large")
