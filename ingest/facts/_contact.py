"""Phone numbers and e-mail addresses.

A phone is normalised to 11 digits (mobile), ``区号-号码`` (landline) or 10 digits
(400/800 hotline); an extension (分机/转/ext) is dropped from the value.  Long digit
runs that are really codes (order, contract, invoice and bank numbers, credit codes,
dates such as 20240315…) are not phones: a phone must not be glued to other digits or
letters, and a code label right before it (订单号, 账号, 编号 …) rules it out.
"""

from __future__ import annotations

import re

from ingest.facts._common import Found, cell_header, half_width, label_before, role_before

_SEP = r"[ \-\u00a0\u2010\u2013\u2014]?"
_EXT = r"(?:(?:\s*(?:转|分机号?|ext\.?|Ext\.?|EXT\.?|x|X|#)\s*|-)(?P<ext>\d{1,6})(?!\d))?"
_CC = r"(?:(?P<cc>(?:\+|00)\s?86|[(（]\s?\+?86\s?[)）]|86(?=[ \-]))[ \-]?)?"
_PHONE = re.compile(
    r"(?<![0-9A-Za-z_./@+])(?<![0-9A-Za-z]-)"
    + _CC
    + r"(?:"
    # mobile: 1[3-9]x xxxx xxxx
    + r"(?P<mobile>1[3-9]\d"
    + _SEP
    + r"\d{4}"
    + _SEP
    + r"\d{4})"
    # 400/800 hotline: 10 digits in 3-3-4 or 3-4-3 groups
    + r"|(?P<hotline>[48]00"
    + _SEP
    + r"(?:\d{3}"
    + _SEP
    + r"\d{4}|\d{4}"
    + _SEP
    + r"\d{3}))"
    # landline with area code: (0571)8888-1234, 0571 88881234, 010-6234 5678
    + r"|(?:[(（]\s?(?P<area_p>0?(?:10|2\d|[3-9]\d\d))\s?[)）]\s?|(?P<area>0?(?:10|2\d|[3-9]\d\d))(?P<asep>"
    + _SEP
    + r"))(?P<local>[2-9]\d{2,3}"
    + _SEP
    + r"\d{4})"
    + r")"
    + _EXT
    # a comma may follow (13812345678,0571-…): thousands groups never hold 11 digits in a row
    + r"(?![0-9A-Za-z@]|[.\-][0-9])"
)

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-\u00c0-\u024f])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)

# A label right before a number that names it as something other than a phone.
_CODE_LABEL = re.compile(
    r"(?:(?:订单|合同|报价|账户|帐户|身份证|邮编|邮政编码|运单|快递单|批次)"
    r"|(?:单|编|账|帐|卡|证|工|批|票|代|税|机器|序列|流水|识别|校验|订单|合同|报价|运单|物料|产品|客户|会员|户)"
    r"(?:号|号码|码|编号|编码))$"
)
# English words for "number" name a code unless a phone word stands before them (Tel No.).
_EN_CODE_LABEL = re.compile(
    r"(?<![A-Za-z])(?P<what>[A-Za-z. ]{0,12}?)\s*(?:no\.?|num(?:ber)?|acct|account|code|id|po|sn|ref)$",
    re.IGNORECASE,
)
_PHONE_LABEL = re.compile(
    r"(?:电话|手机|座机|固话|传真|热线|联系方式|联系|tel|phone|mobile|mob|fax|cell|hotline|致电|拨打|call)",
    re.IGNORECASE,
)
_MONEY_BEFORE = re.compile(r"(?:[¥￥$]|RMB|CNY|人民币|金额|价|额|计)\s*$", re.IGNORECASE)
_MONEY_AFTER = re.compile(r"^\s*(?:元|万|圆|块|%|％|‰|年|月|日|号|个|台|件|套|人|次)")


_GROUP_BEFORE = re.compile(r"\d{3,6} $")
_GROUP_AFTER = re.compile(r"^ \d{3,6}(?![\d:])")
_TRAILING_DIGITS = re.compile(r"[\d \u00a0\-]+$")


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def _is_code_context(text: str, start: int, end: int) -> bool:
    """True when the label or column before the number names it as a code or an amount."""
    before = label_before(text, start, 24)
    if _MONEY_BEFORE.search(before) or _MONEY_AFTER.match(text[end : end + 2]):
        return True
    # A number written in spaced groups that goes on before or after the candidate is one
    # long number (a bank account: 6222 0571 8888 1234 567), not a phone.
    if " " in text[start:end] and (_GROUP_BEFORE.search(before) or _GROUP_AFTER.match(text[end : end + 6])):
        return True
    bare = _TRAILING_DIGITS.sub("", before).rstrip(" \t:：#*|-=（(")
    header = cell_header(text, start) or ""
    return any(_names_code(label) for label in (bare, header) if label)


