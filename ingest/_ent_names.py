"""Company and person names in one page's text.

Companies are found by their legal-form suffix (有限公司, 股份有限公司, Co., Ltd., Inc. …) with
the start of the name worked out from the labels, punctuation and place names before it;
by a party label (甲方：, 客户名称：, Customer:) holding a short name; by a declared short
name (以下简称“金桥电气”); and by a short form of a full name on the same page, or a
字号 + 行业 short name, in the title or subject line.  Banks, courts, arbitration commissions
and tax offices are organisations, not companies.

Persons are found where the layout says a name stands: after a label (联系人、经办人、
参会人员 …, Attn:, Contact:), in a table column headed 姓名/联系人/负责人, before a job title
(张三（采购经理）), in e-mail From/To/Cc display names and in a letter's signature.  A name
that is an ordinary word in jieba's dictionary (方案, 张家港) is not a name.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator

from ingest._ent_places import find_addresses, label_value_start, region_prefix
from ingest._entities import Found

_CJK = "\u4e00-\u9fff"

# --- persons: what a Chinese name looks like -----------------------------------------

_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯"
    "纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪"
    "简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄"
    "丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储栗燕楚鄢劳谌奚皮粟冼蔺楼满闻位厉伊仝区郜"
    "阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊"
    "阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展"
    "阴昝智幸奉植衡富尧闭由和"
)
_COMPOUND_SURNAMES = (
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯", "长孙",
    "宇文", "司徒", "端木", "独孤", "南宫", "西门", "轩辕", "呼延", "澹台", "万俟", "闻人", "申屠",
)  # fmt: skip

# Job titles and forms of address: stripped from a name, never a name themselves.
_TITLE_WORDS = (
    "总经理", "副总经理", "董事长", "副董事长", "总裁", "副总裁", "经理", "总监", "工程师", "主管", "主任",
    "专员", "助理", "顾问", "架构师", "负责人", "代表", "秘书", "会计", "出纳", "部长", "处长", "科长",
    "院长", "所长", "厂长", "局长", "董事", "书记", "老师", "律师", "先生", "女士", "小姐", "同学", "师傅",
    "总", "工", "董",
)  # fmt: skip
_TITLE_RE = re.compile(
    r"[^）)\n]{0,10}?(?:" + "|".join(sorted(_TITLE_WORDS[:-3], key=len, reverse=True)) + r")"
    r"|(?:C[EFTIO]O|VP|PM|Manager|Director|Engineer|Head of [A-Za-z ]+)"
)
# Words that often stand where a name would and are not names.
_NOT_NAMES = frozenset(
    [
        "待定", "暂无", "同上", "本人", "我方", "客户", "客户方", "甲方", "乙方", "双方", "全体", "各方", "姓名", "职务", "电话", "手机",
        "邮箱", "签字", "盖章", "日期", "负责人", "联系人", "经办人", "代表", "无", "略", "见附件", "张家港", "王府井", "周一", "周二", "周三",
        "周四", "周五", "周六", "周日", "金额", "方案", "高新", "项目", "时间", "地点", "内容", "备注", "事项", "合计", "总计", "安装",
        "程序", "文档", "平台", "常规", "全部", "任何", "明确", "马上", "黄金", "江南", "和平", "何时", "于是", "万元", "石油", "林业",
        "华为", "欧元", "美元", "日元", "韩元", "宁波", "安徽", "江苏", "江西", "湖南", "湖北", "海南", "云南", "贵州", "温州", "常州",
        "金华", "丽水", "柳州", "梅州", "汕头", "南京", "南通", "南昌", "南宁",
    ]
)
_PLACE_END = re.compile(r"[港井路街市县区省镇村乡州湾岛]$")


@functools.cache
def _word_tags() -> dict[str, str]:
    """jieba's dictionary word -> part of speech, loaded on first use."""
    import jieba.posseg

    tags: dict[str, str] = jieba.posseg.dt.word_tag_tab
    return tags


def _is_cn_name(s: str) -> bool:
    """True for a plausible full Chinese personal name (surname + given name, 2–4 characters)."""
    if not re.fullmatch(f"[{_CJK}]{{2,4}}", s) or s in _NOT_NAMES:
        return False
    if s[:2] in _COMPOUND_SURNAMES:
        given = s[2:]
    elif s[0] in _SURNAMES and len(s) <= 3:
        given = s[1:]
    else:
        return False
    if not given or given in _TITLE_WORDS or any(given.endswith(t) for t in _TITLE_WORDS[:-3]):
        return False
    if len(s) == 3 and _PLACE_END.search(s):
        return False
    tag = _word_tags().get(s)
    return tag is None or tag.startswith("nr")


_EN_NAME = re.compile(r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+){1,2}")
_EN_NOT_NAME = frozenset(
    [
        "manager", "director", "engineer", "sales", "team", "customer", "department", "dept", "company",
        "group", "office", "service", "services", "support", "center", "centre", "procurement",
        "purchasing", "finance", "account", "accounts", "it", "technical", "project", "product", "general",
        "chief", "officer", "head", "president", "assistant", "dear", "best", "regards", "thanks", "thank",
        "please", "yunfan", "limited", "ltd", "inc", "corp", "co", "date", "phone", "mobile", "email",
        "tel", "fax", "address", "subject", "quotation", "invoice", "contract", "order", "proposal",
        "meeting", "visit", "report", "notes", "minutes", "the", "and", "of", "for", "to", "from", "with",
        "key", "next", "china", "shanghai", "beijing", "hangzhou", "shenzhen", "suzhou", "guangzhou",
    ]
)


def _is_en_name(s: str) -> bool:
    """True for a labelled Latin-script personal name such as ``Kevin Johnson``."""
    if not _EN_NAME.fullmatch(s):
        return False
    return not any(w.lower() in _EN_NOT_NAME for w in re.split(r"[ -]", s))


def _strip_title(s: str) -> tuple[str, bool]:
    """A name without a trailing job title or form of address, and whether one was cut."""
    for title in sorted(_TITLE_WORDS, key=len, reverse=True):
        if s.endswith(title) and len(s) > len(title):
            return s[: -len(title)], True
    return s, False


# --- persons: where names stand ----------------------------------------------------------

