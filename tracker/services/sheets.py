"""Reading and writing the spreadsheets offices exchange (Excel .xlsx, CSV in UTF-8 or
GB18030): the shared ground of the problem-list import, the unit/user import and the
ledger reconciliation.

A sheet is read into rows of {column key: value} through a map of header texts (Chinese
or English) to keys; the header row is found among the first rows, so a title line above
it does no harm. Nothing here writes to the database.
"""
import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any, Callable, Iterable

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from tracker.services.errors import ValidationFailed

#: A cell starting with one of these is read as a formula (or DDE) by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 200_000
HEADER_SEARCH_ROWS = 10
DATE_FORMAT = "yyyy-mm-dd"
EXCEL_EPOCH = date(1899, 12, 30)


#: The column titles of the exchanged sheets. They are an interchange format read back by
#: the imports, so they are written in Chinese whatever the page's language; the English
#: titles are accepted on import too.
HEADERS_ZH = {
    "Active": "是否启用", "Awaiting decision": "待审核", "Category": "问题类别",
    "Closed late": "逾期销号", "Closed": "已销号", "Completion rate (%)": "完成率（%）",
    "Cooperating units": "配合单位", "Deadline": "整改时限", "Description": "问题描述",
    "E-mail": "电子邮箱", "Evidence files": "佐证材料数", "Full name": "姓名",
    "Indicator or rule": "评价指标/依据", "Inspection": "检查名称", "Latest progress": "最新进展",
    "Lead unit": "牵头单位", "Measures": "整改措施", "Near due": "临期", "No.": "序号",
    "Open": "未销号", "Overdue": "是否逾期", "Parent unit code": "上级单位代码", "Phone": "联系电话",
    "Planned completion": "计划完成时间", "Problem no.": "问题序号", "Problem": "问题",
    "Problems": "问题数", "Progress (%)": "整改进度（%）", "Progress date": "进展日期",
    "Rectification requirement": "整改要求", "Rectified": "已整改问题", "Required evidence":
    "佐证材料要求", "Responsible person": "责任人", "Role": "角色", "Scope unit code": "管辖单位代码",
    "Severity": "严重程度", "Status": "状态", "Ticket no.": "任务编号", "Tickets": "任务数",
    "Timeline": "时限类型", "Unit code": "单位代码", "Unit kind": "单位类型", "Unit name": "单位名称",
    "User name": "用户名", "Version": "版本",
}


@dataclass(frozen=True)
class Column:
    key: str
    #: English title; the sheet shows the Chinese one of HEADERS_ZH.
    title: str
    width: int = 14
    kind: str = "text"  # text, wrap, date, int
    required: bool = False

    @property
    def header(self) -> str:
        return HEADERS_ZH.get(self.title, self.title)


@dataclass
class Table:
    #: (row number as the user sees it in the sheet, {key: value})
    rows: list[tuple[int, dict[str, Any]]]
    keys: set[str]


@dataclass
class RowError:
    row: int
    column: str | None  # the column's key; None for the row as a whole
    message: str


