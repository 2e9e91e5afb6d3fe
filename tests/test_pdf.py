"""The poster PDF, opened the way people and tools open it: page sizes in points for each paper
and orientation, fonts embedded (pdffonts), Russian text extractable (pdftotext) with the demo's
stage names, no raster images for charts (pdfimages), the tiled sheet count and labels, metadata
and bookmarks, fit never below the minimum text size, no network or file access from hostile
map content, and a look at the rendered demo (pdftoppm → PNG kept in test-artifacts/)."""

import io
import json
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image as PILImage

from cjm import documents
from cjm.export import FORMATS, load_formats
from cjm.export.pdf import PosterError, PosterOptions, min_scale, render_poster
from cjm.export.sheets import OVERLAP_MM, PX_PER_MM, TILE_MARGIN_MM, paper_px
from cjm.extensions import db
from cjm.journey import model as dm
from cjm.models import Image, Persona
from cjm.seed import DEMO_FILES
from tests.conftest import need
from tests.factories import make_map, make_user, sample_journey

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
MM_TO_PT = 72 / 25.4


def png_1px() -> bytes:
    """A one-pixel transparent PNG as Pillow writes it (uploads are re-encoded the same way)."""
    out = io.BytesIO()
    PILImage.new("RGBA", (1, 1), (0, 0, 0, 0)).save(out, "PNG")
    return out.getvalue()


def poppler(tool: str) -> str:
    """The path of a poppler-utils tool, or skip saying how to get it."""
    path = shutil.which(tool)
    need(path is not None, f"{tool} missing: install poppler-utils (make sysdeps)", "poppler")
    return path


def run(tool: str, *args) -> str:
    """A poppler tool's standard output."""
    return subprocess.run([poppler(tool), *args], check=True, capture_output=True, text=True).stdout


