"""What a file really is: names, types checked against content, ZIP bomb limits."""
from pathlib import Path

import pytest

from tests.evidence import samples
from tracker.services.errors import ValidationFailed
from tracker.services.evidence_files import (
    KNOWN_EXTENSIONS,
    Limits,
    TooLarge,
    check_content,
    clean_name,
    receive,
)

LIMITS = Limits(max_file_bytes=50 * 1024 * 1024, zip_max_members=100,
                zip_max_uncompressed=100 * 1024 * 1024, zip_max_ratio=200)


def check(tmp_path: Path, data: bytes, extension: str, limits: Limits = LIMITS) -> str:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return check_content(path, extension, len(data), limits)


def refused(tmp_path, data, extension, limits=LIMITS) -> str:
    with pytest.raises(ValidationFailed) as caught:
        check(tmp_path, data, extension, limits)
    return caught.value.fields["file"][0]


GENUINE = [
    ("pdf", samples.pdf(), "application/pdf"),
    ("png", samples.png(), "image/png"),
    ("jpg", samples.jpeg(), "image/jpeg"),
    ("jpeg", samples.jpeg(), "image/jpeg"),
    ("docx", samples.docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xlsx", samples.xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("pptx", samples.pptx(), "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("ofd", samples.ofd(), "application/ofd"),
    ("doc", samples.ole("WordDocument"), "application/msword"),
    ("xls", samples.ole("Workbook"), "application/vnd.ms-excel"),
    ("ppt", samples.ole("PowerPoint Document"), "application/vnd.ms-powerpoint"),
    ("txt", "整改完成情况：已落实。\n".encode("utf-8"), "text/plain; charset=utf-8"),
    ("txt", "整改完成情况：已落实。\n".encode("gb18030"), "text/plain; charset=gb18030"),
    ("zip", samples.zip_of({"照片/食堂.jpg": samples.jpeg(), "说明.txt": "说明".encode()}), "application/zip"),
]


@pytest.mark.parametrize("extension,data,media_type", GENUINE,
                         ids=[f"{g[0]}-{i}" for i, g in enumerate(GENUINE)])
def test_genuine_file_of_each_allowed_type_is_accepted(app, tmp_path, extension, data, media_type):
    assert check(tmp_path, data, extension) == media_type


def test_every_default_extension_has_a_content_check(app):
    assert set(app.config["EVIDENCE_EXTENSIONS"]) <= KNOWN_EXTENSIONS


def test_exe_renamed_pdf_is_refused_as_a_program(app, tmp_path):
    message = refused(tmp_path, samples.exe(), "pdf")
    assert "Windows" in message or "程序" in message


@pytest.mark.parametrize("data,extension", [
    (samples.HTML, "png"), (samples.HTML, "jpg"), (samples.SVG, "png"), (samples.SVG, "jpg"),
    (samples.SVG, "jpeg"),
])
def test_html_or_svg_posing_as_an_image_is_refused(app, tmp_path, data, extension):
    refused(tmp_path, data, extension)


def test_png_named_jpg_is_refused_naming_what_it_is(app, tmp_path):
    message = refused(tmp_path, samples.png(), "jpg")
    assert "PNG" in message


def test_truncated_pdf_is_refused(app, tmp_path):
    data = samples.pdf()
    refused(tmp_path, data[: len(data) // 2], "pdf")


def test_truncated_png_is_refused(app, tmp_path):
    data = samples.png()
    refused(tmp_path, data[:-12], "png")


def test_docx_zip_bomb_is_refused(app, tmp_path):
    message = refused(tmp_path, samples.docx_bomb(60), "docx")
    assert "bomb" in message or "炸弹" in message


def test_zip_expanding_beyond_the_total_limit_is_refused(app, tmp_path):
    small = Limits(LIMITS.max_file_bytes, 100, 10 * 1024 * 1024, 10**9)
    refused(tmp_path, samples.docx_bomb(20), "docx", small)


def test_zip_with_too_many_members_is_refused(app, tmp_path):
    data = samples.zip_of({f"{i}.txt": b"x" for i in range(101)})
    message = refused(tmp_path, data, "zip")
    assert "101" in message


def test_zip_whose_member_lies_about_its_size_is_refused(app, tmp_path):
    data = bytearray(samples.zip_of({"a.txt": b"A" * 5000}))
    # Shrink the declared size in the central directory: reading must stop and fail the CRC.
    at = data.rfind(b"PK\x01\x02")
    data[at + 24:at + 28] = (10).to_bytes(4, "little")
    refused(tmp_path, bytes(data), "zip")


def test_xlsx_named_docx_is_refused(app, tmp_path):
    message = refused(tmp_path, samples.xlsx(), "docx")
    assert "Excel" in message


def test_plain_zip_named_docx_is_refused(app, tmp_path):
    refused(tmp_path, samples.zip_of({"a.txt": b"hello"}), "docx")


def test_docx_with_macros_is_refused(app, tmp_path):
    data = samples.zip_of({"[Content_Types].xml": samples.CONTENT_TYPES_XML,
                           "word/document.xml": b"<w:document/>",
                           "word/vbaProject.bin": b"\x00" * 10})
    refused(tmp_path, data, "docx")


def test_old_excel_named_doc_is_refused(app, tmp_path):
    message = refused(tmp_path, samples.ole("Workbook"), "doc")
    assert "Excel" in message


def test_password_protected_docx_is_refused_with_the_reason(app, tmp_path):
    message = refused(tmp_path, samples.ole("EncryptedPackage"), "docx")
    assert "password" in message or "密码" in message


def test_zip_holding_a_program_is_refused(app, tmp_path):
    refused(tmp_path, samples.zip_of({"setup.exe": samples.exe()}), "zip")


def test_empty_zip_is_refused(app, tmp_path):
    refused(tmp_path, samples.zip_of({}), "zip")


def test_text_with_nul_bytes_is_refused(app, tmp_path):
    refused(tmp_path, b"abc\x00def", "txt")


def test_text_in_utf16_is_refused_with_advice(app, tmp_path):
    message = refused(tmp_path, "整改".encode("utf-16"), "txt")
    assert "UTF-8" in message


def test_text_that_is_neither_utf8_nor_gb18030_is_refused(app, tmp_path):
    refused(tmp_path, b"\xff\xfe\xfd\x80\x81" * 10 + b"\x80", "txt")


def test_program_named_txt_is_refused(app, tmp_path):
    refused(tmp_path, samples.exe(), "txt")


# --- receiving ----------------------------------------------------------------------------

def test_empty_file_is_refused_and_leaves_no_temporary_file(app, tmp_path):
    import io

    with pytest.raises(ValidationFailed):
        receive(io.BytesIO(b""), tmp_path, 100)
    assert list(tmp_path.iterdir()) == []


def test_file_one_byte_over_the_limit_is_refused_and_leaves_no_temporary_file(app, tmp_path):
    import io

    with pytest.raises(TooLarge):
        receive(io.BytesIO(b"x" * 101), tmp_path, 100)
    assert list(tmp_path.iterdir()) == []


def test_file_exactly_at_the_limit_is_received_with_its_hash(app, tmp_path):
    import hashlib
    import io

    received = receive(io.BytesIO(b"x" * 100), tmp_path, 100)
    assert received.size == 100
    assert received.sha256 == hashlib.sha256(b"x" * 100).hexdigest()


# --- names --------------------------------------------------------------------------------

ALLOWED = frozenset({"pdf", "txt", "docx", "png"})


def test_chinese_name_is_kept_exactly():
    assert clean_name("整改报告（第二版）.pdf", ALLOWED) == ("整改报告（第二版）.pdf", "pdf")


def test_extension_is_matched_case_insensitively_and_name_kept():
    assert clean_name("照片.PNG", ALLOWED) == ("照片.PNG", "png")


@pytest.mark.parametrize("raw,expected", [
    ("../../hax0rd.txt", "hax0rd.txt"),
    ("..\\..\\hax0rd.txt", "hax0rd.txt"),
    ("..&#x2F;hax0rd.txt", "..&#x2F;hax0rd.txt"),
    ("%2E%2E%2Fhax0rd.txt", "%2E%2E%2Fhax0rd.txt"),
])
def test_traversal_names_keep_only_a_harmless_last_component(app, raw, expected):
    name, extension = clean_name(raw, ALLOWED)
    assert name == expected and "/" not in name and "\\" not in name


@pytest.mark.parametrize("raw", ["/etc/passwd", "C:\\Windows\\win.ini"])
def test_absolute_paths_to_system_files_are_refused(app, raw):
    with pytest.raises(ValidationFailed):
        clean_name(raw, ALLOWED)


@pytest.mark.parametrize("raw", ["hax0rd.txt\x00.pdf", "报告\r\n.pdf", "报告\x1b.pdf",
                                 "exe\u202efdp.pdf"])
def test_names_with_control_or_invisible_characters_are_refused(app, raw):
    with pytest.raises(ValidationFailed):
        clean_name(raw, ALLOWED)


def test_300_character_chinese_name_is_refused_with_the_limit(app):
    with pytest.raises(ValidationFailed) as caught:
        clean_name("整" * 296 + ".pdf", ALLOWED)
    assert "255" in caught.value.message


def test_255_character_chinese_name_is_accepted(app):
    name = "整" * 251 + ".pdf"
    assert clean_name(name, ALLOWED) == (name, "pdf")


@pytest.mark.parametrize("raw", ["...", ".", "..", " . . ", ""])
def test_name_of_only_dots_is_refused(app, raw):
    with pytest.raises(ValidationFailed):
        clean_name(raw, ALLOWED)


@pytest.mark.parametrize("raw", ["report.exe", "report.svg", "report.html", "report", "report.pdf."])
def test_names_of_types_not_allowed_are_refused(app, raw):
    with pytest.raises(ValidationFailed):
        clean_name(raw, ALLOWED)
