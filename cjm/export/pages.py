"""The poster's sheets as pages for WeasyPrint's PDF writer (imported only when rendering:
WeasyPrint takes a second to import). See cjm.export.sheets for the geometry."""

from weasyprint.document import Page
from weasyprint.draw import draw_page


class Artwork:
    """The laid-out poster page, drawn into the PDF once as a form XObject that every sheet
    references (first use draws it; the XObject lives in the resources all pages share)."""

    def __init__(self, page: Page, height: float):
        self.page = page
        self.width = page.width
        self.height = height  # the content's height, not the tall page's
        self.name: str | None = None

    def draw(self, stream) -> None:
        """Invoke the poster's XObject on a sheet's stream (creating it the first time)."""
        if self.name is None:
            group = stream.add_group(0, 0, self.width, self.height)
            draw_page(self.page._page_box, group)
            self.name = group.id
        stream.draw_x_object(self.name)


class Sheet(Page):
    """A sheet of paper for WeasyPrint's PDF writer: the poster, scaled by `scale` with its
    origin at (x, y), clipped to `window`; then an optional overlay page (crop marks, label)."""

    def __init__(self, size, artwork, scale, x, y, window, overlay=None, bookmarks=()):
        # Page's own __init__ reads a laid-out page box; a sheet has none of its own.
        self.width, self.height = size
        self.bleed = dict.fromkeys(("top", "right", "bottom", "left"), 0)
        self.bookmarks = list(bookmarks)
        self.links, self.anchors, self.forms = [], {}, {None: []}
        self.artwork, self.scale, self.x, self.y = artwork, scale, x, y
        self.window, self.overlay = window, overlay

    def paint(self, stream, scale=1):
        """Draw the poster window, then the overlay."""
        with stream.stacked():
            stream.transform(a=scale, d=scale)
            stream.rectangle(*self.window)
            stream.clip()
            stream.end()
            stream.transform(a=self.scale, d=self.scale, e=self.x, f=self.y)
            self.artwork.draw(stream)
        if self.overlay is not None:
            self.overlay.paint(stream, scale)
