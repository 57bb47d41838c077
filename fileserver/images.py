"""Images: decode to check (never trust a name or Content-Type), re-encode without metadata, and make
resized variants. Pillow only; the JPEG decoder's draft mode makes thumbnails of large photos cheap."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

from PIL import Image, ImageOps, JpegImagePlugin

from fileserver.http import FilesError

log = logging.getLogger("festivals.files.images")

MIMETYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
OUTPUTS = {"webp": ("WEBP", "image/webp"), "jpeg": ("JPEG", "image/jpeg"), "png": ("PNG", "image/png")}
FORMAT_NAMES = {"webp": "webp", "jpeg": "jpeg", "jpg": "jpeg", "png": "png"}
FITS = ("contain", "cover")
NUMBER = re.compile(r"^[0-9]{1,5}$")


@dataclass(frozen=True)
class StoredImage:
    data: bytes
    format: str
    width: int
    height: int
    alpha: bool

    @property
    def mimetype(self) -> str:
        return MIMETYPES[self.format]


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _encode_original(image: Image.Image, source: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    keep = {key: image.info[key] for key in ("icc_profile", "transparency") if key in image.info}
    image.info = {}  # EXIF, XMP, comments, GPS: none of it is written
    if fmt == "JPEG":
        try:  # the uploaded quality: the source's own quantization tables and chroma subsampling
            sampling = JpegImagePlugin.get_sampling(source)
            image.save(
                out,
                "JPEG",
                qtables=source.quantization,
                optimize=True,
                **({"subsampling": sampling} if sampling != -1 else {}),
                **keep,
            )
        except (ValueError, TypeError, AttributeError, OSError):
            out = io.BytesIO()
            image.save(out, "JPEG", quality=90, optimize=True, **keep)
    elif fmt == "PNG":
        image.save(out, "PNG", **keep)
    elif fmt == "WEBP":
        image.save(
            out, "WEBP", quality=90, method=4, **({"icc_profile": keep["icc_profile"]} if "icc_profile" in keep else {})
        )
    else:  # GIF: the first frame only
        image.save(out, "GIF", **({"transparency": keep["transparency"]} if "transparency" in keep else {}))
    return out.getvalue()


def normalize_upload(data: bytes, max_pixels: int) -> StoredImage:
    """The image as it will be stored: decoded completely (a truncated or forged file fails here), at most
    `max_pixels`, the EXIF orientation applied and every metadata block dropped. FilesError(400) if not."""
    try:
        with Image.open(io.BytesIO(data), formats=list(MIMETYPES)) as source:
            fmt = "JPEG" if source.format == "MPO" else source.format  # MPO: a camera's JPEG with extra frames
            width, height = source.size
            if width * height > max_pixels:
                raise FilesError(400, f"the image has {width}x{height} pixels; the limit is {max_pixels} pixels")
            source.load()  # decodes everything (first frame): truncated files raise here
            image = ImageOps.exif_transpose(source)
            encoded = _encode_original(image, source, fmt)
            return StoredImage(encoded, fmt, image.width, image.height, _has_alpha(image))
    except FilesError:
        raise
    except Image.DecompressionBombError:
        raise FilesError(400, "the image declares more pixels than allowed (decompression bomb)") from None
    except Image.UnidentifiedImageError:
        raise FilesError(400, "the file is not a JPEG, PNG, WebP or GIF image") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure means the file is damaged, not a server error
        log.info("image refused: %s: %s", type(exc).__name__, exc)
        raise FilesError(400, "the image could not be decoded (truncated or damaged)") from None


@dataclass(frozen=True)
class Variant:
    width: int | None
    height: int | None
    fit: str
    format: str  # a key of OUTPUTS

    @property
    def name(self) -> str:
        return f"w{self.width or 0}-h{self.height or 0}-{self.fit}.{self.format}"

    @property
    def mimetype(self) -> str:
        return OUTPUTS[self.format][1]


ASKABLE = (30, 3000)  # any w/h in this range is answered with the nearest allowed size (the old apps ask freely)


def _size(args, short: str, long: str, allowed: tuple[int, ...]) -> int | None:
    values = {value for value in (args.get(short), args.get(long)) if value is not None}
    if not values:
        return None
    refusal = (
        f"{short} must be between {ASKABLE[0]} and {ASKABLE[1]} (answered with the nearest of "
        f"{', '.join(map(str, allowed))})"
    )
    if len(values) > 1 or not NUMBER.match(next(iter(values))):
        raise FilesError(400, refusal)
    size = int(next(iter(values)))
    if size in allowed:
        return size
    if not ASKABLE[0] <= size <= ASKABLE[1]:
        raise FilesError(400, refusal)
    return min(allowed, key=lambda candidate: (abs(candidate - size), -candidate))  # a tie: the larger


def negotiate(accept, original_mimetype: str, alpha: bool) -> str:
    """webp when the client names it in Accept; else the original's family (png keeps transparency)."""
    named = {mimetype.lower() for mimetype, quality in accept if quality > 0}
    if "image/webp" in named:
        return "webp"
    family = "png" if original_mimetype in ("image/png", "image/gif") or alpha else "jpeg"
    if f"image/{family}" not in named and f"image/{'png' if family == 'jpeg' else 'jpeg'}" in named:
        return "png" if family == "jpeg" else "jpeg"
    return family


