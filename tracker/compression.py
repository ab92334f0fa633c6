"""Gzip for text responses (area: e2e): pages, CSS, JavaScript and JSON cross slow county
networks compressed, so the ticket list's first load stays well under 300 KB.

Only whole, successful (200) responses whose body is at hand or a static file are
compressed; streamed downloads, partial (Range) responses and anything already encoded
are left alone. A static file's compressed body is kept in memory per file version
(its ETag), so each one is compressed once per process.
"""
import gzip

from flask import Flask, Response, request

from tracker.lru import LruCache

#: Compressed when sent: the text types the app serves.
TEXT_TYPES = frozenset({
    "text/html", "text/css", "text/plain", "text/csv", "text/javascript",
    "application/javascript", "application/json", "image/svg+xml",
})
#: Smaller bodies are sent as they are: the gzip header would eat the gain.
MIN_SIZE = 500
LEVEL = 6
#: Compressed static files kept, by (path, ETag): a few dozen vendored files at most.
_CACHE_SIZE = 64


def _accepts_gzip() -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _sep, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            return not (params and q.replace(".", "", 1).isdigit() and float(q) == 0)
    return False


def init_app(app: Flask) -> None:
    cache: LruCache[bytes] = LruCache(_CACHE_SIZE)

    @app.after_request
    def gzip_text(response: Response) -> Response:
        if response.mimetype not in TEXT_TYPES:
            return response
        response.vary.add("Accept-Encoding")
        if (response.status_code != 200 or "Content-Encoding" in response.headers
                or "Range" in request.headers or request.method not in ("GET", "POST")
                or not _accepts_gzip()):
            return response
        is_file = response.direct_passthrough
        if response.is_streamed and not is_file:
            return response  # a generator: sent as it comes
        if response.content_length is not None and response.content_length < MIN_SIZE:
            return response
        etag, is_weak = response.get_etag()
        key = (request.path, etag) if is_file and etag else None
        body = cache.get(key) if key else None
        if body is None:
            response.direct_passthrough = False
            data = response.get_data()
            if len(data) < MIN_SIZE:
                return response
            body = gzip.compress(data, LEVEL, mtime=0)
            if key:
                cache.put(key, body)
        else:
            response.direct_passthrough = False
            close = getattr(response.response, "close", None)
            if close is not None:
                response.call_on_close(close)  # the unread file is closed with the response
        response.set_data(body)
        response.headers["Content-Encoding"] = "gzip"
        if etag and not is_weak:
            # The same file, another encoding: a weak validator still answers 304.
            response.set_etag(etag, weak=True)
        return response
