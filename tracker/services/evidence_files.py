"""What an uploaded file really is: its name, its size, its content.

The extension a user gives is a claim; the content must prove it (magic bytes via the
`filetype` package, plus our own checks where magic bytes say too little): a PDF starts
with %PDF- and ends with %%EOF; DOCX/XLSX/PPTX/OFD are ZIP archives holding the part that
makes them what they claim (word/document.xml, xl/workbook.xml, ppt/presentation.xml,
OFD.xml); DOC/XLS/PPT are OLE compound files holding their main stream; a text file
decodes as UTF-8 or GB18030 and holds no NUL byte. Every ZIP-based file is held to
limits against decompression bombs before anything trusts it.
"""
import hashlib
import re
import struct
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

import filetype
from flask_babel import gettext as _

from tracker.services.errors import DomainError, ValidationFailed

CHUNK = 256 * 1024
MAX_NAME = 255
MB = 1024 * 1024

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "ofd": "application/ofd",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "txt": "text/plain",
    "zip": "application/zip",
}
#: Every extension this module knows how to verify; configuration may narrow it, not widen it.
KNOWN_EXTENSIONS = frozenset(CONTENT_TYPES)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: Bidirectional and invisible formatting characters: they make "exe.pdf" look like
#: "fdp.exe" and have no place in a file name.
DECEPTIVE = frozenset("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                      "\u2066\u2067\u2068\u2069\ufeff")
#: Never accepted inside a ZIP upload: programs and scripts.
EXECUTABLE_MEMBERS = frozenset({
    "exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "dll", "cpl", "vbs", "vbe", "js",
    "jse", "wsf", "wsh", "ps1", "psm1", "hta", "lnk", "jar", "sh", "apk", "reg", "sys",
})
#: Office "main stream" names inside an OLE compound file, as stored (UTF-16LE).
OLE_STREAMS = {
    "doc": ("WordDocument",),
    "xls": ("Workbook", "Book"),
    "ppt": ("PowerPoint Document",),
}
OOXML_MAIN = {
    "docx": ("word/", "word/document.xml"),
    "xlsx": ("xl/", "xl/workbook.xml"),
    "pptx": ("ppt/", "ppt/presentation.xml"),
}


class TooLarge(DomainError):
    status_code = 413
    code = "too_large"


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    zip_max_members: int
    zip_max_uncompressed: int
    zip_max_ratio: int

    @classmethod
    def from_config(cls, config) -> "Limits":
        return cls(
            max_file_bytes=int(float(config["EVIDENCE_MAX_FILE_MB"]) * MB),
            zip_max_members=int(config["EVIDENCE_ZIP_MAX_MEMBERS"]),
            zip_max_uncompressed=int(float(config["EVIDENCE_ZIP_MAX_UNCOMPRESSED_MB"]) * MB),
            zip_max_ratio=int(config["EVIDENCE_ZIP_MAX_RATIO"]),
        )


@dataclass(frozen=True)
class Received:
    """A file copied off the request into a private temporary file."""

    path: Path
    size: int
    sha256: str


def refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, {"file": [message]})


# --- names ------------------------------------------------------------------------------

def clean_name(raw: str | None, allowed: frozenset[str]) -> tuple[str, str]:
    """The display name and its lower-case extension, or a refusal.

    Only the last path component is kept (some clients send C:\\…\\a.pdf or ../a.pdf);
    otherwise the name is kept exactly as given, and it never reaches the disk."""
    name = raw or ""
    if any(unicodedata.category(c) == "Cc" or c in DECEPTIVE for c in name):
        raise refuse(_("The file name contains control or invisible characters. "
                       "Rename the file and upload it again."))
    name = re.split(r"[/\\]", name)[-1]
    if not name.strip(" ."):
        raise refuse(_("The file has no usable name. Rename the file and upload it again."))
    if len(name) > MAX_NAME:
        raise refuse(_("The file name is too long (%(n)s characters, at most %(max)s). "
                       "Shorten it and upload again.", n=len(name), max=MAX_NAME))
    stem, dot, extension = name.rpartition(".")
    extension = extension.lower() if dot else ""
    if extension not in allowed:
        raise refuse(_("Files of this type are not accepted. Accepted types: %(types)s.",
                       types=", ".join(sorted(e.upper() for e in allowed))))
    return name, extension


