"""Update both catalogs from the sources and keep the English one complete.

Run as `make messages`: extracts every msgid, merges it into zh_CN and en, and fills each
English msgstr with its msgid (message ids are English). Chinese translations are edited
by hand in tracker/translations/zh/LC_MESSAGES/messages.po; the test suite fails while
any of them is empty.
"""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "tracker" / "translations"
POT = ROOT / "tracker" / "translations" / "messages.pot"


def run(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


def main() -> None:
    run("-q", "extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "--sort-output",
        "--ignore-dirs", ".*",  # the default would also skip _partials/ (names starting with _)
        "-o", str(POT), "tracker", "templates")
    for locale in ("zh", "en"):
        po = CATALOGS / locale / "LC_MESSAGES" / "messages.po"
        if po.exists():
            run("-q", "update", "--no-fuzzy-matching", "-i", str(POT), "-d", str(CATALOGS),
                "-l", locale)
        else:
            run("-q", "init", "-i", str(POT), "-d", str(CATALOGS), "-l", locale)
    english = CATALOGS / "en" / "LC_MESSAGES" / "messages.po"
    with english.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, str):
            message.string = message.string or message.id
        elif not all(message.string):
            message.string = tuple(message.id)
    with english.open("wb") as fh:
        write_po(fh, catalog, omit_header=False, width=0)


if __name__ == "__main__":
    main()
