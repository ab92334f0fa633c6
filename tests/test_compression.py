"""Text responses go out gzip-compressed (tracker/compression.py): the ticket list's first
load must stay under 300 KB on a county office's line."""
import gzip

import pytest

CSS = "/static/vendor/bootstrap/bootstrap.min.css"


@pytest.fixture
def get(client):
    def do(path, **headers):
        response = client.get(path, headers=headers)
        response.get_data()  # read the file before it is closed
        response.close()
        return response
    return do


def test_static_css_is_sent_gzipped_to_a_browser_that_accepts_it(get):
    response = get(CSS, **{"Accept-Encoding": "gzip, deflate, br"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    body = gzip.decompress(response.data)
    assert b"Bootstrap" in body[:200]
    assert len(response.data) < len(body) / 4


def test_response_is_plain_when_gzip_is_not_accepted(get):
    response = get(CSS, **{"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in response.headers
    assert b"Bootstrap" in response.data[:200]


def test_gzip_with_q_zero_counts_as_refused(get):
    response = get(CSS, **{"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in response.headers


def test_compressed_static_file_still_answers_not_modified(get):
    first = get(CSS, **{"Accept-Encoding": "gzip"})
    again = get(CSS, **{"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]})
    assert first.headers["ETag"].startswith('W/"')
    assert again.status_code == 304


def test_range_requests_are_answered_uncompressed(get):
    response = get(CSS, **{"Accept-Encoding": "gzip", "Range": "bytes=0-99"})
    assert response.status_code == 206
    assert "Content-Encoding" not in response.headers
    assert len(response.data) == 100


def test_pages_are_compressed(get):
    response = get("/login", **{"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"<form" in gzip.decompress(response.data)


def test_other_types_are_sent_as_they_are(get):
    response = get("/static/vendor/bootstrap/LICENSE", **{"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert not response.mimetype.startswith("text/")
    assert "Content-Encoding" not in response.headers
