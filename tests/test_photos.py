"""Photos from local actions: re-encoded with no metadata at all, scaled, held for a
producer, and refused when they are not photos or would decode into a bomb."""

from __future__ import annotations

import io

import aiohttp
from PIL import ExifTags, Image

from .conftest import TOKEN
from .test_checkins import PRODUCER, approved_action, call

SECRET_PLACE = b"Lat 33.9 Gadsden secret"


def phone_photo() -> bytes:
    """A 3000x2000 JPEG as a phone writes it: GPS in EXIF, an ICC profile, a comment."""
    image = Image.new("RGB", (3000, 2000), (200, 30, 90))
    exif = image.getexif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (33.0, 59.0, 42.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (86.0, 0.0, 36.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, icc_profile=b"icc " + SECRET_PLACE, comment=SECRET_PLACE)
    return out.getvalue()


async def post_photo(url: str, path: str, photo: bytes, headcount: str = "25") -> tuple[int, dict]:
    form = aiohttp.FormData()
    form.add_field("headcount", headcount)
    form.add_field("message", "Candles lit")
    form.add_field("photo", photo, filename="IMG_0001.jpg", content_type="image/jpeg")
    async with aiohttp.ClientSession() as session, session.post(url + path, data=form) as answer:
        return answer.status, await answer.json()


async def get_bytes(url: str, **headers: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as answer:
        return answer.status, await answer.read()


async def test_a_photo_is_served_with_no_metadata_only_once_approved(running):
    original = phone_photo()
    assert b"Exif" in original and SECRET_PLACE in original and b"PhoneMaker" in original
    _, link = await approved_action(running.url)
    status, checkin = await post_photo(running.url, link.removeprefix(running.url), original)
    assert status == 201 and checkin["status"] == "pending"  # every photo waits
    photo = f"{running.url}/api/photos/{checkin['id']}.jpg"
    assert (await get_bytes(photo))[0] == 404  # not public before a producer approves it
    status, held = await get_bytes(photo, **PRODUCER)
    assert status == 200  # the producer sees it to decide

    assert (await call(running.url, "POST", f"/api/checkins/{checkin['id']}/approve", **PRODUCER))[0] == 200
    status, served = await get_bytes(photo)
    assert status == 200 and served == held
    for leak in (b"Exif", b"GPS", b"PhoneMaker", SECRET_PLACE, b"ICC_PROFILE", b"http://ns.adobe.com/xap"):
        assert leak not in served, leak
    image = Image.open(io.BytesIO(served))
    assert image.format == "JPEG" and max(image.size) == 1600 and image.size == (1600, 1067)
    assert not image.getexif() and "icc_profile" not in image.info and "comment" not in image.info
    feed = (await call(running.url, "GET", "/api/checkins"))[1]["checkins"]
    assert feed[0]["photo"] == f"/api/photos/{checkin['id']}.jpg"
    # Hidden: gone for everyone, the producer included, and not kept.
    assert (await call(running.url, "POST", f"/api/checkins/{checkin['id']}/hide", **PRODUCER))[0] == 200
    assert (await get_bytes(photo))[0] == 404
    assert (await get_bytes(photo, **PRODUCER))[0] == 404
    assert await running.server.desk.collections.get_blob(f"photo:{checkin['id']}") is None


async def test_what_is_not_a_photo_is_refused(running):
    _, link = await approved_action(running.url)
    path = link.removeprefix(running.url)
    status, answer = await post_photo(running.url, path, b"<svg onload=alert(1)></svg>")
    assert status == 400 and "JPEG, PNG or WebP" in answer["error"]
    bomb = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(bomb, "PNG")  # a few kB that decode to 900 megapixels
    assert len(bomb.getvalue()) < 200_000
    status, answer = await post_photo(running.url, path, bomb.getvalue())
    assert status == 400
    status, answer = await post_photo(running.url, path, b"\xff\xd8" + b"0" * (10 * 1024 * 1024 + 1))
    assert status == 413
    status, answer = await post_photo(running.url, path, phone_photo(), headcount="many")
    assert status == 400 and answer["error"].startswith("headcount")
    pending = await call(
        running.url, "GET", "/api/actions?status=pending", **{"Authorization": f"Bearer {TOKEN}"}
    )
    assert pending[0] == 200
    assert running.server.desk.seen.pending_checkins == {}  # nothing refused was kept
