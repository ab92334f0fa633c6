"""The ticket list's first load, with nothing cached, stays under 300 KB on the wire: pages,
styles and scripts are compressed, fonts are the system's (no CJK web font)."""
from tests_e2e.seed import PASSWORD

LIMIT = 300 * 1024


def test_first_load_of_the_ticket_list_is_under_300_kb(open_session, mine, note, variant,
                                                       prepared):
    s = open_session("office")
    if prepared.demo_loaded:  # the province office: the demo world's whole list
        s.login("office", "demo-2026")
    else:
        s.login(mine.office, PASSWORD)
    s.check()
    state = s.context.storage_state()

    # A second browser context: the same login, an empty cache.
    cold = open_session("cold cache")
    cold.context.add_cookies(state["cookies"])
    finished = []
    cold.page.on("requestfinished", lambda request: finished.append(request))
    cold.goto("/tickets", check=False)
    cold.page.wait_for_load_state("networkidle")

    sizes = []
    for request in list(finished):
        response = request.response()
        size = request.sizes()
        sizes.append((size["responseBodySize"] + size["responseHeadersSize"], request.url,
                      response.headers.get("content-encoding", "")))
    total = sum(n for n, _url, _enc in sizes)
    listing = "\n".join(f"{n:>8} {enc or '-':5} {url}" for n, url, enc in sorted(sizes))
    note(f"first load of the ticket list ({variant.name}): {total / 1024:.0f} KB "
         f"in {len(sizes)} responses")
    assert total < LIMIT, f"{total} bytes on the first load of the ticket list:\n{listing}"
    for n, url, encoding in sizes:
        if url.endswith((".css", ".js")) or "/tickets" in url:
            assert encoding in ("gzip", "br", "zstd"), f"sent uncompressed: {url}\n{listing}"
    fonts = [url for _n, url, _e in sizes if url.endswith((".woff", ".woff2", ".ttf", ".otf"))]
    assert not fonts, fonts
    cold.check()  # after counting: the checks load axe-core, which no user downloads