def pdf_file(tmp_path, data: bytes, name: str = "poster.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def demo(owner, language: str):
    """Import the English or Russian demo map; returns (row, document)."""
    doc = json.loads(DEMO_FILES[0 if language == "en" else 1].read_text("utf-8"))
    return documents.import_document(doc, owner.id), doc


def language_of(data: bytes) -> str:
    """The document language in the PDF catalogue (/Lang), read by PDFium."""
    import ctypes

    import pypdfium2.raw as raw

    pdf = pdfium.PdfDocument(data)
    size = raw.FPDFCatalog_GetLanguage(pdf.raw, None, 0)
    buffer = (ctypes.c_ushort * (size // 2))()
    raw.FPDFCatalog_GetLanguage(pdf.raw, buffer, size)
    return bytes(buffer).decode("utf-16-le").rstrip("\x00")


def poster(map_id: int, **options):
    return render_poster(map_id, PosterOptions.from_dict(options))


# --- Paper, fonts, text, images ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("paper", "orientation", "points"),
    [
        ("A4", "portrait", (210, 297)),
        ("A3", "landscape", (420, 297)),
        ("A1", "landscape", (841, 594)),
        ("A0", "portrait", (841, 1189)),
    ],
)
def test_page_size_in_points_matches_the_paper(journey, paper, orientation, points):
    result = poster(journey.id, paper=paper, orientation=orientation)
    pdf = pdfium.PdfDocument(result.pdf)
    width, height = pdf[0].get_size()
    assert width == pytest.approx(points[0] * MM_TO_PT, abs=0.5)
    assert height == pytest.approx(points[1] * MM_TO_PT, abs=0.5)


@pytest.mark.parametrize("tiled", [False, True], ids=["A3 fitted", "A1 tiled"])
def test_russian_demo_fonts_embedded_and_text_extractable(owner, tmp_path, tiled):
    row, doc = demo(owner, "ru")
    options = {"paper": "A1", "tiled": 1} if tiled else {"paper": "A3"}
    path = pdf_file(tmp_path, poster(row.id, orientation="landscape", **options).pdf)
    fonts = run("pdffonts", path).splitlines()[2:]
    assert fonts, "no fonts at all"
    assert all(line.split()[-5] == "yes" for line in fonts), fonts  # the "emb" column
    assert any("DejaVu" in line for line in fonts)
    text = " ".join(run("pdftotext", "-enc", "UTF-8", path, "-").split())  # lines joined
    for stage in doc["stages"]:
        assert stage["name"] in text
    assert doc["map"]["title"] in text
    assert "Кривая эмоций" in text or "Emotion curve" in text  # lane titles (until translated)


def test_charts_are_vector_and_only_photos_are_images(owner, tmp_path):
    row, _doc = demo(owner, "en")
    path = pdf_file(tmp_path, poster(row.id, paper="A3").pdf)
    images = run("pdfimages", "-list", path).splitlines()[2:]
    assert images == []  # emotion curve and funnel are SVG → PDF paths, no pixels
    # An uploaded avatar is the one raster image (served by the fetcher from the database).
    persona = db.session.scalars(db.select(Persona).filter_by(journey_id=row.id)).first()
    image = Image(journey_id=row.id, content_type="image/png", data=png_1px(), width=1, height=1)
    db.session.add(image)
    db.session.flush()
    db.session.execute(
        db.update(Persona).where(Persona.journey_id == row.id).values(is_primary=False)
    )
    persona.avatar_id, persona.is_primary = image.id, True
    db.session.commit()
    path = pdf_file(tmp_path, poster(row.id, paper="A3").pdf, "with-photo.pdf")
    images = [line.split()[2] for line in run("pdfimages", "-list", path).splitlines()[2:]]
    assert images.count("image") == 1  # (its transparency comes as an "smask" next to it)


def test_metadata_title_author_language_and_bookmarks(owner, tmp_path):
    row, doc = demo(owner, "ru")
    data = poster(row.id, paper="A3").pdf
    info = run("pdfinfo", pdf_file(tmp_path, data))
    assert f"Title:           {doc['map']['title']}" in info
    assert "Author:          Olga Owner" in info
    assert language_of(data) == "ru"
    titles = [item.get_title() for item in pdfium.PdfDocument(data).get_toc()]
    assert doc["map"]["title"] in titles
    assert len(titles) >= 8  # the map, the persona, a bookmark per lane


def test_language_option_and_lanes(owner, tmp_path):
    row, doc = demo(owner, "ru")
    data = poster(row.id, paper="A3", language="en", lanes="emotion,touchpoints").pdf
    assert language_of(data) == "en"
    titles = [item.get_title() for item in pdfium.PdfDocument(data).get_toc()]
    lanes = [t for t in titles if t in ("Emotion curve", "Touchpoints by channel", "Barriers")]
    assert lanes == ["Emotion curve", "Touchpoints by channel"]  # only those, in that order


def test_segment_option_shows_that_segment_only(owner, tmp_path):
    from cjm.models import Segment

    row, _doc = demo(owner, "ru")
    segment = db.session.scalars(db.select(Segment).filter_by(journey_id=row.id)).first()
    everyone = " ".join(run("pdftotext", pdf_file(tmp_path, poster(row.id).pdf), "-").split())
    only = poster(row.id, segment=segment.id).pdf
    text = " ".join(run("pdftotext", pdf_file(tmp_path, only, "segment.pdf"), "-").split())
    assert segment.name in text and segment.name not in everyone.split("Персона")[0]
    assert text != everyone


def test_bad_options_are_refused(journey):
    for options in ({"paper": "B5"}, {"orientation": "sideways"}, {"lanes": "weather"}):
        with pytest.raises(PosterError):
            PosterOptions.from_dict(options)
    with pytest.raises(PosterError):
        poster(journey.id, persona=999_999)


# --- Fit and tiles -----------------------------------------------------------------------------


def test_fit_scales_to_one_page_and_keeps_text_readable(owner):
    row, _doc = demo(owner, "en")
    result = poster(row.id, paper="A3", orientation="landscape")
    assert not result.tiled and result.sheets == 1
    assert result.scale >= min_scale()
    window = [side - 2 * 10 * PX_PER_MM for side in paper_px("A3", "landscape")]
    assert result.size[0] * result.scale <= window[0] + 0.01  # never clipped
    assert result.size[1] * result.scale <= window[1] + 0.01


def test_fit_that_would_shrink_text_too_far_is_tiled_and_says_so(owner, tmp_path):
    row, _doc = demo(owner, "en")
    result = poster(row.id, paper="A4", orientation="landscape")
    assert result.tiled and result.sheets > 1 and result.notes
    assert result.scale == pytest.approx(min_scale())
    first = run("pdftotext", "-f", "1", "-l", "1", pdf_file(tmp_path, result.pdf), "-")
    assert "tiled across several sheets instead" in " ".join(first.split())


def test_tiled_sheet_count_labels_and_size(owner, tmp_path):
    row, _doc = demo(owner, "en")
    result = poster(row.id, paper="A4", orientation="portrait", tiled=1)
    width, height = paper_px("A4", "portrait")
    margin, overlap = TILE_MARGIN_MM * PX_PER_MM, OVERLAP_MM * PX_PER_MM
    cols = int(-(-(result.size[0] - overlap) // (width - 2 * margin - overlap)))
    rows = int(-(-(result.size[1] - overlap) // (height - 2 * margin - overlap)))
    assert (result.rows, result.cols) == (rows, cols) and rows > 1 and cols > 1
    pdf = pdfium.PdfDocument(result.pdf)
    assert len(pdf) == rows * cols == result.sheets
    for page in pdf:
        assert page.get_size() == pytest.approx((210 * MM_TO_PT, 297 * MM_TO_PT), abs=0.5)
    second = run("pdftotext", "-f", "2", "-l", "2", pdf_file(tmp_path, result.pdf), "-")
    assert f"row 1, column 2 of {rows} × {cols}" in " ".join(second.split())
    # The poster's drawing is stored once and shown by every sheet (a shared form XObject):
    # as many forms as in the one-page poster, however many sheets.
    fitted = poster(row.id, paper="A0", orientation="portrait").pdf
    assert result.pdf.count(b"/Subtype /Form") == fitted.count(b"/Subtype /Form")


def test_cli_exports_a_tiled_a1_landscape_poster(app, journey, tmp_path):
    out = tmp_path / "poster.pdf"
    args = ["map", "export", str(journey.id), "--format", "pdf", "--paper", "A1"]
    args += ["--orientation", "landscape", "--tiled", "--out", str(out)]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "pdf" in load_formats() and FORMATS["pdf"].mimetype == "application/pdf"
    page = pdfium.PdfDocument(out.read_bytes())[0]
    assert page.get_size() == pytest.approx((841 * MM_TO_PT, 594 * MM_TO_PT), abs=0.5)
    bad = app.test_cli_runner().invoke(args=[*args[:5], "--lanes", "weather", "--out", str(out)])
    assert bad.exit_code == 1 and "Lanes are some of" in bad.output


# --- No network, no files ----------------------------------------------------------------------


class Listener:
    """A real listening socket on loopback that counts the connections it gets."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    found = Listener()
    yield found
    found.close()


def hostile_urls(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/image.png",
        f"https://127.0.0.1:{port}/style.css",
        f"ftp://127.0.0.1:{port}/file",
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "data:text/css,body{color:red}",
        "https://poster.cjm.invalid/static/../../../../etc/passwd",
        f"https://poster.cjm.invalid/static/css/app.css?http://127.0.0.1:{port}/",
    ]


def test_fetcher_serves_static_files_and_own_images_only(app, journey, listener):
    from cjm.export.fetcher import ORIGIN, PosterFetcher, RefusedURL

    other = make_map(make_user("other@example.com", "Other"), sample_journey("Theirs"))
    mine = Image(journey_id=journey.id, content_type="image/png", data=png_1px(), width=1, height=1)
    theirs = Image(journey_id=other.id, content_type="image/png", data=png_1px(), width=1, height=1)
    db.session.add_all([mine, theirs])
    db.session.commit()
    fetcher = PosterFetcher(journey.id, app.static_folder)
    assert fetcher.fetch(f"{ORIGIN}static/css/app.css").read().startswith(b"/*")
    assert fetcher.fetch(f"{ORIGIN}maps/{journey.id}/images/{mine.id}").read() == png_1px()
    refused = hostile_urls(listener.port) + [
        f"{ORIGIN}maps/{journey.id}/images/{theirs.id}",  # another map's picture
        f"{ORIGIN}maps/{other.id}/images/{theirs.id}",
        f"{ORIGIN}static/no-such-file.css",
    ]
    for url in refused:
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    assert fetcher.refused == refused
    assert listener.connections == 0


def test_weasyprint_asks_only_the_fetcher(app, ctx, listener):
    """Markup that does load things (not possible from map text, which is escaped): with the
    poster's fetcher nothing connects; WeasyPrint's own fetcher, the control, does connect."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    from cjm.export.fetcher import PosterFetcher

    port = listener.port
    html = (
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/a.css">'
        f'<style>@import url("http://127.0.0.1:{port}/b.css"); '
        f'body {{ background: url("file:///etc/passwd") }}</style>'
        f'<img src="http://127.0.0.1:{port}/c.png"><img src="http://169.254.169.254/x.png">'
    )
    fetcher = PosterFetcher(1, app.static_folder)
    HTML(string=html, url_fetcher=fetcher).write_pdf()
    assert listener.connections == 0
    assert len(fetcher.refused) == 5
    HTML(string=html, url_fetcher=URLFetcher(timeout=1)).write_pdf()
    assert listener.connections > 0  # the test can tell


def test_hostile_map_content_opens_no_connection(owner, listener, tmp_path):
    port = listener.port
    evil = (
        f'<img src="http://127.0.0.1:{port}/x.png"><link rel=stylesheet '
        f'href="http://127.0.0.1:{port}/s.css"><style>@import "http://127.0.0.1:{port}/i.css";'
        " p { background: url(file:///etc/passwd) }</style>"
        ' <img src="http://169.254.169.254/latest/meta-data/">'
    )
    short = f'<img src="http://127.0.0.1:{port}/x.png">'  # titles and names hold 200 characters
    journey = sample_journey("Map " + short)
    journey.description = evil
    journey.personas[0].quote = evil
    journey.stages[0].description = evil
    journey.touchpoints[0] = dm.Touchpoint(
        "ad", "aware", "web", "Sees " + short, kind="entry", action=evil, goal=evil, thought=evil
    )
    row = make_map(owner, journey)
    result = poster(row.id, paper="A3")
    assert listener.connections == 0
    text = run("pdftotext", pdf_file(tmp_path, result.pdf), "-")
    assert f'<img src="http://127.0.0.1:{port}/x.png">' in text  # shown as text, escaped


# --- Looking at it -----------------------------------------------------------------------------


def dark_runs(row, threshold: int = 110, least: int = 3) -> list[tuple[int, int]]:
    """(start, end) of the runs of dark pixels in one row of a greyscale image."""
    runs, start = [], None
    for x, value in enumerate([*row, 255]):
        if value < threshold and start is None:
            start = x
        elif value >= threshold and start is not None:
            if x - start >= least:
                runs.append((start, x))
            start = None
    return runs


@pytest.mark.parametrize("language", ["en", "ru"])
def test_demo_poster_looks_like_the_board(owner, tmp_path, language):
    """Render the demo poster to PNG and look: not blank; one funnel bar under each stage
    column, evenly spaced (the board's columns); the PNG stays in test-artifacts/."""
    row, doc = demo(owner, language)
    path = pdf_file(tmp_path, poster(row.id, paper="A3", orientation="landscape").pdf)
    ARTIFACTS.mkdir(exist_ok=True)
    stem = ARTIFACTS / f"poster-demo-{language}-a3"
    run("pdftoppm", "-png", "-r", "40", "-singlefile", path, str(stem))
    run("pdftoppm", "-png", "-r", "72", "-singlefile", path, str(tmp_path / "look"))
    picture = PILImage.open(tmp_path / "look.png").convert("L")
    width, height = picture.size
    pixels = picture.load()
    inked = sum(1 for x in range(0, width, 4) for y in range(0, height, 4) if pixels[x, y] < 200)
    assert inked > 0.05 * (width // 4) * (height // 4)  # not blank
    stages = len(doc["stages"])
    rows = [[pixels[x, y] for x in range(width)] for y in range(height)]
    # The stage header band: a dark row running across most of the poster.
    assert any(sum(e - s for s, e in dark_runs(r)) > 0.6 * width for r in rows)
    # The funnel: a row crossing exactly one bar per stage, bars evenly spaced.
    bar_rows = [runs for runs in map(dark_runs, rows) if len(runs) == stages]
    assert bar_rows, "no row with one funnel bar per stage"
    centres = [(s + e) / 2 for s, e in bar_rows[-1]]
    gaps = [b - a for a, b in zip(centres, centres[1:], strict=False)]
    assert max(gaps) - min(gaps) <= 0.05 * min(gaps)
    assert (stem.with_suffix(".png")).exists()
