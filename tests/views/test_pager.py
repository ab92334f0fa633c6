"""The numbered pager of the ticket list and the queue: which page numbers it shows."""
from tracker.views.ui import shown_pages


def rule(current: int, pages: int) -> list[int | None]:
    """The rule the pager follows, page by page: the first, the last and two either side
    of the current one shown; one "…" for each run of pages left out."""
    shown: list[int | None] = []
    for n in range(1, pages + 1):
        if n == 1 or n == pages or abs(n - current) <= 2:
            shown.append(n)
        elif shown[-1] is not None:
            shown.append(None)
    return shown


def test_the_pager_shows_the_ends_and_the_neighbours_of_the_current_page():
    for pages in range(1, 40):
        for current in range(1, pages + 1):
            assert shown_pages(current, pages) == rule(current, pages), (current, pages)


def test_a_deep_list_shows_a_handful_of_numbers():
    assert shown_pages(100, 200) == [1, None, 98, 99, 100, 101, 102, None, 200]