# --- receiving --------------------------------------------------------------------------

def receive(stream: BinaryIO, temp_dir: Path, max_bytes: int) -> Received:
    """Copy the upload into a temporary file, hashing as it goes; refuse past the limit."""
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(dir=temp_dir, prefix="up-", delete=False)
    path = Path(handle.name)
    try:
        with handle:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(
                        _("The file is larger than %(max)s MB and was not stored.",
                          max=_mb(max_bytes)), {"file": [_("At most %(max)s MB.",
                                                           max=_mb(max_bytes))]})
                digest.update(chunk)
                handle.write(chunk)
        if size == 0:
            raise refuse(_("The file is empty."))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Received(path=path, size=size, sha256=digest.hexdigest())


def _mb(size: int) -> str:
    value = size / MB
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


# --- content ----------------------------------------------------------------------------

def kind_label(extension: str) -> str:
    return {
        "pdf": _("a PDF document"),
        "ofd": _("an OFD document"),
        "doc": _("a Word document"),
        "docx": _("a Word document"),
        "xls": _("an Excel workbook"),
        "xlsx": _("an Excel workbook"),
        "ppt": _("a PowerPoint presentation"),
        "pptx": _("a PowerPoint presentation"),
        "jpg": _("a JPEG image"),
        "jpeg": _("a JPEG image"),
        "png": _("a PNG image"),
        "txt": _("a text file"),
        "zip": _("a ZIP archive"),
        "gif": _("a GIF image"),
        "exe": _("a Windows program"),
        "elf": _("a Linux program"),
        "markup": _("a web page or SVG drawing"),
        "rar": _("a RAR archive"),
        "7z": _("a 7z archive"),
    }.get(extension, _("a %(kind)s file", kind=extension.upper()))


def _mismatch(extension: str, actual: str | None) -> ValidationFailed:
    if actual:
        return refuse(_("The file is named .%(ext)s but its content is %(actual)s. "
                        "Upload the genuine file.", ext=extension, actual=kind_label(actual)))
    return refuse(_("The file is named .%(ext)s but its content is not %(kind)s. "
                    "Upload the genuine file.", ext=extension, kind=kind_label(extension)))


def sniff(head: bytes) -> str | None:
    """What the first bytes say the file is, as an extension (None: unknown)."""
    if head.startswith(OLE_MAGIC):
        return "ole"
    guess = filetype.guess(head)
    if guess is not None:
        return {"jpx": "jpg", "apng": "png"}.get(guess.extension, guess.extension)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script", b"<head",
                        b"<body", b"<!--")):
        return "markup"
    return None