def parse_variant(args, accept, meta: dict, allowed: tuple[int, ...]) -> Variant | None:
    """The variant asked for by ?w= ?h= (or width/height) ?fit= ?format=, or None for the original."""
    width = _size(args, "w", "width", allowed)
    height = _size(args, "h", "height", allowed)
    fit = args.get("fit", "contain")
    if fit not in FITS:
        raise FilesError(400, "fit must be cover or contain")
    requested = args.get("format")
    if requested is not None and requested.lower() not in FORMAT_NAMES:
        raise FilesError(400, "format must be webp, jpeg or png")
    if width is None and height is None and requested is None:
        return None
    fmt = (
        FORMAT_NAMES[requested.lower()]
        if requested
        else negotiate(accept, meta.get("mimetype", ""), bool(meta.get("alpha")))
    )
    if width is None or height is None:
        fit = "contain"  # one side given: both fits are the same picture
    return Variant(width, height, fit, fmt)


def plan(size: tuple[int, int], variant: Variant) -> tuple[tuple[int, int], tuple[int, int]]:
    """(scaled size of the whole image, final size after a centred crop). Never enlarges."""
    width, height = size
    if variant.width and variant.height:
        scales = (variant.width / width, variant.height / height)
        scale = max(scales) if variant.fit == "cover" else min(scales)
    elif variant.width:
        scale = variant.width / width
    else:
        scale = variant.height / height
    scale = min(scale, 1.0)
    scaled = (max(1, round(width * scale)), max(1, round(height * scale)))
    if variant.fit == "cover" and variant.width and variant.height:
        return scaled, (min(variant.width, scaled[0]), min(variant.height, scaled[1]))
    return scaled, scaled


def _for_output(image: Image.Image, fmt: str) -> Image.Image:
    alpha = _has_alpha(image)
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if alpha else "RGB")
    if fmt == "jpeg" and image.mode == "RGBA":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    return image


def make_variant(original, variant: Variant) -> bytes:
    """The variant's bytes from the original (a path or a seekable file object)."""
    with Image.open(original) as source:
        scaled, final = plan(source.size, variant)
        if source.format == "JPEG":
            source.draft(None, scaled)  # let the decoder scale by 1/2, 1/4 or 1/8: far fewer pixels to decode
        image = _for_output(source, variant.format)
        if image.size != scaled:
            image = image.resize(scaled, Image.Resampling.LANCZOS, reducing_gap=3.0)
        if final != scaled:
            left, top = (scaled[0] - final[0]) // 2, (scaled[1] - final[1]) // 2
            image = image.crop((left, top, left + final[0], top + final[1]))
        out = io.BytesIO()
        fmt = OUTPUTS[variant.format][0]
        if fmt == "JPEG":
            image.save(out, fmt, quality=82, optimize=True, progressive=True)
        elif fmt == "WEBP":
            image.save(out, fmt, quality=80, method=4)
        else:
            image.save(out, fmt, optimize=False)
        return out.getvalue()
