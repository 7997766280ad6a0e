"""Amounts of money in yuan: figures with a currency mark or 元/万元, 大写 amounts, table cells.

Values are decimal strings with two places (``"120000.00"``).  A 大写 amount
(壹拾贰万元整, 人民币壹万零伍佰元, 叁仟元零伍分) is parsed exactly with :class:`Decimal`;
where it cannot be read (OCR noise) but the same line prints the figure, the figure's
value is used for it.  A bare figure counts when it is written like money (29,800.00), or
when it fills a table cell under a price/amount column (单价, 金额, 合计, Amount …), also in
a table whose cells OCR joined with spaces.  A minus sign glued to a figure (a discount line,
-3,000.00) makes it negative; figures in a foreign currency are not amounts.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal, InvalidOperation

from ingest.facts._common import Found, cell_header, half_width, label_before, role_before, table_cells

_CENT = Decimal("0.01")
# Up to two decimals; more only before 万/亿 (单价0.128万元 = 1,280.00).
_FIGURE = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2}(?!\d)|\.\d{3,6}(?=[ \u00a0]?[万亿]))?"
# Not the first part of a longer figure or code: no digit, and no , or . before a digit or
# letter (OCR may misread a digit as a letter: ¥67,A47.38 is not ¥67), no / or + before a digit.
_FIGURE_END = r"(?!\d|[,.][0-9A-Za-z]|[/+]\d)"
_UNIT = r"(?P<unit>亿元|万元|亿|万|元|圆)"

# ¥1,000.00  ￥500  RMB 3,000  CNY 635,700.00  人民币120,775.00元  人民币3.12万元  5,000元  3.5万元
_PREFIXED = re.compile(
    r"(?P<pre>[¥￥]|(?<![A-Za-z])(?:RMB|CNY)(?![A-Za-z])|人民币)[ \u00a0]?(?:[:：][ \u00a0]?)?"
    r"(?P<num>" + _FIGURE + r")" + _FIGURE_END + r"(?:[ \u00a0]?" + _UNIT + r")?(?:整|正)?",
    re.IGNORECASE,
)
_SUFFIXED = re.compile(
    r"(?<![\d.,A-Za-z\-/:])(?P<num>" + _FIGURE + r")[ \u00a0]?(?P<unit>亿元|万元|元|圆)(?:整|正)?(?![角分])"
)
# A bare figure written like money: thousands separators and two decimals.  OCR may read
# the separator as ， or ; add a full stop after the figure, or read ¥ as Y or X.
_FOREIGN_AFTER = r"(?![ ]?(?:美元|港元|港币|欧元|日元|英镑|USD|EUR|HKD|JPY|GBP))"
_MONEY_SHAPED = re.compile(
    # a range (1,000.00-2,000.00) may join two figures with a dash
    r"(?:(?<=\.\d\d[-~～])|(?<![\d.,，;\-/$€£]))(?<![A-WZa-z])(?P<num>\d{1,3}(?:[,，;]\d{3})+\.\d{2})"
    r"(?!\d|[,，.;]\d|[ ]?[%‰])" + _FOREIGN_AFTER
)
# A plain figure right after a money label: 合同金额：128,000  总价: 5000  (小写?52.70 (OCR lost the ¥)
_LABELLED = re.compile(
    r"(?P<label>金额|总价|总计|合计|价款|总额|预算|费用|单价|价格|货款|尾款|预付款|定金|报价|小写|"
    r"Amount|Total|Price|Budget|Value)(?:[^\n:：\d]{0,8}?[:：]|(?<=小写)[)）]?[^\d\s]?)\s?(?P<num>"
    + _FIGURE
    + r")"
    r"(?!\d|[,.][0-9A-Za-z]|\s?[%‰]|\s?[\u4e00-\u9fffA-Za-z])",
    re.IGNORECASE,
)
# A figure with two decimals standing alone (a table cell that OCR joined with spaces)
# counts on a line that holds other money.
_TWO_DECIMALS = re.compile(r"(?:(?<=[\s|])|^)(?P<num>\d{1,9}\.\d{2})(?=[\s|]|$)", re.MULTILINE)
_CELL_NUMBER = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$")
_MONEY_HEADER = re.compile(
    r"(?:金额|价|合计|小计|总计|总额|费用|税额|预算|款|amount|price|total|subtotal|value|cost|fee)",
    re.IGNORECASE,
)
_WAN_HEADER = re.compile(r"万元")
_FOREIGN_HEADER = re.compile(r"(?:\$|USD|EUR|HKD|JPY|GBP|美元|港元|港币|欧元|日元|英镑)", re.IGNORECASE)
_TOTAL_ROW = re.compile(r"^\s*\|?\s*(?:合计|总计|小计|价税合计|total|subtotal|grand total)", re.IGNORECASE)
_FOREIGN = re.compile(r"(?:\$|US\$|HK\$|USD|EUR|€|£|HKD|JPY|GBP)\s*$", re.IGNORECASE)

_UPPER_DIGITS = {"零": 0, "〇": 0, "壹": 1, "贰": 2, "貳": 2, "叁": 3, "參": 3, "肆": 4, "伍": 5, "陆": 6, "陸": 6,
                 "柒": 7, "捌": 8, "玖": 9}  # fmt: skip
_UPPER_DIGIT_CHARS = "壹贰貳叁參肆伍陆陸柒捌玖"
_UPPER_UNITS = {"拾": 10, "佰": 100, "仟": 1000}
_UPPER_CHARS = "零〇壹贰貳叁參肆伍陆陸柒捌玖拾佰仟万萬亿億"
_UPPER = re.compile(
    r"(?P<pre>人民币|RMB|CNY)?[ \u00a0]?[（(]?(?:大写[）)]?)?[:：]?[ \u00a0]?[ⓧ⊗]?"
    r"(?P<body>[" + _UPPER_CHARS + r"]+[元圆](?:[零〇]?[" + _UPPER_DIGIT_CHARS + r"][角分]){0,2}(?:整|正)?"
    r"|[零〇]?[" + _UPPER_DIGIT_CHARS + r"]角(?:[零〇]?[" + _UPPER_DIGIT_CHARS + r"]分)?(?:整|正)?)"
)


# Amounts in ordinary numerals (五十万元, 三千五百元): read through the 大写 parser.  A unit
# character is required, so that 一元化 or 二元 in prose do not count.
_LOWER_TO_UPPER = str.maketrans("一二两三四五六七八九十百千", "壹贰贰叁肆伍陆柒捌玖拾佰仟")
_LOWER = re.compile(
    r"(?<![一二两三四五六七八九十百千万亿零第])(?P<body>[一二两三四五六七八九十百千万亿零]*[十百千万亿]"
    r"[一二两三四五六七八九十百千万亿零]*(?:万元|元))(?!化|素|组|论|次方)"
)


def _fmt(value: Decimal) -> str:
    return str(value.quantize(_CENT))


def _figure(num: str, unit: str | None = None) -> Decimal | None:
    try:
        value = Decimal(re.sub(r"[,，;]", "", num))
    except InvalidOperation:
        return None
    if unit and unit.startswith("万"):
        value *= 10000
    elif unit and unit.startswith("亿"):
        value *= 10**8
    return value


def _section(chars: str) -> int | None:
    """A 大写 number below 10000 (壹仟零伍拾 -> 1050); None when it does not read as one."""
    total = 0
    digit: int | None = None
    last_unit = 10**4
    for ch in chars:
        if ch in _UPPER_DIGITS:
            if digit is not None:
                return None  # two digits in a row: a unit was lost (OCR)
            digit = _UPPER_DIGITS[ch] or None
        elif ch in _UPPER_UNITS:
            unit = _UPPER_UNITS[ch]
            if unit >= last_unit:
                return None
            if digit is None:
                if ch != "拾" or total:
                    return None
                digit = 1  # 拾万 = 100000
            total += digit * unit
            digit, last_unit = None, unit
        else:
            return None
    return total + (digit or 0)


def parse_upper(s: str) -> Decimal | None:
    """A 大写 amount (壹拾贰万元整, 叁仟元零伍分, 人民币壹万零伍佰元) -> yuan, or None."""
    s = re.sub(r"^(?:人民币|RMB|CNY)|[\s（()）:：ⓧ⊗]|大写", "", s.strip())
    s = s.rstrip("整正")
    if not any(ch in _UPPER_DIGITS or ch == "拾" for ch in s):
        return None
    int_part, yuan, frac = re.split(r"([元圆])", s, maxsplit=1) if re.search(r"[元圆]", s) else ("", "", s)
    if not yuan and not re.search(r"[角分]$", frac):
        return None
    int_part = int_part.replace("萬", "万").replace("億", "亿")
    total = 0
    rest = int_part
    if rest:
        for unit, factor in (("亿", 10**8), ("万", 10**4)):
            if unit in rest:
                head, _, rest = rest.partition(unit)
                value = _section(head.lstrip("零〇")) if head else None
                if value is None:
                    return None
                total += value * factor
        tail = _section(rest.lstrip("零〇")) if rest.strip("零〇") else 0
        if tail is None:
            return None
        total += tail
    result = Decimal(total)
    frac = frac.lstrip("零〇")
    for fm in re.finditer(r"(.)([角分])|(.)", frac):
        if fm.group(3) is not None:
            if fm.group(3) in "零〇":
                continue
            return None
        digit = _UPPER_DIGITS.get(fm.group(1))
        if digit is None:
            return None
        result += Decimal(digit) * (Decimal("0.1") if fm.group(2) == "角" else _CENT)
    return result


def parse_amount(s: str) -> Decimal | None:
    """Any amount surface form (¥1,000.00, 3.5万元, CNY 500, 壹万零伍佰元整, 29,800.00) -> yuan, 2 places."""
    s = re.sub(r"(?<=\d)[，;](?=\d{3}(?!\d))", ",", half_width(s).strip())
    value: Decimal | None = None
    if any(ch in _UPPER_DIGITS or ch in _UPPER_UNITS for ch in s):
        value = parse_upper(s)
    elif _LOWER.fullmatch(s):
        value = parse_upper(s.translate(_LOWER_TO_UPPER))
    elif m := (_PREFIXED.fullmatch(s) or _SUFFIXED.fullmatch(s)):
        value = _figure(m.group("num"), m.group("unit"))
    elif _CELL_NUMBER.match(s) or _MONEY_SHAPED.fullmatch(s):
        value = _figure(s)
    return None if value is None else value.quantize(_CENT)
    if any(ch in _UPPER_DIGITS or ch in _UPPER_UNITS for ch in s):
        return parse_upper(s)
    if _LOWER.fullmatch(s):
        return parse_upper(s.translate(_LOWER_TO_UPPER))
    for pattern in (_PREFIXED, _SUFFIXED):
        m = pattern.fullmatch(s)
        if m:
            return _figure(m.group("num"), m.group("unit"))
    if _CELL_NUMBER.match(s):
        return _figure(s)
    return None


# A minus sign glued to an amount (优惠 -3,000.00, 折让 -¥4,500.00) makes it negative; a dash
# after a digit or letter is a range or part of a code (1,000-2,000, A-500元).
_MINUS = "-−－"


def _signed(text: str, found: Found) -> Found:
    """``found`` with a glued minus sign before it taken into its span and value."""
    at = found.start
    if at == 0 or text[at - 1] not in _MINUS or found.value.startswith("-"):
        return found
    before = text[at - 2] if at >= 2 else " "
    if before.isalnum() or before in _MINUS or before in ".,，":
        return found
    return dataclasses.replace(found, value="-" + found.value, start=at - 1)


# A table whose cells OCR joined with spaces: a header line naming money columns
# (… 单价 金额 税率 税额) and, below it up to a blank line, rows whose figures with two
# decimals are the money cells.
_SPACED_HEADER = re.compile(
    r"^(?=[^\n\d]*(?:单价|金额|税额|价格|小计|Amount|Price))[^\n\d\t|]+$", re.IGNORECASE
)
_SPACED_ROWS = 30


def _spaced_table_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of the rows under a space-separated money header."""
    spans: list[tuple[int, int]] = []
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if len(line.split()) < 4 or not _SPACED_HEADER.match(line):
            i += 1
            continue
        j = i + 1
        while j < len(lines) and j - i <= _SPACED_ROWS and lines[j].strip() and "\t" not in lines[j]:
            spans.append((offsets[j], offsets[j] + len(lines[j])))
            j += 1
        i = j
    return spans