def _names_code(label: str) -> bool:
    """True when ``label`` ends with a word that names a code (订单号, 账号, Order No.)."""
    if _CODE_LABEL.search(label):
        return True
    m = _EN_CODE_LABEL.search(label)
    return bool(m and not _PHONE_LABEL.search(m.group("what")))


def normalize_phone(s: str) -> str | None:
    """A phone number in any usual surface form -> its normal form, or None when it is not one."""
    s = half_width(s).strip()
    for m in _PHONE.finditer(s):
        if m.start() == 0 and m.end() == len(s):
            return _value(m)
    digits = _digits(s)
    if re.fullmatch(r"(?:86)?1[3-9]\d{9}", digits):
        return digits[-11:]
    if re.fullmatch(r"[48]00\d{7}", digits):
        return digits
    glued = re.fullmatch(r"0(10|2\d|[3-9]\d\d)([2-9]\d{6,7})", digits)
    if glued:
        return f"0{glued.group(1)}-{glued.group(2)}"
    return None


def _value(m: re.Match[str]) -> str | None:
    if m.group("mobile"):
        return _digits(m.group("mobile"))
    if m.group("hotline"):
        return _digits(m.group("hotline"))
    area = m.group("area_p") or m.group("area") or ""
    local = _digits(m.group("local"))
    if len(local) not in (7, 8):
        return None
    if not area.startswith("0"):
        if not m.group("cc"):
            return None  # "571 8888 1234" is not a landline without +86 or a leading 0
        area = "0" + area
    elif m.group("cc"):
        return None  # +86 0571 …: the trunk 0 is never dialled after the country code
    if area[:2] in ("01", "02") and len(area) != 3:
        return None
    return f"{area}-{local}"


def _plausible(m: re.Match[str], text: str) -> bool:
    """Shape checks that depend on how the number is written."""
    if m.group("mobile") or m.group("hotline"):
        return True
    # A landline glued to its area code (057188881234) reads like any 11–12 digit code:
    # keep it only where a phone label introduces it.
    if m.group("area") and not m.group("asep") and not m.group("cc"):
        before = label_before(text, m.start(), 20)
        header = cell_header(text, m.start())
        return bool(_PHONE_LABEL.search(before) or (header and _PHONE_LABEL.search(header)))
    return True


# A second local number after a landline shares its area code: 0574-8618 2200 / 8618 2201,
# 电话/传真：0755-86001234、86001235.
_SAME_AREA = re.compile(r"[ \t]*[/／、][ \t]*(?P<local>[2-9]\d{2,3}[ \-]?\d{4})(?![0-9A-Za-z]|[.\-]\d)")

_SLASH = re.compile(r"[ \t]*[/／][ \t]*")


def find_phones(text: str) -> list[Found]:
    """Phone numbers: mobiles, landlines with area code, 400/800 hotlines."""
    out: list[Found] = []
    for m in _PHONE.finditer(text):
        value = _value(m)
        if value is None or not _plausible(m, text):
            continue
        if _is_code_context(text, m.start(), m.end()):
            continue
        role = role_before(text, m.start())
        out.append(Found("phone", value, m.start(), m.end(), role=role))
        slash = _SLASH.match(text, m.end())
        nxt = _PHONE.match(text[slash.end() : slash.end() + 40]) if slash else None
        if slash and nxt and (second := _value(nxt)) and _plausible(nxt, text[slash.end() :]):
            # 13812345678/13987654321: the slash that keeps a phone out of dates and codes
            # may join two phones
            at = slash.end()
            out.append(Found("phone", second, at + nxt.start(), at + nxt.end(), role=role))
            continue
        same = _SAME_AREA.match(text, m.end()) if "-" in value and not m.group("ext") else None
        if same:
            local = _digits(same.group("local"))
            if len(local) in (7, 8):
                area = value.split("-")[0]
                at, end = same.start("local"), same.end("local")
                out.append(Found("phone", f"{area}-{local}", at, end, role=role))
    return out


def find_emails(text: str) -> list[Found]:
    """E-mail addresses, lower-cased."""
    out: list[Found] = []
    for m in _EMAIL.finditer(text):
        raw = m.group().rstrip(".")
        out.append(Found("email", raw.lower(), m.start(), m.start() + len(raw), priority=1))
    return out


def find_contacts(text: str) -> list[Found]:
    """Phones and e-mail addresses of one text."""
    return find_emails(text) + find_phones(text)