def check_content(path: Path, extension: str, size: int, limits: Limits) -> str:
    """Check that the content is what the extension claims; return the media type."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
    checker = CHECKS[extension]
    return checker(path, extension, head, size, limits)


def _check_pdf(path: Path, extension: str, head: bytes, size: int, limits: Limits) -> str:
    if not head.startswith(b"%PDF-"):
        raise _mismatch(extension, _actual(head))
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 2048))
        tail = handle.read()
    if b"%%EOF" not in tail:
        raise refuse(_("The PDF file is incomplete (probably cut off while copying or "
                       "downloading). Upload the complete file."))
    return CONTENT_TYPES["pdf"]


def _check_jpeg(path, extension, head, size, limits) -> str:
    if not head.startswith(b"\xff\xd8\xff"):
        raise _mismatch(extension, _actual(head))
    return CONTENT_TYPES["jpg"]


def _check_png(path, extension, head, size, limits) -> str:
    if not head.startswith(PNG_MAGIC):
        raise _mismatch(extension, _actual(head))
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 64))
        tail = handle.read()
    if b"IEND" not in tail:
        raise refuse(_("The image is incomplete. Upload the complete file."))
    return CONTENT_TYPES["png"]


def _actual(head: bytes) -> str | None:
    """The sniffed kind for messages ("its content is a Windows program")."""
    kind = sniff(head)
    return None if kind == "ole" else kind


def _check_text(path, extension, head, size, limits) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise refuse(_("The text file is saved as UTF-16. Save it as UTF-8 and upload "
                       "it again."))
    kind = sniff(head)
    if kind not in (None, "markup"):
        raise _mismatch(extension, kind)
    for encoding in ("utf-8-sig", "gb18030"):
        if _decodes(path, encoding):
            charset = "utf-8" if encoding == "utf-8-sig" else encoding
            return f"text/plain; charset={charset}"
    raise refuse(_("The text file is neither UTF-8 nor GB18030 (GBK) text, or it contains "
                   "binary data. Save it as UTF-8 text and upload it again."))


def _decodes(path: Path, encoding: str) -> bool:
    import codecs

    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                if b"\x00" in chunk:
                    return False
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _check_ole(path, extension, head, size, limits) -> str:
    if not head.startswith(OLE_MAGIC):
        raise _mismatch(extension, _actual(head))
    found = _ole_streams(path)
    if extension not in found:
        if "encrypted" in found:
            raise refuse(_("The Office file is password-protected. Remove the password "
                           "and upload it again."))
        other = next((k for k in ("doc", "xls", "ppt") if k in found), None)
        raise _mismatch(extension, other)
    return CONTENT_TYPES[extension]


def _ole_streams(path: Path) -> set[str]:
    """Which Office main streams an OLE file holds, by their UTF-16 directory names."""
    needles = {kind: [name.encode("utf-16-le") for name in names]
               for kind, names in OLE_STREAMS.items()}
    needles["encrypted"] = ["EncryptedPackage".encode("utf-16-le")]
    overlap = max(len(n) for ns in needles.values() for n in ns)
    found: set[str] = set()
    previous = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            window = previous + chunk
            for kind, names in needles.items():
                if kind not in found and any(n in window for n in names):
                    found.add(kind)
            previous = window[-overlap:]
    return found


# --- ZIP-based files --------------------------------------------------------------------

def _zip_entry_count(path: Path, size: int) -> int | None:
    """The entry count from the end-of-central-directory record, read before zipfile
    builds a list of every entry (a crafted archive could name millions)."""
    with open(path, "rb") as handle:
        start = max(0, size - (65535 + 22 + 20))
        handle.seek(start)
        tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    total = struct.unpack("<H", tail[at + 10:at + 12])[0]
    if total != 0xFFFF:
        return total
    locator = tail.rfind(b"PK\x06\x07", 0, at)
    if locator < 0:
        return None
    offset = struct.unpack("<Q", tail[locator + 8:locator + 16])[0]
    with open(path, "rb") as handle:
        handle.seek(offset)
        record = handle.read(56)
    if not record.startswith(b"PK\x06\x06") or len(record) < 56:
        return None
    return struct.unpack("<Q", record[32:40])[0]


def _open_zip(path: Path, extension: str, head: bytes, size: int,
              limits: Limits) -> zipfile.ZipFile:
    if not head.startswith(b"PK\x03\x04"):
        if head.startswith(OLE_MAGIC) and extension in OOXML_MAIN:
            streams = _ole_streams(path)
            if "encrypted" in streams:
                raise refuse(_("The Office file is password-protected. Remove the password "
                               "and upload it again."))
            raise refuse(_("The file is an older Office format (.doc, .xls or .ppt) named "
                           ".%(ext)s. Rename it or save it in the new format.", ext=extension))
        if head.startswith(b"PK\x05\x06"):
            raise refuse(_("The archive is empty."))
        raise _mismatch(extension, _actual(head))
    count = _zip_entry_count(path, size)
    if count is None:
        raise refuse(_("The file is damaged (its archive directory cannot be read). "
                       "Upload the complete file."))
    if count > limits.zip_max_members:
        raise refuse(_("The archive holds too many files (%(n)s, at most %(max)s).",
                       n=count, max=limits.zip_max_members))
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise refuse(_("The file is damaged (its archive directory cannot be read). "
                       "Upload the complete file.")) from None


def _check_bomb(archive: zipfile.ZipFile, size: int, limits: Limits) -> None:
    infos = archive.infolist()
    if len(infos) > limits.zip_max_members:
        raise refuse(_("The archive holds too many files (%(n)s, at most %(max)s).",
                       n=len(infos), max=limits.zip_max_members))
    declared = sum(i.file_size for i in infos)
    too_big = _("The archive would expand to more than %(max)s MB; it looks like a "
                "decompression bomb and was refused.", max=_mb(limits.zip_max_uncompressed))
    if declared > limits.zip_max_uncompressed:
        raise refuse(too_big)
    if declared > MB and declared > size * limits.zip_max_ratio:
        raise refuse(_("The archive expands %(ratio)s times its size; it looks like a "
                       "decompression bomb and was refused.", ratio=declared // max(size, 1)))
    for info in infos:
        if info.file_size > MB and info.file_size > max(info.compress_size, 1) * limits.zip_max_ratio:
            raise refuse(_("The archive expands %(ratio)s times its size; it looks like a "
                           "decompression bomb and was refused.",
                           ratio=info.file_size // max(info.compress_size, 1)))
        if info.flag_bits & 0x1:
            raise refuse(_("Password-protected archives cannot be checked. Upload the "
                           "files without a password."))
    # Read every member through: zipfile stops at each declared size and verifies each
    # CRC, so this proves the archive is whole and expands to no more than declared.
    expanded = 0
    try:
        for info in infos:
            if info.is_dir():
                continue
            with archive.open(info) as member:
                while data := member.read(CHUNK):
                    expanded += len(data)
                    if expanded > limits.zip_max_uncompressed:
                        raise refuse(too_big)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError, RuntimeError):
        raise refuse(_("The file is damaged or uses an unsupported compression method. "
                       "Upload the complete file.")) from None


def _check_ooxml(path, extension, head, size, limits) -> str:
    archive = _open_zip(path, extension, head, size, limits)
    with archive:
        _check_bomb(archive, size, limits)
        names = set(archive.namelist())
        folder, main = OOXML_MAIN[extension]
        if "[Content_Types].xml" not in names or not _has_main(archive, names, folder, main):
            other = next((e for e, (_f, m) in OOXML_MAIN.items() if m in names), None)
            raise _mismatch(extension, other or ("ofd" if _ofd_root(names) else "zip"))
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise refuse(_("Office files with macros are not accepted. Save the file "
                           "without macros and upload it again."))
    return CONTENT_TYPES[extension]


def _has_main(archive: zipfile.ZipFile, names: set[str], folder: str, main: str) -> bool:
    """The main part is at its usual name, or where the package relationships say."""
    if main in names:
        return True
    if "_rels/.rels" not in names or archive.getinfo("_rels/.rels").file_size > MB:
        return False
    rels = archive.read("_rels/.rels").decode("utf-8", "replace")
    for element in re.findall(r"<Relationship\b[^>]*>", rels):
        if re.search(r'Type="[^"]*/officeDocument"', element):
            target = re.search(r'Target="/?([^"]+)"', element)
            if target and target.group(1).startswith(folder) and target.group(1) in names:
                return True
    return False


def _ofd_root(names: set[str]) -> bool:
    return any(n.lower() == "ofd.xml" for n in names)


def _check_ofd(path, extension, head, size, limits) -> str:
    archive = _open_zip(path, extension, head, size, limits)
    with archive:
        if not _ofd_root(set(archive.namelist())):
            raise _mismatch(extension, None)
        _check_bomb(archive, size, limits)
    return CONTENT_TYPES["ofd"]


def _check_zip(path, extension, head, size, limits) -> str:
    archive = _open_zip(path, extension, head, size, limits)
    with archive:
        for name in archive.namelist():
            inner = name.rstrip("/").rpartition("/")[2]
            if inner.rpartition(".")[2].lower() in EXECUTABLE_MEMBERS and "." in inner:
                raise refuse(_("The archive contains a program or script (%(name)s); such "
                               "files are not accepted.", name=inner[:80]))
        _check_bomb(archive, size, limits)
    return CONTENT_TYPES["zip"]


CHECKS: dict[str, Callable[..., str]] = {
    "pdf": _check_pdf,
    "ofd": _check_ofd,
    "doc": _check_ole,
    "xls": _check_ole,
    "ppt": _check_ole,
    "docx": _check_ooxml,
    "xlsx": _check_ooxml,
    "pptx": _check_ooxml,
    "jpg": _check_jpeg,
    "jpeg": _check_jpeg,
    "png": _check_png,
    "txt": _check_text,
    "zip": _check_zip,
}
