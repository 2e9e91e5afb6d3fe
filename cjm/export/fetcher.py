"""The only way the poster renderer may load anything: the app's own static files and the map's
stored images, both answered from this process (disk and database). Every other URL — http,
https, file, data, ftp, other hosts, other maps' images — is refused and logged, so hostile map
content can make WeasyPrint open no socket and read no file outside the static folder.

The poster's HTML uses ORIGIN as its base URL; `.invalid` is a reserved top-level domain that
never resolves, so even a bug that let a URL through to a real fetcher would go nowhere.
"""

import logging
import mimetypes
import re
from pathlib import Path

from weasyprint.urls import URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join

from ..extensions import db
from ..models import Image

ORIGIN = "https://poster.cjm.invalid/"
log = logging.getLogger(__name__)
IMAGE_PATH = re.compile(r"maps/(\d+)/images/(\d+)")


class RefusedURL(ValueError):
    """A URL the poster may not load (WeasyPrint logs it and leaves the resource out)."""


class PosterFetcher(URLFetcher):
    """A WeasyPrint URL fetcher for one map's poster: static files and that map's images only.

    `refused` lists what was turned away (tests and the job log read it)."""

    def __init__(self, map_id: int, static_folder: str, **kwargs):
        super().__init__(allowed_protocols=("https",), allow_redirects=False, **kwargs)
        self.map_id = map_id
        self.static_folder = static_folder
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        """Answer from disk or the database; refuse (and log) anything else. Never calls the
        network-capable parent."""
        if url.startswith(ORIGIN) and "?" not in url and "#" not in url:
            path = url[len(ORIGIN) :]
            if path.startswith("static/"):
                found = safe_join(self.static_folder, path[len("static/") :])
                if found and Path(found).is_file():
                    kind = mimetypes.guess_type(found)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, Path(found).read_bytes(), {"Content-Type": kind})
            elif (match := IMAGE_PATH.fullmatch(path)) and int(match[1]) == self.map_id:
                image = db.session.get(Image, int(match[2]))
                if image is not None and image.journey_id == self.map_id:
                    return URLFetcherResponse(url, image.data, {"Content-Type": image.content_type})
        self.refused.append(url)
        log.warning("poster of map %s: refused to fetch %.200s", self.map_id, url)
        raise RefusedURL(f"the poster may not load {url[:200]}")

    def open(self, url, data=None, timeout=None):
        """urllib-style entry point: the same rules (no handler of the parent ever runs)."""
        return self.fetch(getattr(url, "full_url", url))


def image_url(map_id: int, image_id: int) -> str:
    """The URL a poster uses for one of the map's stored images."""
    return f"{ORIGIN}maps/{map_id}/images/{image_id}"