@dataclass
class Problems:
    """Errors by row and column, in the order found."""

    items: list[RowError] = field(default_factory=list)

    def add(self, row: int, column: str | None, message: str) -> None:
        self.items.append(RowError(row, column, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def for_row(self, row: int) -> list[RowError]:
        return [e for e in self.items if e.row == row]

    def columns_of(self, row: int) -> set[str]:
        return {e.column for e in self.items if e.row == row and e.column}


def safe_text(value: str | None) -> str:
    """Text a spreadsheet shows as text: a leading formula character gets a quote."""
    if not value:
        return ""
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unsafe_text(value: str) -> str:
    """The original of `safe_text`: a quote we added in front of a formula character."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def _normal(text: Any) -> str:
    normal = "".join(str(text or "").split()).lower().replace("（", "(").replace("）", ")")
    return normal.rstrip("*")


def aliases(columns: Iterable[Column]) -> dict[str, str]:
    """Every header text a sheet may carry for a column (Chinese, English) → its key."""
    found: dict[str, str] = {}
    for column in columns:
        found[_normal(column.title)] = column.key
        found[_normal(column.key)] = column.key
        found[_normal(column.header)] = column.key
    return found


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(_("The file could not be read."), {
        "file": [_("Save the CSV file as UTF-8 or GB18030 (GBK) text.")]})


def _raw_rows(data: bytes, filename: str) -> Iterable[list[Any]]:
    name = (filename or "").lower()
    if data[:2] == b"PK" or name.endswith((".xlsx", ".xlsm")):
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise ValidationFailed(_("The file could not be read."), {
                "file": [_("This is not an Excel (.xlsx) workbook.")]}) from None
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
        book.close()
        return
    if name.endswith(".xls") or data[:4] == b"\xd0\xcf\x11\xe0":
        raise ValidationFailed(_("The file could not be read."), {
            "file": [_("Old Excel files (.xls) are not supported: save as .xlsx or CSV.")]})
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text, newline=""), dialect)


def read_table(data: bytes, filename: str, columns: Iterable[Column],
               progress: Callable[[int], None] | None = None) -> Table:
    """Rows of the first sheet under the first row that names at least two known columns.

    Raises ValidationFailed (field "file") for an unreadable file, no header row, a
    missing required column or too many rows."""
    columns = list(columns)
    known = aliases(columns)
    header: dict[int, str] | None = None
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, raw in enumerate(_raw_rows(data, filename), start=1):
        if header is None:
            candidate = {i: known[_normal(v)] for i, v in enumerate(raw) if _normal(v) in known}
            if len(candidate) >= 2:
                header = candidate
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        if all(v is None or str(v).strip() == "" for v in raw):
            continue
        if len(rows) >= MAX_ROWS:
            raise ValidationFailed(_("The file is too large."), {
                "file": [_("At most %(n)s rows per file.", n=MAX_ROWS)]})
        rows.append((number, {key: (raw[i] if i < len(raw) else None)
                              for i, key in header.items()}))
        if progress and len(rows) % 500 == 0:
            progress(len(rows))
    if header is None:
        raise ValidationFailed(_("The file could not be read."), {
            "file": [_("No header row found: use the template's column titles.")]})
    missing = [c for c in columns if c.required and c.key not in header.values()]
    if missing:
        raise ValidationFailed(_("The file could not be read."), {
            "file": [_("Missing column: %(names)s",
                       names="、".join(c.header for c in missing))]})
    if progress:
        progress(len(rows))
    return Table(rows=rows, keys=set(header.values()))


# --- cell values ------------------------------------------------------------------------

def text(value: Any) -> str:
    """A cell as stripped text: 3.0 reads "3", dates read ISO, our quotes come off."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return unsafe_text(str(value).replace("\r\n", "\n").replace("\r", "\n").strip())


def parse_date(value: Any) -> date | None:
    """A date from a date cell, an Excel serial number or text such as 2026-12-31,
    2026/12/31, 2026.12.31, 20261231 or 2026年12月31日. None for an empty cell; ValueError
    for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 < value < 80000:
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise ValueError(value)
    raw = unsafe_text(str(value).strip())
    for sep in ("年", "月", "/", "."):
        raw = raw.replace(sep, "-")
    raw = raw.replace("日", "").strip("-")
    if raw.isdigit() and len(raw) == 8:
        raw = f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    raw = raw.split(" ")[0].split("T")[0]
    parts = raw.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(value)
    parsed = date(int(parts[0]), int(parts[1]), int(parts[2]))
    if not 2000 <= parsed.year <= 2099:
        raise ValueError(value)
    return parsed


def parse_int(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    if isinstance(value, int):
        return value
    raw = unsafe_text(str(value).strip()).rstrip("%").strip()
    if raw.endswith(".0"):
        raw = raw[:-2]
    return int(raw)


def split_list(value: Any) -> list[str]:
    """Several names in one cell: separated by 、，,；; or new lines."""
    raw = text(value)
    for sep in ("，", ",", "；", ";", "\n"):
        raw = raw.replace(sep, "、")
    return [part.strip() for part in raw.split("、") if part.strip()]


# --- writing ----------------------------------------------------------------------------

def cell(sheet, value, *, kind="text", bold=False, fill=None):
    if kind in ("text", "wrap") and isinstance(value, str):
        value = safe_text(value)
    result = WriteOnlyCell(sheet, value=value)
    if kind == "date" and isinstance(value, (date, datetime)):
        result.number_format = DATE_FORMAT
    if bold:
        result.font = Font(bold=True)
    if fill:
        result.fill = PatternFill("solid", fgColor=fill)
    if kind == "wrap" or bold:
        result.alignment = Alignment(wrap_text=True, vertical="top")
    return result


def write_sheet(book: Workbook, title: str, columns: list[Column], rows: Iterable[list],
                note: str | None = None) -> int:
    """A sheet with a frozen, filtered header row of the columns' translated titles."""
    sheet = book.create_sheet(title)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    first = 1
    if note:
        sheet.append([cell(sheet, note)])
        first = 2
    sheet.freeze_panes = f"A{first + 1}"
    sheet.append([cell(sheet, c.header + (" *" if c.required else ""), bold=True,
                       fill="DDEBF7") for c in columns])
    count = 0
    for values in rows:
        sheet.append([cell(sheet, v, kind=c.kind) for c, v in zip(columns, values)])
        count += 1
    sheet.auto_filter.ref = f"A{first}:{get_column_letter(len(columns))}{first + count}"
    return count


def workbook_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def new_book() -> Workbook:
    return Workbook(write_only=True)


def save_to(out: IO[bytes], book: Workbook) -> None:
    book.save(out)


def estimate_rows(data: bytes, filename: str) -> int:
    """About how many rows the file has, for a progress bar (no validation)."""
    name = (filename or "").lower()
    if data[:2] == b"PK" or name.endswith((".xlsx", ".xlsm")):
        try:
            book = load_workbook(io.BytesIO(data), read_only=True)
            rows = book.worksheets[0].max_row or 0
            book.close()
            return rows
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            return 0
    return data.count(b"\n")
