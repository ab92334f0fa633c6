"""Sending evidence files over HTTP, shared by the pages and the API.

Every file response carries nosniff and a sandboxing CSP, a server-chosen RFC 6266 name,
and is inline only for images and PDFs (previews)."""
from urllib.parse import quote

from flask import Response, current_app
from flask_babel import gettext as _

from tracker.models import Evidence
from tracker.services import evidence, storage
from tracker.services.errors import NotFound

#: RFC 5987 attr-char beyond what `quote` keeps anyway (letters, digits, "_.-~").
ATTR_CHARS = "!#$&+^`|"
#: Downloads: never rendered, never sniffed, never scripted.
SANDBOX = "default-src 'none'; sandbox"
#: Inline PDF: browsers refuse to run their PDF viewers in a sandboxed document (Chrome
#: shows "blocked"), so the preview keeps everything else and may be framed by our page.
PDF_PREVIEW = "default-src 'none'; frame-ancestors 'self'; form-action 'none'; base-uri 'none'"


def content_disposition(name: str, fallback: str, *, inline: bool = False) -> str:
    """RFC 6266: an ASCII `filename` for old clients and the exact name in `filename*`."""
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe=ATTR_CHARS)}"


def file_response(item: Evidence, *, inline: bool = False) -> Response:
    """The stored bytes, with headers that stop a browser from running or sniffing them."""
    inline = inline and item.is_previewable
    backend = storage.get_storage()
    try:
        chunks = backend.chunks(item.storage_key)
        first = next(chunks, b"")  # a missing file fails here, before any header is sent
    except storage.StorageError as error:
        current_app.logger.error("evidence %s: cannot read stored file: %s", item.id, error)
        raise NotFound(_("The file is missing from storage. Please tell the administrator "
                         "(run check-evidence).")) from error
    # Streamed in bounded chunks from either backend; the generator closes the file when
    # it is exhausted or when the server closes the response.
    response = Response(_prepend(first, chunks), mimetype=item.content_type,
                        direct_passthrough=True)
    response.content_length = item.size
    response.set_etag(item.sha256)
    fallback = evidence.ascii_fallback(item.original_name, item.id, item.extension)
    headers = response.headers
    headers["Content-Disposition"] = content_disposition(item.original_name, fallback,
                                                         inline=inline)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Cache-Control"] = "private, no-store"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if inline and item.extension == "pdf":
        headers["Content-Security-Policy"] = PDF_PREVIEW
        headers["X-Frame-Options"] = "SAMEORIGIN"
    else:
        headers["Content-Security-Policy"] = SANDBOX
    return response


def _prepend(first: bytes, rest):
    if first:
        yield first
    yield from rest