def _line_bounds(text: str, pos: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, end if end >= 0 else len(text)


def find_amounts(text: str) -> list[Found]:
    """Amounts of one text, in yuan with two decimals."""
    out: list[Found] = []
    figures: list[tuple[int, int, Decimal]] = []
    for m in _PREFIXED.finditer(text):
        value = _figure(m.group("num"), m.group("unit"))
        if value is None:
            continue
        figures.append((m.start(), m.end(), value))
        out.append(
            Found("amount", _fmt(value), m.start(), m.end(), role=role_before(text, m.start()), priority=1)
        )
    for m in _SUFFIXED.finditer(text):
        value = _figure(m.group("num"), m.group("unit"))
        if value is None or _FOREIGN.search(label_before(text, m.start(), 6)):
            continue
        figures.append((m.start(), m.end(), value))
        out.append(
            Found("amount", _fmt(value), m.start(), m.end(), role=role_before(text, m.start()), priority=1)
        )
    for m in _MONEY_SHAPED.finditer(text):
        if _FOREIGN.search(label_before(text, m.start(), 6)) or _FOREIGN_HEADER.search(
            cell_header(text, m.start()) or ""
        ):
            continue
        value = _figure(m.group("num"))
        if value is not None:
            figures.append((m.start(), m.end(), value))
            out.append(Found("amount", _fmt(value), m.start(), m.end(), role=role_before(text, m.start())))
    for m in _LABELLED.finditer(text):
        value = _figure(m.group("num"))
        if value is not None and not _FOREIGN.search(label_before(text, m.start("num"), 6)):
            figures.append((m.start("num"), m.end("num"), value))
            out.append(Found("amount", _fmt(value), m.start("num"), m.end("num"), role=m.group("label")))
    table_rows = _spaced_table_lines(text)
    for m in _TWO_DECIMALS.finditer(text):
        lo, hi = _line_bounds(text, m.start())
        money_line = any(lo <= s < hi for s, _e, _v in figures) or (lo, hi) in table_rows
        if money_line and not _FOREIGN.search(label_before(text, m.start(), 6)):
            value = _figure(m.group("num"))
            if value is not None:
                out.append(
                    Found("amount", _fmt(value), m.start(), m.end(), role=role_before(text, m.start()))
                )
    out.extend(_table_cells(text))
    for m in _LOWER.finditer(text):
        value = parse_upper(m.group("body").translate(_LOWER_TO_UPPER))
        if value is not None and value > 0:
            out.append(Found("amount", _fmt(value), m.start(), m.end(), role=role_before(text, m.start())))
    for m in _UPPER.finditer(text):
        body = m.group("body")
        if not any(ch in _UPPER_DIGITS and ch not in "零〇" for ch in body):
            continue
        start = m.start("pre") if m.group("pre") else m.start("body")
        value = _checked_upper(text, m, figures)
        if value is not None:
            out.append(
                Found("amount", _fmt(value), start, m.end("body"), role=role_before(text, start), priority=1)
            )
    return [_signed(text, f) for f in out]


# OCR misreadings of 大写 characters (什 for 仟, 查 for 壹 …): a match right after one is
# the tail of a garbled amount (人民币业万参什玖佰元整 is not 玖佰元整).
_UPPER_LOOKALIKE = set("什任仔忏伯百恰抬十千方查壶业参峙陸染玫武式贰")


def _checked_upper(text: str, m: re.Match[str], figures: list[tuple[int, int, Decimal]]) -> Decimal | None:
    """The value of a 大写 match, cross-checked with the figures (小写) on its line.

    With figures on the line the 大写 value must be one of them; an unreadable or partial
    大写 amount next to exactly one figure takes that figure's value.
    """
    value = parse_upper(m.group("body"))
    lo, hi = _line_bounds(text, m.start())
    near = {v for s, _e, v in figures if lo <= s < hi}
    if value is not None and (not near or value in near):
        before = text[m.start("body") - 1] if m.start("body") > lo and not m.group("pre") else ""
        return None if before in _UPPER_LOOKALIKE and not near else value
    return next(iter(near)) if len(near) == 1 else None


def _table_cells(text: str) -> list[Found]:
    """Bare figures that fill a cell under a money column or in a 合计 row."""
    out: list[Found] = []
    for cell in table_cells(text):
        figure = text[cell.start : cell.end].lstrip(_MINUS)
        if not _CELL_NUMBER.match(figure):
            continue
        shaped = "." in figure or "," in figure
        if _FOREIGN_HEADER.search(cell.header):
            continue
        money_col = bool(_MONEY_HEADER.search(cell.header)) and (shaped or len(figure) >= 3)
        total_row = "." in figure and bool(_TOTAL_ROW.match(cell.row_label)) and cell.row_label != figure
        if not money_col and not total_row:
            continue
        # 单价（万元）: the column header gives the unit
        value = _figure(figure, "万元" if money_col and _WAN_HEADER.search(cell.header) else None)
        if value is not None:
            start = cell.end - len(figure)
            out.append(Found("amount", _fmt(value), start, cell.end, role=cell.header))
    return out