_PERSON_LABELS = (
    "客户联系人", "技术联系人", "商务联系人", "采购联系人", "联系人", "联络人", "对接人", "经办人",
    "法定代表人", "法人代表", "授权代表", "委托代理人", "签约代表", "甲方代表", "乙方代表", "签字人",
    "签署人", "签字", "项目负责人", "销售负责人", "负责人", "销售代表", "客户经理", "项目经理", "销售经理",
    "业务员", "销售员", "报价人", "制单人", "制表人", "填写人", "填表人", "记录人", "主持人", "纪要整理",
    "整理人", "审核人", "审核", "审批人", "批准人", "复核", "收款人", "开票人", "申请人", "被拜访人",
    "拜访人员", "拜访人", "客户接待人", "接待人", "陪同人员", "跟进人", "收件人", "发件人", "抄送",
    "参会人员", "与会人员", "出席人员", "参加人员", "参会人", "与会人", "参与人员", "列席人员", "出席", "姓名",
    "参加人", "参与人", "出席人", "列席人", "拜访对象", "记录", "主持", "人员",
)  # fmt: skip
_EN_PERSON_LABELS = (
    "Customer contact", "Contact person", "Contact", "Attn", "Attention", "Prepared by", "Visited by",
    "Signed by", "Approved by", "Recorded by", "Minutes by", "Sales rep", "Sales", "Account manager",
    "Attendees", "Participants", "Host", "Chair", "Name", "From", "To", "Cc", "Buyer", "Requester", "Requested by",
    "Owner",
)  # fmt: skip
_CN_PERSON_LABEL = "|".join(sorted(_PERSON_LABELS, key=len, reverse=True))
_PERSON_LABEL_RE = re.compile(
    r"(?:(?:^|(?<=[\s|•·*\-、，,；;。]))"
    # a qualifier may stand before a label: 技术负责人, 售后联系人, 项目对接人
    rf"(?P<label>(?:[{_CJK}]{{1,4}}?(?=联系人|负责人|对接人|代表|经办人|人员))?"
    rf"(?:{_CN_PERSON_LABEL})|"
    + "|".join(sorted(_EN_PERSON_LABELS, key=len, reverse=True))
    + r")(?:[（(][^）)\n]{1,10}[）)])?(?:/[^\s：:|]{1,8})?\**"
    # the separator: a colon, a cell border, or (PDF forms) spaces after a Chinese label
    rf"(?:[ \t]*[:：]|[ \t]*\||\t|(?<=by) |(?<=[{_CJK}）)])[ 　]+(?=[^\s:：|]))"
    # OCR glues cells together ("…有限公司联系人：欧阳健桂"): a Chinese label with its colon
    rf"|(?P<glued>{_CN_PERSON_LABEL})(?:[（(][^）)\n]{{1,10}}[）)])?[ \t]*[:：])[ \t|*]*",
    re.MULTILINE,
)
# Labels of other fields that OCR may glue to the end of a name ("何文玉复核：", "冯清强手机：").
_FIELD_LABELS = tuple(
    sorted(
        set(_PERSON_LABELS)
        | {
            "电话", "联系电话", "手机", "传真", "邮箱", "电子邮箱", "邮件", "日期", "时间", "地址", "职务", "职位",
            "部门", "销售方", "购买方", "名称", "备注", "签字", "盖章", "微信", "QQ", "Tel", "Mobile", "Email",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
# Separators inside a list of names ("罗蓉（大客户经理）、周晨杰"; "A <a@x>; B <b@x>").
_LIST_SPLIT = re.compile(r"[、，,；;：:/\t|（(]|\s{1,}|(?<=[）)])")
_PAREN = re.compile(r"[（(][^（）()\n]{0,24}[）)]|<[^<>\n]*>|\"|“|”")
# The end of the region a label governs: the end of the line, a sentence end, or the next label.
_REGION_END = re.compile(r"\n|。|\t(?=[^\t\n]{0,8}[:：])| {2,}|　+(?=[^\s]{1,8}[:：])")


def _region_end(text: str, start: int) -> int:
    """The end of a label's value; a list that ends its line with a separator goes on below."""
    while True:
        m = _REGION_END.search(text, start)
        end = m.start() if m else len(text)
        if m and m.group() == "\n" and re.search(r"[、，,；;]\s*$", text[start:end]):
            start = end + 1
            continue
        return end


def _person_chunks(region: str) -> Iterator[tuple[int, str]]:
    """(offset, chunk) for each separated piece of a label's value, titles in brackets blanked."""
    masked = _PAREN.sub(lambda m: " " * len(m.group()), region)
    pos = 0
    for part in _LIST_SPLIT.split(masked):
        idx = masked.find(part, pos) if part else pos
        if part.strip():
            lead = len(part) - len(part.lstrip())
            yield idx + lead, part.strip()
        pos = idx + len(part)


def _english_chunks(region: str) -> Iterator[tuple[int, str]]:
    """(offset, name) for comma/semicolon separated display names in an e-mail header."""
    masked = _PAREN.sub(lambda m: " " * len(m.group()), region)
    pos = 0
    for part in re.split(r"[,;，；\t]", masked):
        idx = masked.find(part, pos)
        pos = idx + len(part)
        name = part.strip()
        if name:
            yield idx + (len(part) - len(part.lstrip())), name


_TITLE_FIRST = re.compile(
    rf"[{_CJK}]{{0,4}}?(?:" + "|".join(sorted(_TITLE_WORDS[:-3], key=len, reverse=True)) + rf")(?P<name>[{_CJK}]{{2,4}})$"
)


def _name_of_chunk(chunk: str) -> str | None:
    """The personal name a list chunk holds (title stripped), or None."""
    if _is_en_name(chunk):
        return chunk
    for label in _FIELD_LABELS:  # "何文玉复核" where OCR lost the gap before the next label
        if chunk.endswith(label) and len(chunk) > len(label) + 1 and _is_cn_name(chunk[: -len(label)]):
            return chunk[: -len(label)]
    name, cut = _strip_title(chunk)
    if _is_cn_name(name):
        return name
    if cut:
        return None
    # "周晨杰售前工程师" without a separator: a title word after a 2–3 character name
    m = re.match(f"([{_CJK}]{{2,4}}?)(?:{_TITLE_RE.pattern})$", chunk)
    if m and _is_cn_name(m.group(1)):
        return m.group(1)
    # "总经理王明", "财务总监李华": the title first
    m = _TITLE_FIRST.match(chunk)
    if m and _is_cn_name(m.group("name")):
        return m.group("name")
    # "Mr. Robert Brown", "Ms Li Na"
    m = re.match(r"(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s+(?P<name>.+)$", chunk)
    if m and _is_en_name(m.group("name")):
        return m.group("name")
    return None


_SINGLE_VALUE_LABELS = frozenset(
    [
        "联系人", "联络人", "对接人", "经办人", "法定代表人", "法人代表", "授权代表", "委托代理人", "签约代表", "签字人", "签署人", "签字", "报价人",
        "制单人", "制表人", "填写人", "填表人", "记录人", "主持人", "纪要整理", "整理人", "审核人", "审核", "审批人", "批准人", "复核", "收款人",
        "开票人", "申请人", "姓名", "Name", "Attn", "Attention", "Contact", "Host", "Chair", "记录", "主持",
        "Buyer", "Requester", "Requested by", "Owner",
    ]
)


def _labelled_persons(text: str, out: list[Found]) -> None:
    for m in _PERSON_LABEL_RE.finditer(text):
        label = m.group("label") or m.group("glued")
        start = label_value_start(text, m.end())
        end = _region_end(text, start)
        region = text[start : min(end, start + 160)]
        if label in ("From", "To", "Cc") and not re.match(r"[ \t]*\S", region):
            continue
        single = label in _SINGLE_VALUE_LABELS or label.endswith(("联系人", "负责人", "对接人", "代表", "经办人"))
        email_header = label in ("From", "To", "Cc", "发件人", "收件人", "抄送")
        chunks = _english_chunks(region) if email_header or re.match(r"[ \t]*[A-Z]", region) else None
        pieces = list(chunks) if chunks is not None else list(_person_chunks(region))
        for offset, chunk in pieces:
            name = _name_of_chunk(chunk) if not email_header else _name_of_chunk(chunk.strip(" '\""))
            if name is None and email_header and re.search(f"[{_CJK}]", chunk):
                name = next((n for _, c in _person_chunks(chunk) if (n := _name_of_chunk(c))), None)
            if name is None:
                if single:
                    break
                continue
            at = text.find(name, start + offset)
            if at < 0:
                continue
            out.append(Found("person", name, at, at + len(name), role=label, priority=1))
            if single:
                break


# Column headers whose cells hold personal names.
_NAME_COLUMNS = frozenset(
    [
        "姓名", "联系人", "负责人", "跟进人", "销售", "销售代表", "销售员", "业务员", "经办人", "拜访人", "拜访人员", "客户经理", "责任人", "参会人",
        "主讲人", "记录人", "name", "contact", "owner", "sales", "attendee",
    ]
)
# Column headers whose cells hold company names.
_COMPANY_COLUMNS = frozenset(
    ["客户", "客户名称", "公司", "公司名称", "单位", "单位名称", "企业名称", "客户简称", "customer", "client", "company"]
)


def _split_row(line: str) -> tuple[str, list[tuple[int, str]]] | None:
    """(separator, [(offset, cell)]) of a TAB or ``|`` table row, or None."""
    if "\t" in line:
        sep = "\t"
    elif "|" in line:
        sep = "|"
    else:
        return None
    cells: list[tuple[int, str]] = []
    pos = 0
    for raw in line.split(sep):
        lead = len(raw) - len(raw.lstrip())
        cells.append((pos + lead, raw.strip()))
        pos += len(raw) + 1
    if sep == "|" and line.strip().startswith("|"):
        cells = cells[1:]
    if sep == "|" and line.strip().endswith("|"):
        cells = cells[:-1]
    return sep, cells


def _column_cells(text: str, headers: frozenset[str]) -> Iterator[tuple[int, str, str]]:
    """(absolute offset, cell text, header) of every cell under a column whose header is in ``headers``."""
    lines = text.split("\n")
    offsets = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    i = 0
    while i < len(lines):
        row = _split_row(lines[i])
        if row is None:
            i += 1
            continue
        sep, cells = row
        norm = [re.sub(r"[\s*（）()]", "", c).lower() for _, c in cells]
        cols = [k for k, c in enumerate(norm) if c in headers]
        # a header row: three or more short cells without digits (a two-cell row is "label | value")
        if not cols or len(cells) < 3 or any(len(c) > 12 or re.search(r"\d", c) for c in norm):
            i += 1
            continue
        j = i + 1
        while j < len(lines):
            line = lines[j]
            if re.match(r"^\s*\|?\s*:?-{2,}", line):
                j += 1
                continue
            nxt = _split_row(line)
            if nxt is None or nxt[0] != sep:
                break
            body = nxt[1]
            if len(body) == len(cells):
                for k in cols:
                    off, cell = body[k]
                    if cell:
                        yield offsets[j] + off, cell, cells[k][1]
            j += 1
        i = j


def _column_persons(text: str, out: list[Found]) -> None:
    for at, cell, header in _column_cells(text, _NAME_COLUMNS):
        for offset, chunk in _person_chunks(cell):
            name = _name_of_chunk(chunk)
            if name:
                pos = text.find(name, at + offset)
                out.append(Found("person", name, pos, pos + len(name), role=header, priority=1))


_TITLE_AFTER = re.compile(r"[（(](?P<title>" + _TITLE_RE.pattern + r")[）)]")
_NAME_BEFORE_TITLE = re.compile(
    rf"(?:^|(?<=[\s|•·*、，,；;：:。]))(?P<name>[{_CJK}]{{2,4}})[ 　]{{1,4}}"
    r"(?P<title>(?:[^\s，,。；;]{0,8}?)(?:" + "|".join(sorted(_TITLE_WORDS[:-3], key=len, reverse=True)) + r"))"
    r"(?=\s|$|[，,。；;])",
    re.MULTILINE,
)
_FUNCTION_CHARS = set("由与和及同向对为在从给把被让是了的将经据致请等约令派")
_ACT_AFTER_NAME = re.compile(
    rf"(?:^|(?<=[\s，,。；;：:、])|(?<=\d\.))(?:由|请|约|让|通知|派)?(?P<name>[{_CJK}]{{2,4}}?)"
    r"(?:负责|跟进|对接|牵头|陪同|介绍了|讲解了|表示|提出|补充|汇报了|确认了)",
    re.MULTILINE,
)


def _titled_persons(text: str, out: list[Found]) -> None:
    for m in _TITLE_AFTER.finditer(text):
        pos = m.start()
        for size in (4, 3, 2):
            start = pos - size
            if start < 0:
                continue
            name = text[start:pos]
            before = text[start - 1] if start else "\n"
            boundary = (
                not re.match(f"[{_CJK}A-Za-z0-9]", before)
                or before in _FUNCTION_CHARS
                # a label glued to the name by OCR ("拜访人员周晨杰（售前工程师）")
                or text.endswith(_PERSON_LABELS, max(0, start - 6), start)
            )
            if boundary and _is_cn_name(name):
                out.append(Found("person", name, start, pos, priority=1))
                break
    for m in _NAME_BEFORE_TITLE.finditer(text):
        if _is_cn_name(m.group("name")):
            out.append(Found("person", m.group("name"), m.start("name"), m.end("name"), priority=1))
    for m in _ACT_AFTER_NAME.finditer(text):
        if _is_cn_name(m.group("name")):
            out.append(Found("person", m.group("name"), m.start("name"), m.end("name"), priority=1))


_CLOSING = re.compile(
    r"^[ \t]*(?:Best regards|Kind regards|Regards|Best|Thanks|Thank you|Sincerely|此致|敬礼|祝好|"
    r"顺祝商祺|顺颂商祺|谢谢|此致敬礼)[,，!！。]?[ \t]*\n[ \t]*(?P<name>[^\n]{2,30})$",
    re.MULTILINE,
)


# A line holding only a name, with a job title or a company on the next line (a signature).
_SIGNATURE = re.compile(rf"^[ \t]*(?P<name>[{_CJK}]{{2,4}})[ \t]*\n[ \t]*(?P<next>[^\n]{{2,40}})$", re.MULTILINE)


def _signature_persons(text: str, out: list[Found]) -> None:
    for m in _SIGNATURE.finditer(text):
        nxt = m.group("next").strip()
        if (_TITLE_RE.fullmatch(nxt) or _CN_SUFFIX.search(nxt)) and _is_cn_name(m.group("name")):
            out.append(Found("person", m.group("name"), m.start("name"), m.end("name"), role="署名", priority=1))
    for m in _CLOSING.finditer(text):
        raw = m.group("name").strip()
        name = _name_of_chunk(raw)
        if name:
            at = text.find(name, m.start("name"))
            out.append(Found("person", name, at, at + len(name), role="署名", priority=1))


def find_persons(text: str) -> list[Found]:
    """Personal names where a label, a table column, a job title or a signature says one stands."""
    out: list[Found] = []
    _labelled_persons(text, out)
    _column_persons(text, out)
    _titled_persons(text, out)
    _signature_persons(text, out)
    return _dedupe(out)


def _dedupe(found: list[Found]) -> list[Found]:
    """One candidate per span; a candidate with a role beats one without."""
    best: dict[tuple[str, int, int], Found] = {}
    for f in found:
        key = (f.kind, f.start, f.end)
        if key not in best or (f.role and not best[key].role):
            best[key] = f
    return sorted(best.values(), key=lambda f: (f.start, f.end))


# --- companies ------------------------------------------------------------------------

# Legal forms: a name ending in one of these is a company wherever it stands.
_LEGAL = r"(?:集团)?(?:股份有限公司|有限责任公司|有限公司)|(?:集团)?股份公司|集团公司|总公司"
# Weaker endings: a company only when labelled or opening with a place name.
_WEAK = r"集团|公司|研究院|研究所|设计院|事务所|中心|厂|商行|工作室|合作社"
_CN_SUFFIX = re.compile(f"(?P<legal>{_LEGAL})|(?P<weak>{_WEAK})")
# Organisations that are not companies (the truth calls them org).
_ORG = re.compile(
    r"银行|信用社|信用合作|仲裁|法院|检察院|税务|海关|公安|政府|委员会|管理局|监督|人民|大学|学院|医院|"
    r"学校|派出所|街道办|居委会|村委会|邮政局|证监会|银保监"
)
# A street address ending in 中心/大厦 is not a company name.
_ADDRESSY = re.compile(r"\d+\s*[号弄栋幢楼层室]|[路街道巷]\d")
_GENERIC_CORE = re.compile(
    r"^(?:[我贵本该其此各某这那每全子分总母原新旧上下前后一二三两多几][家个间所级]?|"
    r"(?:信息|网络|数据|技术|科技|服务|软件|系统|集成|物流|贸易|咨询|运营|销售|客户|呼叫|研发|培训|管理|"
    r"计算|云|大|国际|中国|外资|合资|民营|国有|上市|股份|投资|控股|实业|发展|建设|工程|设计|营销|售后)+)$"
)
_BRANCH = re.compile(f"[{_CJK}]{{1,8}}?(?:分公司|分厂|办事处|营业部)")
_NAME_BODY = re.compile(f"[{_CJK}A-Za-z0-9]")
_MAX_NAME = 40

# Party labels: what may introduce a company, and the role it plays.
_PARTY_LABELS = (
    "甲方名称", "乙方名称", "买方名称", "卖方名称", "购买方名称", "销售方名称", "购方名称", "销方名称",
    "供应商名称", "买受人", "出卖人", "发包人", "承包人", "出租人", "承租人",
    "甲方", "乙方", "丙方", "买方", "卖方", "委托方", "受托方", "委托人", "受托人", "供方", "需方", "供货方",
    "采购方", "服务方", "承包方", "发包方", "出租方", "承租方", "购买方", "销售方", "购货单位", "销货单位",
    "收货单位", "付款单位", "开票单位", "客户名称", "客户简称", "客户", "公司名称", "单位名称", "企业名称",
    "客户单位", "客户全称", "公司全称", "公司简称", "全称", "单位", "报价方", "询价方", "报价单位",
    "名称", "简称", "致", "报价单位", "供应商",
)  # fmt: skip
_EN_PARTY_LABELS = (
    "Customer Name", "Company Name", "Customer", "Client", "Company", "Buyer", "Seller", "Supplier", "Vendor",
    "Bill To", "Sold To", "Ship To", "Party A", "Party B", "To", "Messrs",
)  # fmt: skip
_PARTY_LABEL_RE = re.compile(
    r"(?:^|(?<=[\s|•·*\-#]))"
    r"(?P<label>" + "|".join(sorted(_PARTY_LABELS + _EN_PARTY_LABELS, key=len, reverse=True)) + r")"
    r"(?:[（(][^）)\n]{1,8}[）)])?\**[ \t]*(?:[:：]|\|)?[ \t|*]*",
    re.MULTILINE,
)
# Labels under which a value without a legal suffix is still a company (a short name).
_SHORT_OK = frozenset(
    [
        "甲方名称", "乙方名称", "买方名称", "卖方名称", "购买方名称", "销售方名称", "供应商名称", "客户名称", "客户简称", "客户", "公司名称", "单位名称",
        "企业名称", "简称", "甲方", "乙方", "买方", "卖方", "委托方", "受托方", "供方", "需方", "供货方", "采购方", "服务方", "承包方", "发包方",
        "购买方", "销售方", "Customer", "Client", "Company", "Buyer", "Seller", "Supplier", "Vendor",
        "客户单位", "客户全称", "公司全称", "公司简称", "全称", "单位", "报价方", "询价方",
    ]
)
_NOT_COMPANY = frozenset(
    [
        "待定", "暂无", "无", "同上", "个人", "本公司", "我司", "贵司", "本司", "我方", "客户方", "甲方", "乙方", "双方", "全体", "名称",
        "盖章", "签章", "签字",
    ]
)


def _role_before(text: str, start: int) -> str:
    """The party label right before ``start`` (甲方, 客户名称, To …), or ""."""
    line_start = text.rfind("\n", 0, start) + 1
    before = text[max(line_start, start - 24) : start]
    m = re.search(
        r"(?P<label>" + "|".join(sorted(_PARTY_LABELS + _EN_PARTY_LABELS, key=len, reverse=True)) + r")"
        r"(?:[（(][^）)\n]{1,8}[）)])?\**(?:[ \t]*(?:[:：]|\||\t)[ \t|*]*|(?<=[\u4e00-\u9fff）)])[ 　]+)$",
        before,
    )
    if not m:
        return ""
    label = m.group("label")
    if label.endswith("名称") and len(label) > 2:
        return label[:-2]
    if label == "名称":  # invoices: 购买方  名称：…
        head = text[line_start : line_start + 8]
        for party in ("购买方", "销售方", "购货单位", "销货单位"):
            if party in head:
                return party
    return label


def _walk_back(text: str, end: int) -> int:
    """Where a name ending at ``end`` may start: back over name characters and bracketed places."""
    i = end
    limit = max(0, end - _MAX_NAME)
    while i > limit:
        ch = text[i - 1]
        if text.endswith("公司", 0, i):  # another company ends here: "…有限公司杭州分公司"
            break
        if ch in "）)":
            j = max(text.rfind("（", limit, i - 1), text.rfind("(", limit, i - 1))
            if j < 0 or not re.fullmatch(f"[{_CJK}]{{2,8}}", text[j + 1 : i - 1]):
                break
            i = j
            continue
        if _NAME_BODY.match(ch):
            i -= 1
            continue
        break
    return i


def _bracket_blank(s: str) -> str:
    """``s`` with bracketed parts blanked (so a place in brackets is not a name start)."""
    return re.sub(r"[（(][^）)]*[）)]", lambda m: "　" * len(m.group()), s)


def _core(name: str, suffix_len: int) -> str:
    """The distinctive part of a name: no legal suffix, no bracketed place, no leading region."""
    core = re.sub(r"[（(][^）)]*[）)]", "", name[: len(name) - suffix_len])
    region = region_prefix(core)
    return core[len(region) :] if region and len(core) - len(region) >= 2 else core


_CUT_TAGS = ("p", "c", "u", "r", "y", "e")
_CUT_WORDS = frozenset(
    [
        "讨论", "选择", "委托", "签订", "签署", "联系", "拜访", "走访", "代表", "采购", "购买", "提交", "通知", "确认", "介绍", "推荐",
        "合作", "对接", "负责", "跟进", "会上", "本合同", "本协议", "双方", "顺带", "以及", "及其", "关于", "通过", "根据", "按照", "其中",
        "包括", "例如", "比如", "如", "即", "系", "为", "是",
        # labels OCR glued to the name ("乙方（盖章杭州…", "客户名称光华物流…")
        "盖章", "签章", "签字", "公章", "名称", "单位", "甲方", "乙方", "丙方", "买方", "卖方", "供方", "需方",
        "委托方", "受托方", "供应商",
    ]
)


def _name_start(text: str, lo: int, core_end: int) -> int:
    """The start of a company name whose text before the suffix is ``text[lo:core_end]``.

    A name opening with a place name starts there.  Otherwise the name starts after the
    last function word or verb before it (会上讨论了|上海海川物流…, 本合同由|杭州云帆…).
    """
    prefix = text[lo:core_end]
    blanked = _bracket_blank(prefix)
    if region_prefix(blanked):
        return lo
    for k in range(1, len(blanked)):
        region = region_prefix(blanked[k:])
        if region and len(prefix) - k - len(region) >= 2 and (k >= 3 or _cut_before(prefix[:k])):
            return lo + k
    if len(prefix) <= 2:
        return lo
    import jieba.posseg

    pos = 0
    best = 0
    for token in jieba.posseg.dt.cut(prefix, HMM=False):
        pos += len(token.word)
        if pos >= len(prefix):
            break
        if token.word in _CUT_WORDS or token.flag.startswith(_CUT_TAGS) or re.fullmatch(r"\d+[年月日号]?", token.word):
            rest = re.sub(r"[（(][^）)]*[）)]", "", prefix[pos:])
            if len(rest) >= 2 and not _GENERIC_CORE.match(rest):
                best = pos
    return lo + best


def _cut_before(s: str) -> bool:
    """True when ``s`` ends with a function word, a verb or a number (the name starts after it)."""
    return bool(re.search(r"[由与和及同向对为在从给把被让是了的将经据致请等即系并或]$|\d$", s)) or any(
        s.endswith(w) for w in _CUT_WORDS
    )


def _cn_companies(text: str) -> Iterator[tuple[int, int, int, bool]]:
    """(start, end, suffix length, legal) of every Chinese company name by suffix."""
    for m in _CN_SUFFIX.finditer(text):
        if m.group("weak") and m.group("weak") in ("公司", "集团") and text.startswith("有限", m.end()):
            continue
        core_end = m.start()
        lo = _walk_back(text, core_end)
        if lo >= core_end:
            continue
        start = _name_start(text, lo, core_end)
        end = m.end()
        branch = _BRANCH.match(text, end) if m.group("legal") else None
        if branch:  # 中国移动通信集团浙江有限公司杭州分公司: the branch is part of the name
            end = branch.end()
        yield start, end, end - m.start(), bool(m.group("legal"))


def _accept_cn(text: str, start: int, end: int, suffix_len: int, legal: bool, role: str) -> bool:
    name = text[start:end]
    if _ORG.search(name) or _ADDRESSY.search(name):
        return False
    core = re.sub(r"[（(][^）)]*[）)]", "", name[: len(name) - suffix_len])
    if len(core) < 2 or _GENERIC_CORE.match(core) or name in _NOT_COMPANY:
        return False
    if re.fullmatch(r"[A-Za-z0-9]+", core):
        return False
    if legal:
        return True
    # weak endings (公司, 集团, 中心 …): labelled, or a place name plus a distinctive part
    if role:
        return True
    region = region_prefix(core)
    rest = core[len(region) :]
    suffix = name[len(name) - suffix_len :]
    if suffix == "中心":  # 数据中心, 会议中心, 客户服务中心: a company only when labelled
        return False
    need = 4 if suffix in ("厂", "研究院", "研究所", "设计院", "事务所") else 2
    return bool(region) and len(rest) >= need and not _GENERIC_CORE.match(rest)


_EN_SUFFIX = (
    r"(?:Co\.,?[ ]?Ltd\.?|Co\.?[ ]Limited|Company[ ]Limited|Pte\.?[ ]Ltd\.?|Pty\.?[ ]Ltd\.?|Ltd\.?|Limited|"
    r"Inc\.?|Incorporated|Corp\.?|Corporation|L\.?L\.?C\.?|LLP|PLC|plc|GmbH|AG|S\.A\.|B\.V\.|N\.V\.|"
    r"CO\.,?[ ]?LTD\.?|CO\.?[ ]LIMITED|COMPANY[ ]LIMITED|LTD\.?|LIMITED|INC\.?|CORP\.?|CORPORATION)"
)
_EN_WORD = r"(?:[A-Z0-9][A-Za-z0-9&'’\-]*\.?|&|and|of|de|the|\([A-Z][A-Za-z]*(?:[ ][A-Z][A-Za-z]*)*\))"
_EN_COMPANY = re.compile(
    rf"(?<![\w&])(?P<name>[A-Z0-9][A-Za-z0-9&'’\-]*\.?(?:,?[ ]{_EN_WORD}){{0,7}}?),?[ ]"
    rf"(?P<suffix>{_EN_SUFFIX})(?![A-Za-z])"
)
_EN_LEAD = re.compile(
    r"(?:(?:To|From|Dear|Attn|Attention|Hi|Hello|Welcome|Thank|Thanks|With|For|By|Between|And|Re|Fw|Fwd|"
    r"Customer|Client|Buyer|Seller|Supplier|Vendor|Messrs|Our|Your|Dear Sirs|Please|Contact|Bill|Ship|Sold|"
    r"Company|Regarding|Subject|Congratulations|Meeting|Visit|Quotation|Invoice|Contract|Order|Proposal|"
    r"Report|Notes|Minutes|Agreement|Signed|Prepared|Issued|Accepted|Approved|Between|Both|When|If|As|At|In|On|"
    r"The Customer|The Buyer|The Seller)[ ,]+)+"
)


def _en_companies(text: str) -> Iterator[tuple[int, int]]:
    for m in _EN_COMPANY.finditer(text):
        start = m.start("name")
        year = re.match(r"(?:©\s*)?(?:19|20)\d\d,?\s+", m.group("name"))  # "© 2022, Amazon Web Services, Inc."
        if year:
            start += year.end()
        lead = _EN_LEAD.match(text, start)
        if lead:
            start = lead.end()
        if start >= m.start("suffix"):
            continue
        yield start, m.end("suffix")


# --- short names -----------------------------------------------------------------------

# Industry words that follow a 字号 in a short company name (明远科技, 海川物流).
_INDUSTRY = (
    "供应链", "新能源", "进出口", "物流", "租赁", "保理", "集团", "教育", "医疗", "医药", "生物", "传媒",
    "设计", "商贸", "贸易", "货代", "汽配", "精密", "电气", "电子", "科技", "信息", "数据", "环保", "能源",
    "建设", "建筑", "地产", "置业", "实业", "控股", "投资", "制药", "药业", "化工", "机械", "制造", "材料",
    "食品", "纺织", "服饰", "家居", "电器", "通信", "软件", "网络", "咨询", "文化", "旅游", "酒店", "餐饮",
    "农业", "矿业", "钢铁", "汽车", "航空", "证券", "保险", "基金", "信托", "电力", "光电", "半导体",
    "智能", "仪器", "健康", "检测", "安防", "工程", "装饰", "印刷", "包装", "物业", "广告", "会展", "股份",
)  # fmt: skip
_INDUSTRY_RE = "|".join(sorted(_INDUSTRY, key=len, reverse=True))
# Leading words of a title that are topics, not a 字号.
_NOT_BRAND = frozenset(
    [
        "数据", "网络", "信息", "系统", "项目", "年度", "公司", "客户", "产品", "技术", "服务", "园区", "机房", "办公", "我司", "本司",
        "关于", "销售", "采购", "合同", "报价", "会议", "方案", "季度", "工业", "企业", "行业", "国际", "中国", "全国", "智能", "安全",
        "云端", "私有", "混合", "综合", "整体", "重点", "核心", "年终", "月度", "周报", "日报", "市场", "商务", "财务", "人力", "行政",
        "运维", "售后", "集团", "智慧", "数字", "新版", "最新", "正式", "草稿", "修订", "第一", "第二", "第三", "北京", "上海", "天津",
        "重庆", "华东", "华南", "华北", "华中", "西南", "西北", "东北", "全球", "海外",
    ]
)
# Words that mark a line as a title naming a customer's project or document.
_TITLE_MARK = re.compile(
    r"解决方案|方案|纪要|会议|报价|合同|协议|订单|拜访|档案|汇总|清单|项目|Proposal|Quotation|Meeting|"
    r"Report|Order|Contract|Invoice|Subject:|主题[:：]",
    re.IGNORECASE,
)
_TITLE_LEAD = re.compile(
    r"^\s*(?:#+\s*|Subject:\s*|主题[:：]\s*)?(?:(?:RE|Re|FW|Fw|Fwd|回复|答复|转发)[:：]\s*)*(?:【[^】]{1,8}】\s*)*"
)
_DECLARED = re.compile(
    r"(?:以下简称|下称|以下称|简称)[为:：]?\s*[“\"「『]?(?P<name>[^”\"」』，,。；;）)\s]{2,16})[”\"」』]"
    r"|hereinafter(?: referred to as)?\s*(?:the\s*)?[\"“](?P<en>[^\"”]{2,40})[\"”]",
)
_ROLE_WORDS = frozenset(
    [
        "甲方", "乙方", "丙方", "买方", "卖方", "双方", "本合同", "本协议", "供方", "需方", "委托方", "受托方",
        "出租方", "承租方", "出卖人", "买受人", "party a", "party b", "buyer", "seller", "supplier", "customer",
        "company", "client", "vendor", "licensor", "licensee", "contractor", "agreement", "contract",
    ]
)  # fmt: skip
# Words that end a department, a group of people or a category, not a company.
_NOT_SHORT_END = re.compile(r"(?:客户|用户|部门|部|组|处|科|室|中心|团队|个人|类|方|人|者)$")
_HEAD_LINES = 3
_HEAD_MAX = 80


def _short_forms(full: str, suffix_len: int) -> tuple[str, str]:
    """(字号, the rest of the core) of a Chinese full name: 南京凌云商业保理有限公司 -> (凌云, 商业保理)."""
    core = _core(full, suffix_len)
    if full[len(full) - suffix_len :].startswith("集团"):
        core += "集团"
    return core[:2], core[2:]


def _short_after(text: str, pos: int, rest: str) -> int:
    """How far a short name that starts with a 字号 ending at ``pos`` runs: the longest run of
    following characters taken, in order, from ``rest`` (凌云 + 保理 from 商业保理)."""
    best = pos
    k, i = pos, 0
    while k < len(text) and k - pos < 5:
        ch = text[k]
        j = rest.find(ch, i)
        if j < 0:
            if ch == "配" and "汽车" in rest and text[k - 1] == "汽":  # 汽车配件/零部件 -> 汽配
                k += 1
                best = k
                continue
            break
        i = j + 1
        k += 1
        if k - pos >= 2:
            best = k
    return best


def _head_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the first few non-empty lines when they look like a title or a subject."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while pos < len(text) and len(spans) < _HEAD_LINES:
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos:end]
        if line.strip() and len(line.strip()) <= _HEAD_MAX:
            spans.append((pos, end))
        elif line.strip():
            break
        pos = end + 1
    return spans


def _short_names(text: str, fulls: list[tuple[int, int, int]], out: list[Found]) -> None:
    """Short forms of the page's full names, and 字号 + 行业 names, in its title/subject lines."""
    taken = [(s, e) for s, e, _ in fulls]
    brands: dict[str, str] = {}
    for s, e, suffix_len in fulls:
        full = text[s:e]
        if re.match(f"[{_CJK}]", full):
            brand, rest = _short_forms(full, suffix_len)
            if len(brand) == 2 and rest:
                brands.setdefault(brand, rest)
    en_names = [text[s:e] for s, e, _ in fulls if re.match(r"[A-Za-z0-9]", text[s:e])]

    def free(a: int, b: int) -> bool:
        return not any(a < e and s < b for s, e in taken)

    def add(a: int, b: int, role: str) -> None:
        value = text[a:b]
        if free(a, b) and value not in _NOT_COMPANY and not _ORG.search(value):
            out.append(Found("company", value, a, b, role=role, priority=1))
            taken.append((a, b))

    for line_start, line_end in _head_spans(text):
        line = text[line_start:line_end]
        for brand, rest in brands.items():
            for m in re.finditer(re.escape(brand), line):
                a = line_start + m.start()
                b = _short_after(text, a + 2, rest)
                if b > a + 2 + 1 and b <= line_end:
                    add(a, b, "简称")
        for en in en_names:
            words = re.sub(r"\s*\(.*?\)|,?\s+(?:" + _EN_SUFFIX + r")$", "", en).split()
            for n in range(len(words), 0, -1):
                short = " ".join(words[:n])
                if len(short) < 4 or short == en:
                    continue
                for m in re.finditer(rf"(?<![A-Za-z]){re.escape(short)}(?![A-Za-z])", line):
                    add(line_start + m.start(), line_start + m.end(), "简称")
        if not _TITLE_MARK.search(line):
            continue
        lead = _TITLE_LEAD.match(line)
        body = line_start + (lead.end() if lead else 0)
        m2 = re.match(f"(?P<brand>[{_CJK}]{{2}})(?P<ind>{_INDUSTRY_RE})", text[body:line_end])
        if m2 and m2.group("brand") not in _NOT_BRAND and not re.match(_INDUSTRY_RE, m2.group("brand")):
            add(body, body + m2.end(), "标题")
        # "报价单-云帆信息", "Quotation for X - Pacific Rim": a name after the last dash of a subject
        tail = re.search(rf"[-–—]\s*(?P<t>[{_CJK}]{{2}}(?:{_INDUSTRY_RE})|[A-Z][A-Za-z]+(?: [A-Z][A-Za-z]+){{0,2}})\s*$", line)
        if tail and line.lstrip().lower().startswith(("subject:", "re:", "fw:", "主题")):
            t = tail.group("t")
            if t[:2] not in _NOT_BRAND and not any(w.lower() in _EN_NOT_NAME for w in t.split()):
                add(line_start + tail.start("t"), line_start + tail.end("t"), "主题")
    for m in _DECLARED.finditer(text):
        group = "name" if m.group("name") else "en"
        value = m.group(group)
        if value.lower() in _ROLE_WORDS or value in _NOT_COMPANY or _is_cn_name(value):
            continue
        add(m.start(group), m.end(group), "简称")
        # the declared short name wherever else it stands on the page
        for m3 in re.finditer(re.escape(value), text):
            add(m3.start(), m3.end(), "简称")


def _labelled_short(text: str, out: list[Found], taken: list[tuple[int, int]]) -> None:
    """Short company names after a party label (客户：明远科技) and in a 客户名称 column."""
    spans: list[tuple[int, int, str]] = []
    for m in _PARTY_LABEL_RE.finditer(text):
        label = m.group("label")
        sep = text[m.end("label") : m.end()]
        if label not in _SHORT_OK or not re.search(r"[:：|\t]", sep):
            continue
        start = label_value_start(text, m.end())
        if not re.search("[:：]", sep) and not _two_cells(text, m.start()):
            continue  # "客户名称<TAB>下单日期…" is a header row, not "label<TAB>value"
        vm = re.match(r"[^\t\n|，,；;。（(:：]{2,40}", text[start:])
        if not vm:
            continue
        value = vm.group()
        if re.match(f"[{_CJK}]", value):  # a Chinese short name ends at a space
            value = re.split(r"\s", value, maxsplit=1)[0]
        else:
            value = re.split(r"\s{2,}|　", value, maxsplit=1)[0].rstrip()
        if text.startswith(("：", ":"), start + len(vm.group())):
            # OCR glued the next label on: "明远科技联系人：张三"
            value = next((value[: -len(w)] for w in _FIELD_LABELS if value.endswith(w)), value)
        spans.append((start, start + len(value), label))
    for at, cell, header in _column_cells(text, _COMPANY_COLUMNS):
        spans.append((at, at + len(cell), header))
    for start, end, label in spans:
        value = text[start:end].strip()
        if any(start < e and s < end for s, e in taken):
            continue
        if not _is_short_company(value):
            continue
        out.append(Found("company", value, start, start + len(value), role=label, priority=1))
        taken.append((start, start + len(value)))


def _two_cells(text: str, pos: int) -> bool:
    """True when the table row holding ``pos`` has exactly two cells (label and value)."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    row = _split_row(text[line_start : len(text) if line_end < 0 else line_end])
    return row is not None and len(row[1]) == 2


def _is_short_company(value: str) -> bool:
    if value in _NOT_COMPANY or _ORG.search(value) or re.search(r"\d", value):
        return False
    if re.fullmatch(f"[{_CJK}]{{2,12}}", value):
        if _is_cn_name(value) or _GENERIC_CORE.match(value) or _NOT_SHORT_END.search(value):
            return False
        return len(value) >= 4 or bool(re.search(f"(?:{_INDUSTRY_RE})$", value))
    words = value.split()
    return (
        bool(re.fullmatch(r"[A-Z][A-Za-z&'\-.]*(?: [A-Z&][A-Za-z&'\-.]*){0,4}", value))
        and not _is_en_name(value)
        and not all(w.lower() in _EN_NOT_NAME for w in words)
    )


def find_companies(text: str) -> list[Found]:
    """Company names: by legal suffix, by party label, declared short names and title short names."""
    out: list[Found] = []
    fulls: list[tuple[int, int, int]] = []
    for start, end, suffix_len, legal in _cn_companies(text):
        role = _role_before(text, start)
        if _accept_cn(text, start, end, suffix_len, legal, role):
            out.append(Found("company", text[start:end], start, end, role=role, priority=1))
            fulls.append((start, end, suffix_len))
    for start, end in _en_companies(text):
        if any(start < e and s < end for s, e, _ in fulls):
            continue
        name = text[start:end]
        if _ORG.search(name) or re.search(r"\bBank\b|\bCourt\b|Arbitration|Commission", name):
            continue
        suffix = re.search(_EN_SUFFIX + "$", name)
        out.append(Found("company", name, start, end, role=_role_before(text, start), priority=1))
        fulls.append((start, end, len(suffix.group()) if suffix else 0))
    _short_names(text, fulls, out)
    taken = [(f.start, f.end) for f in out]
    _labelled_short(text, out, taken)
    return _dedupe(out)


# Letter-spaced CJK ("联 系 人：张 伟", "报 价 单"): single characters each one space apart.
_SPACED = re.compile(f"[{_CJK}](?:[ 　][{_CJK}])+(?![{_CJK}])")


def _squeeze(text: str) -> tuple[str, list[int]] | None:
    """``text`` with letter-spacing between single CJK characters removed, and for each kept
    character its index in ``text``; None when there is none."""
    runs = [m for m in _SPACED.finditer(text) if not re.match(f"[{_CJK}]", text[m.start() - 1 : m.start()] or " ")]
    if not runs:
        return None
    keep: list[int] = []
    pos = 0
    for m in runs:
        keep.extend(range(pos, m.start()))
        keep.extend(i for i in range(m.start(), m.end()) if text[i] not in " 　")
        pos = m.end()
    keep.extend(range(pos, len(text)))
    return "".join(text[i] for i in keep), keep


def find_names(text: str) -> list[Found]:
    """Companies, persons and addresses of one page's text (the finder the entity facade runs).

    A "person" inside a company name ("To: Acme Trading, Inc." read as Acme Trading) is
    dropped.  Letter-spaced text is read without its spaces; spans still point into ``text``.
    """
    squeezed = _squeeze(text)
    view, index = squeezed if squeezed else (text, [])
    companies = find_companies(view)
    persons = [
        p for p in find_persons(view) if not any(p.start < c.end and c.start < p.end for c in companies)
    ]
    found = companies + persons + find_addresses(view)
    if not squeezed:
        return found
    return [dataclasses.replace(f, start=index[f.start], end=index[f.end - 1] + 1) for f in found]
