"""Avatar images: only real PNG / JPEG / WebP / GIF pass, re-encoded small and without metadata;
served only within their own map."""

import io
import struct
import zlib

import pytest
from bs4 import BeautifulSoup
from PIL import ExifTags, ImageDraw
from PIL import Image as PILImage
from sqlalchemy import func, select

from cjm.extensions import db
from cjm.images import ImageRejected, read_limited, reencode
from cjm.models import Image, Persona
from tests.conftest import sign_in
from tests.factories import add_member, make_map, make_user, sample_journey


def picture(fmt: str = "PNG", size=(40, 20), mode: str = "RGB", exif=None, **save) -> bytes:
    """A small real image made with Pillow (left half red, right half blue)."""
    image = PILImage.new(mode, size, "red")
    ImageDraw.Draw(image).rectangle((size[0] // 2, 0, size[0], size[1]), fill="blue")
    out = io.BytesIO()
    image.save(out, fmt, **({"exif": exif} if exif is not None else {}), **save)
    return out.getvalue()


def gps_exif(orientation: int = 1) -> PILImage.Exif:
    """EXIF with a camera model, an orientation and a GPS position (what must not leak)."""
    exif = PILImage.Exif()
    exif[ExifTags.Base.Model] = "Spy Camera 3000"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (55.0, 45.0, 21.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (37.0, 37.0, 4.0)
    return exif


def png_header(width: int, height: int) -> bytes:
    """A PNG that only claims a size (a decompression bomb needs no real pixels to be refused)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


def upload(client, journey_id: int, data: bytes, filename: str = "face.png", **fields):
    """POST a new persona with this avatar file."""
    form = {"name": "Boris", "avatar": (io.BytesIO(data), filename), **fields}
    return client.post(
        f"/maps/{journey_id}/personas/new", data=form, content_type="multipart/form-data"
    )


def boris(journey_id: int) -> Persona:
    db.session.expire_all()
    return db.session.scalar(select(Persona).filter_by(journey_id=journey_id, name="Boris"))


def avatar_error(response) -> str:
    page = BeautifulSoup(response.text, "html.parser")
    return page.select_one(".field.has-error:has(input[name=avatar]) .error").text


def images() -> int:
    return db.session.scalar(select(func.count()).select_from(Image))


# --- checking and re-encoding (no HTTP) -------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mode", "expected"),
    [
        ("PNG", "RGB", "image/jpeg"),
        ("PNG", "RGBA", "image/png"),
        ("JPEG", "RGB", "image/jpeg"),
        ("WEBP", "RGB", "image/jpeg"),
        ("GIF", "P", "image/jpeg"),
    ],
)
def test_allowed_formats_are_reencoded(fmt, mode, expected):
    data, content_type, width, height = reencode(picture(fmt, mode=mode), 4096)
    assert (content_type, width, height) == (expected, 40, 20)
    with PILImage.open(io.BytesIO(data)) as decoded:
        assert decoded.format == expected.split("/")[1].upper()


def test_animated_gif_keeps_the_first_frame():
    frames = [PILImage.new("RGB", (10, 10), colour) for colour in ("red", "green")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    data, _, _, _ = reencode(out.getvalue(), 4096)
    with PILImage.open(io.BytesIO(data)) as decoded:
        red, green, blue = decoded.convert("RGB").getpixel((5, 5))
        assert red > 200 and green < 60


def test_large_images_are_scaled_down_to_512():
    data, _, width, height = reencode(picture("PNG", size=(2000, 1000)), 4096)
    assert (width, height) == (512, 256)
    with PILImage.open(io.BytesIO(data)) as decoded:
        assert decoded.size == (512, 256)


def test_exif_orientation_is_applied_and_all_metadata_dropped():
    source = picture("JPEG", exif=gps_exif(orientation=6))
    with PILImage.open(io.BytesIO(source)) as original:  # the fixture really carries GPS
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    data, _, width, height = reencode(source, 4096)
    assert (width, height) == (20, 40)  # orientation 6: rotated a quarter turn
    with PILImage.open(io.BytesIO(data)) as decoded:
        assert dict(decoded.getexif()) == {}
        assert "exif" not in decoded.info and "icc_profile" not in decoded.info
    assert b"Spy Camera" not in data and b"Exif" not in data


@pytest.mark.parametrize(
    "data",
    [
        b"hello, I am a text file",
        b"",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        picture("BMP"),
        picture("TIFF"),
        picture("PNG")[:60],  # truncated
    ],
    ids=["text", "empty", "svg", "bmp", "tiff", "truncated"],
)
def test_other_files_are_refused(data):
    with pytest.raises(ImageRejected) as refused:
        reencode(data, 4096)
    assert refused.value.status == 422


def test_more_pixels_than_allowed_are_refused_before_decoding():
    with pytest.raises(ImageRejected, match="at most 4096 pixels"):
        reencode(png_header(5000, 100), 4096)


@pytest.mark.parametrize("side", [10_000, 20_000], ids=["bomb-warning", "bomb-error"])
def test_decompression_bombs_are_refused(side):
    # A side limit this high leaves the refusal to Pillow's own bomb check (warning or error).
    with pytest.raises(ImageRejected) as refused:
        reencode(png_header(side, side), 10**6)
    assert refused.value.status == 422


# --- upload through the persona form ---------------------------------------------------------


def test_upload_stores_a_clean_image_and_links_it(owner_client, journey):
    response = upload(owner_client, journey.id, picture("JPEG", exif=gps_exif()), "me.jpg")
    assert response.status_code == 303
    persona = boris(journey.id)
    image = db.session.get(Image, persona.avatar_id)
    assert (image.journey_id, image.content_type, image.width, image.height) == (
        journey.id,
        "image/jpeg",
        40,
        20,
    )
    with PILImage.open(io.BytesIO(image.data)) as stored:
        assert dict(stored.getexif()) == {}
        assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"Spy Camera" not in image.data


def test_text_renamed_png_is_refused_with_422(owner_client, journey):
    response = upload(owner_client, journey.id, b"not an image at all\n", "photo.png")
    assert response.status_code == 422
    assert avatar_error(response) == "This file is not a PNG, JPEG, WebP or GIF image."
    assert boris(journey.id) is None and images() == 0


def test_the_default_limit_is_2_mib(app):
    limit = app.config["AVATAR_MAX_BYTES"]
    assert limit == 2 * 1024 * 1024
    assert read_limited(io.BytesIO(b"\0" * limit), limit) == b"\0" * limit
    with app.test_request_context(), pytest.raises(ImageRejected) as refused:
        read_limited(io.BytesIO(b"\0" * (limit + 1)), limit)
    assert (refused.value.status, refused.value.message) == (
        413,
        "The image is larger than 2.0 MiB.",
    )


def test_oversize_upload_is_413(owner_client, journey, app, monkeypatch):
    # A smaller limit keeps the upload in memory (werkzeug spools big test bodies to temp files).
    monkeypatch.setitem(app.config, "AVATAR_MAX_BYTES", 300 * 1024)
    response = upload(owner_client, journey.id, picture("PNG") + b"\0" * 300 * 1024, "big.png")
    assert response.status_code == 413
    assert avatar_error(response) == "The image is larger than 0.3 MiB."
    assert boris(journey.id) is None and images() == 0


def test_too_many_pixels_is_422(owner_client, journey):
    response = upload(owner_client, journey.id, png_header(5000, 5000))
    assert response.status_code == 422
    assert "4096" in avatar_error(response)


def test_replace_and_remove_avatar(owner_client, journey):
    upload(owner_client, journey.id, picture("PNG"))
    persona = boris(journey.id)
    first = persona.avatar_id
    edit = f"/maps/{journey.id}/personas/{persona.id}/edit"
    owner_client.post(
        edit,
        data={
            "name": "Boris",
            "version": str(persona.version),
            "avatar": (io.BytesIO(picture("PNG", mode="RGBA")), "new.png"),
        },
        content_type="multipart/form-data",
    )
    persona = boris(journey.id)
    assert persona.avatar_id not in (None, first)
    assert db.session.get(Image, first) is None  # the replaced picture is gone
    assert db.session.get(Image, persona.avatar_id).content_type == "image/png"
    page = BeautifulSoup(owner_client.get(edit).text, "html.parser")
    assert page.select_one("input[name=remove_avatar]") is not None
    owner_client.post(
        edit, data={"name": "Boris", "version": str(persona.version), "remove_avatar": "y"}
    )
    assert boris(journey.id).avatar_id is None and images() == 0


def test_refused_replacement_keeps_the_old_avatar(owner_client, journey):
    upload(owner_client, journey.id, picture("PNG"))
    persona = boris(journey.id)
    first, version = persona.avatar_id, persona.version
    response = owner_client.post(
        f"/maps/{journey.id}/personas/{persona.id}/edit",
        data={
            "name": "Boris renamed",
            "version": str(version),
            "avatar": (io.BytesIO(b"GIF89a but not really"), "x.gif"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    persona = boris(journey.id)
    assert (persona.avatar_id, persona.version) == (first, version)


# --- serving ----------------------------------------------------------------------------------


@pytest.fixture
def avatar(owner_client, journey) -> Image:
    upload(owner_client, journey.id, picture("PNG"))
    return db.session.get(Image, boris(journey.id).avatar_id)


def test_card_shows_the_avatar_and_the_url_serves_it(owner_client, journey, avatar):
    page = BeautifulSoup(owner_client.get(f"/maps/{journey.id}/personas").text, "html.parser")
    src = page.select_one("article.persona-card img.avatar")["src"]
    assert src == f"/maps/{journey.id}/images/{avatar.id}"
    response = owner_client.get(src)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, max-age=86400"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    with PILImage.open(io.BytesIO(response.data)) as served:
        assert served.size == (40, 20)


def test_viewer_may_see_the_image(client, journey, avatar):
    viewer = make_user("viewer@example.com", "Vera")
    add_member(journey, viewer, "viewer")
    sign_in(client, viewer)
    assert client.get(f"/maps/{journey.id}/images/{avatar.id}").status_code == 200


def test_image_of_another_map_is_404(owner_client, owner, journey):
    other = make_map(owner, sample_journey("Other map"))
    upload(owner_client, other.id, picture("PNG"))
    theirs = boris(other.id).avatar_id
    assert owner_client.get(f"/maps/{other.id}/images/{theirs}").status_code == 200
    assert owner_client.get(f"/maps/{journey.id}/images/{theirs}").status_code == 404
    assert owner_client.get(f"/maps/{journey.id}/images/999999").status_code == 404


def test_non_member_gets_404_for_the_image(client, journey, avatar):
    sign_in(client, make_user("stranger@example.com", "Stranger"))
    assert client.get(f"/maps/{journey.id}/images/{avatar.id}").status_code == 404
