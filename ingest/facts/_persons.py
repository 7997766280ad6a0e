"""Personal names in one page's text.

Persons are found where the layout says a name stands: after a label (联系人、经办人、
参会人员 …, Attn:, Contact:), in a table column headed 姓名/联系人/负责人, before a job title
(张三（采购经理）), in e-mail From/To/Cc display names and in a letter's signature.  A name
that is an ordinary word in jieba's dictionary (方案, 张家港) is not a name.

The name tests (:func:`is_cn_name`, :func:`is_en_name`), the table reader
(:func:`column_cells`) and :func:`dedupe` are shared with the company finder in
``ingest.facts._names``, which combines both.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from ingest.facts._common import Found
from ingest.facts._places import label_value_start

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
        "待定",
        "暂无",
        "同上",
        "本人",
        "我方",
        "客户",
        "客户方",
        "甲方",
        "乙方",
        "双方",
        "全体",
        "各方",
        "姓名",
        "职务",
        "电话",
        "手机",
        "邮箱",
        "签字",
        "盖章",
        "日期",
        "负责人",
        "联系人",
        "经办人",
        "代表",
        "无",
        "略",
        "见附件",
        "张家港",
        "王府井",
        "周一",
        "周二",
        "周三",
        "周四",
        "周五",
        "周六",
        "周日",
        "金额",
        "方案",
        "高新",
        "项目",
        "时间",
        "地点",
        "内容",
        "备注",
        "事项",
        "合计",
        "总计",
        "安装",
        "程序",
        "文档",
        "平台",
        "常规",
        "全部",
        "任何",
        "明确",
        "马上",
        "黄金",
        "江南",
        "和平",
        "何时",
        "于是",
        "万元",
        "石油",
        "林业",
        "华为",
        "欧元",
        "美元",
        "日元",
        "韩元",
        "宁波",
        "安徽",
        "江苏",
        "江西",
        "湖南",
        "湖北",
        "海南",
        "云南",
        "贵州",
        "温州",
        "常州",
        "金华",
        "丽水",
        "柳州",
        "梅州",
        "汕头",
        "南京",
        "南通",
        "南昌",
        "南宁",
    ]
)
_PLACE_END = re.compile(r"[港井路街市县区省镇村乡州湾岛]$")


@functools.cache
def _word_tags() -> dict[str, str]:
    """jieba's dictionary word -> part of speech, loaded on first use."""
    import jieba.posseg

    tags: dict[str, str] = jieba.posseg.dt.word_tag_tab
    return tags


def is_cn_name(s: str) -> bool:
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
EN_NOT_NAME = frozenset(
    [
        "manager",
        "director",
        "engineer",
        "sales",
        "team",
        "customer",
        "department",
        "dept",
        "company",
        "group",
        "office",
        "service",
        "services",
        "support",
        "center",
        "centre",
        "procurement",
        "purchasing",
        "finance",
        "account",
        "accounts",
        "it",
        "technical",
        "project",
        "product",
        "general",
        "chief",
        "officer",
        "head",
        "president",
        "assistant",
        "dear",
        "best",
        "regards",
        "thanks",
        "thank",
        "please",
        "yunfan",
        "limited",
        "ltd",
        "inc",
        "corp",
        "co",
        "date",
        "phone",
        "mobile",
        "email",
        "tel",
        "fax",
        "address",
        "subject",
        "quotation",
        "invoice",
        "contract",
        "order",
        "proposal",
        "meeting",
        "visit",
        "report",
        "notes",
        "minutes",
        "the",
        "and",
        "of",
        "for",
        "to",
        "from",
        "with",
        "key",
        "next",
        "china",
        "shanghai",
        "beijing",
        "hangzhou",
        "shenzhen",
        "suzhou",
        "guangzhou",
    ]
)


def is_en_name(s: str) -> bool:
    """True for a labelled Latin-script personal name such as ``Kevin Johnson``."""
    if not _EN_NAME.fullmatch(s):
        return False
    return not any(w.lower() in EN_NOT_NAME for w in re.split(r"[ -]", s))


# Common English given names: a capitalised pair opening with one is an individual (John Smith).
_EN_GIVEN = frozenset(
    [
        "aaron", "adam", "alan", "albert", "alex", "alexander", "alice", "allen", "amanda", "amy", "andrew",
        "angela", "anna", "anne", "anthony", "arthur", "ashley", "barbara", "ben", "benjamin", "betty",
        "bill", "bob", "brandon", "brenda", "brian", "bruce", "carl", "carol", "caroline", "catherine",
        "charles", "charlie", "chris", "christina", "christine", "christopher", "cindy", "claire", "daniel",
        "david", "deborah", "dennis", "diana", "donald", "donna", "dorothy", "douglas", "edward", "elizabeth",
        "emily", "emma", "eric", "eva", "frank", "gary", "george", "grace", "gregory", "hannah", "harry",
        "helen", "henry", "jack", "jacob", "james", "jane", "janet", "jason", "jeff", "jeffrey", "jennifer",
        "jenny", "jerry", "jessica", "jim", "joan", "joe", "john", "jonathan", "joseph", "joshua", "joyce",
        "judy", "julia", "julie", "justin", "karen", "kate", "katherine", "kathy", "keith", "kelly",
        "kenneth", "kevin", "larry", "laura", "lawrence", "leo", "linda", "lisa", "louis", "lucy", "margaret",
        "maria", "marie", "mark", "martha", "martin", "mary", "matthew", "max", "melissa", "michael",
        "michelle", "mike", "nancy", "nathan", "nicholas", "nicole", "oliver", "pamela", "patricia",
        "patrick", "paul", "peter", "philip", "rachel", "raymond", "rebecca", "richard", "robert", "roger",
        "ronald", "rose", "ruth", "ryan", "samuel", "sandra", "sarah", "scott", "sharon", "simon", "sophia",
        "stephen", "steven", "susan", "thomas", "timothy", "tina", "tom", "tony", "victoria", "vincent",
        "walter", "william",
    ]
)  # fmt: skip
# One to three pinyin syllables: a name written in romanised Chinese (Wang Fang, Zhang Xiaoming).
# Only a word's first syllable may open with a vowel (Ouyang); ü is written v after l and n.
_PINYIN_SYLLABLE = (
    r"(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])"
    r"(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|ai|ei|ao|ou|an|en|in|un|ia|ie|iu|ua|uo|ui|ue|"
    r"a|o|e|i|u)|[ln]ve?)"
)
_PINYIN_WORD = re.compile(
    rf"(?:ang|eng|ai|ei|ao|ou|an|en|er|a|o|e|{_PINYIN_SYLLABLE}){_PINYIN_SYLLABLE}{{0,2}}"
)
_FORM_OF_ADDRESS = re.compile(r"(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s")


def is_personal_en(s: str) -> bool:
    """True when a Latin-script name reads as an individual's: Mr./Ms. before it, a common
    given name first (John Smith), or romanised Chinese throughout (Wang Fang)."""
    if _FORM_OF_ADDRESS.match(s):
        return True
    words = [w.lower() for w in re.split(r"[ -]", s) if w]
    return bool(words) and (words[0] in _EN_GIVEN or all(_PINYIN_WORD.fullmatch(w) for w in words))


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
    "参加人", "参与人", "出席人", "列席人", "拜访对象", "记录", "主持", "人员", "列席", "缺席", "代表",
    "负责销售", "所属销售", "跟进销售", "参会", "与会", "陪同", "陪同人", "回访人",
)  # fmt: skip
_EN_PERSON_LABELS = (
    "Customer contact", "Contact person", "Contact", "Attn", "Attention", "Prepared by", "Visited by",
    "Signed by", "Approved by", "Recorded by", "Minutes by", "Sales rep", "Sales", "Account manager",
    "Attendees", "Participants", "Host", "Chair", "Name", "From", "To", "Cc", "Buyer", "Requester", "Requested by",
    "Owner", "Met with", "Meeting with", "Present", "Absent", "Reported by", "Minutes taker", "Note taker",
)  # fmt: skip
# E-mail header labels: a person only at the start of a line (not "Ship To:", "Bill To:").
_HEADER_LABELS = frozenset(["From", "To", "Cc"])
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
    # OCR glues cells together ("…有限公司联系人：欧阳健桂"): a Chinese label with its colon;
    # any short label for a person (收货人：, 汇报人：) and an English gloss (甲方代表（签字）
    # Authorized Signature：) count there too
    rf"|(?P<glued>{_CN_PERSON_LABEL}|[{_CJK}]{{1,3}}人(?![{_CJK}]))(?:[（(][^）)\n]{{1,10}}[）)])?"
    r"(?:[ \t]*[A-Za-z][A-Za-z .'/&]{0,30}[A-Za-z.])?[ \t]*[:：])[ \t|*]*",
    re.MULTILINE,
)
# Labels of other fields that OCR may glue to the end of a name ("何文玉复核：", "冯清强手机：").
FIELD_LABELS = tuple(
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
    rf"[{_CJK}]{{0,4}}?(?:"
    + "|".join(sorted(_TITLE_WORDS[:-3], key=len, reverse=True))
    + rf")(?P<name>[{_CJK}]{{2,4}})$"
)


def _name_of_chunk(chunk: str) -> str | None:
    """The personal name a list chunk holds (title stripped), or None."""
    if is_en_name(chunk):
        return chunk
    for label in FIELD_LABELS:  # "何文玉复核" where OCR lost the gap before the next label
        if chunk.endswith(label) and len(chunk) > len(label) + 1 and is_cn_name(chunk[: -len(label)]):
            return chunk[: -len(label)]
    name, cut = _strip_title(chunk)
    if is_cn_name(name):
        return name
    if cut:
        return None
    # "周晨杰售前工程师" without a separator: a title word after a 2–3 character name
    m = re.match(f"([{_CJK}]{{2,4}}?)(?:{_TITLE_RE.pattern})$", chunk)
    if m and is_cn_name(m.group(1)):
        return m.group(1)
    # "总经理王明", "财务总监李华": the title first
    m = _TITLE_FIRST.match(chunk)
    if m and is_cn_name(m.group("name")):
        return m.group("name")
    # "Mr. Robert Brown", "Ms Li Na"
    m = re.match(r"(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s+(?P<name>.+)$", chunk)
    if m and is_en_name(m.group("name")):
        return m.group("name")
    return None


_SINGLE_VALUE_LABELS = frozenset(
    [
        "联系人",
        "联络人",
        "对接人",
        "经办人",
        "法定代表人",
        "法人代表",
        "授权代表",
        "委托代理人",
        "签约代表",
        "签字人",
        "签署人",
        "签字",
        "报价人",
        "制单人",
        "制表人",
        "填写人",
        "填表人",
        "记录人",
        "主持人",
        "纪要整理",
        "整理人",
        "审核人",
        "审核",
        "审批人",
        "批准人",
        "复核",
        "收款人",
        "开票人",
        "申请人",
        "姓名",
        "Name",
        "Attn",
        "Attention",
        "Contact",
        "Host",
        "Chair",
        "记录",
        "主持",
        "Buyer",
        "Requester",
        "Requested by",
        "Owner",
    ]
)


# Words before "Name" that make it the name of a thing, not of a person (Customer Name, Product Name).
_NOT_PERSON_NAME_OF = re.compile(
    r"(?i)(?<![A-Za-z])(?:customer|client|company|account|bank|product|project|file|item|model|brand|business|"
    r"trade|organi[sz]ation|vendor|supplier|entity|store|shop|branch|department|dept|team|group|event|"
    r"document|domain|server|city|country|street)[ \t]*$"
)


def _labelled_persons(text: str, out: list[Found]) -> None:
    for m in _PERSON_LABEL_RE.finditer(text):
        label = m.group("label") or m.group("glued")
        start = label_value_start(text, m.end())
        end = _region_end(text, start)
        region = text[start : min(end, start + 160)]
        line_head = text[text.rfind("\n", 0, m.start()) + 1 : m.start()]
        if label in _HEADER_LABELS and (not re.match(r"[ \t]*\S", region) or line_head.strip(" \t>")):
            continue
        if label == "Name" and _NOT_PERSON_NAME_OF.search(text, max(0, m.start() - 24), m.start()):
            continue  # "Customer Name: Pacific Rim" names a company, not a person
        single = label in _SINGLE_VALUE_LABELS or label.endswith(
            ("联系人", "负责人", "对接人", "代表", "经办人")
        )
        email_header = label in ("From", "To", "Cc", "发件人", "收件人", "抄送")
        chunks = _english_chunks(region) if email_header or re.match(r"[ \t]*[A-Z]", region) else None
        pieces = list(chunks) if chunks is not None else list(_person_chunks(region))
        for k, (offset, chunk) in enumerate(pieces):
            name = _name_of_chunk(chunk) if not email_header else _name_of_chunk(chunk.strip(" '\""))
            if name is None and email_header and re.search(f"[{_CJK}]", chunk):
                name = next((n for _, c in _person_chunks(chunk) if (n := _name_of_chunk(c))), None)
            if name is None:
                if single and not (k == 0 and _DEPARTMENT.search(chunk)):
                    break  # a department may stand first: 值班负责人：行政部 周琳
                continue
            at = text.find(name, start + offset)
            if at < 0:
                continue
            out.append(Found("person", name, at, at + len(name), role=label, priority=1))
            if single:
                break


# A department before the name under a person label (行政部 周琳, 财务部 杨帆).
_DEPARTMENT = re.compile(rf"^[{_CJK}]{{1,8}}(?:部|科|处|室|组|中心|办公室|事业部|项目组)$")


# Column headers whose cells hold personal names.
_NAME_COLUMNS = frozenset(
    [
        "姓名",
        "联系人",
        "负责人",
        "跟进人",
        "销售",
        "销售代表",
        "销售员",
        "业务员",
        "经办人",
        "拜访人",
        "拜访人员",
        "客户经理",
        "责任人",
        "参会人",
        "主讲人",
        "记录人",
        "name",
        "contact",
        "owner",
        "sales",
        "attendee",
    ]
)


def split_row(line: str) -> tuple[str, list[tuple[int, str]]] | None:
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


def column_cells(text: str, headers: frozenset[str]) -> Iterator[tuple[int, str, str]]:
    """(absolute offset, cell text, header) of every cell under a column whose header is in ``headers``."""
    lines = text.split("\n")
    offsets = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    i = 0
    while i < len(lines):
        row = split_row(lines[i])
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
            nxt = split_row(line)
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
    for at, cell, header in column_cells(text, _NAME_COLUMNS):
        for offset, chunk in _person_chunks(cell):
            name = _name_of_chunk(chunk)
            if name:
                pos = text.find(name, at + offset)
                out.append(Found("person", name, pos, pos + len(name), role=header, priority=1))


_TITLE_AFTER = re.compile(r"[（(](?P<title>" + _TITLE_RE.pattern + r")[）)]")
_NAME_BEFORE_TITLE = re.compile(
    rf"(?:^|(?<=[\s|•·*、，,；;：:。]))(?P<name>[{_CJK}]{{2,4}})[ 　]{{1,4}}"
    r"(?P<title>(?:[^\s，,。；;]{0,8}?)(?:"
    + "|".join(sorted(_TITLE_WORDS[:-3], key=len, reverse=True))
    + r"))"
    r"(?=\s|$|[，,。；;])",
    re.MULTILINE,
)
# "信息科科长 彭宇": a job title, a space, then the name.
_TITLE_THEN_NAME = re.compile(
    r"(?:" + "|".join(sorted(_TITLE_WORDS[:-4], key=len, reverse=True)) + r")[ 　]{1,2}"
    rf"(?P<name>[{_CJK}]{{2,4}}?)(?=$|[\s，,。；;、（(])",
    re.MULTILINE,
)
# "周琳（手机 13760218894）", "张伟(138 0013 8000)": a name with its phone in brackets.
_CONTACT_AFTER = re.compile(
    r"[（(](?:(?:手机|电话|座机|联系电话|电话号码|Tel|Mobile|Phone)[ \t]*[:：]?[ \t]*)?"
    r"(?:\+?86[ \-]?)?(?:1[3-9]\d|0\d{2,3}[ \-]?)\d"
)
_FUNCTION_CHARS = set("由与和及同向对为在从给把被让是了的将经据致请等约令派")
_ACT_AFTER_NAME = re.compile(
    rf"(?:^|(?<=[\s，,。；;：:、])|(?<=\d\.))(?:由|请|约|让|通知|派)?(?P<name>[{_CJK}]{{2,4}}?)"
    r"(?:负责|跟进|对接|牵头|陪同|介绍了|讲解了|表示|提出|补充|汇报了|确认了)",
    re.MULTILINE,
)


def _titled_persons(text: str, out: list[Found]) -> None:
    after = [*_TITLE_AFTER.finditer(text), *_CONTACT_AFTER.finditer(text)]
    for m in after:
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
            if boundary and is_cn_name(name):
                out.append(Found("person", name, start, pos, priority=1))
                break
    for m in _NAME_BEFORE_TITLE.finditer(text):
        if is_cn_name(m.group("name")):
            out.append(Found("person", m.group("name"), m.start("name"), m.end("name"), priority=1))
    for m in _ACT_AFTER_NAME.finditer(text):
        if is_cn_name(m.group("name")):
            out.append(Found("person", m.group("name"), m.start("name"), m.end("name"), priority=1))
    for m in _TITLE_THEN_NAME.finditer(text):
        if is_cn_name(m.group("name")):
            out.append(Found("person", m.group("name"), m.start("name"), m.end("name"), priority=1))


# After a colon, a list of two or more items that are all personal names (Our side: 陈立新, 黄志强).
_NAME_LIST = re.compile(
    rf"[:：][ \t]*(?P<list>[{_CJK}]{{2,4}}(?:[ \t]*[、，,；;][ \t]*[{_CJK}]{{2,4}})+)"
    r"[ \t]*(?:[（(][^（）()\n]{1,12}[）)])?[ \t]*(?=$|[。.；;])",
    re.MULTILINE,
)


def _listed_persons(text: str, out: list[Found]) -> None:
    for m in _NAME_LIST.finditer(text):
        names = [(n.start(), n.group()) for n in re.finditer(f"[{_CJK}]+", m.group("list"))]
        if len(names) >= 2 and all(is_cn_name(n) for _, n in names):
            base = m.start("list")
            out.extend(Found("person", n, base + at, base + at + len(n), priority=1) for at, n in names)


_CLOSING = re.compile(
    r"^[ \t]*(?:Best regards|Kind regards|Regards|Best|Thanks|Thank you|Sincerely|此致|敬礼|祝好|"
    r"顺祝商祺|顺颂商祺|谢谢|此致敬礼)[,，!！。]?[ \t]*\n[ \t]*(?P<name>[^\n]{2,30})$",
    re.MULTILINE,
)


# A line holding only a name, with a job title or a company on the next line (a signature).
# Every legal form (有限公司 …) contains one of these endings.
_COMPANY_WORD = re.compile(r"公司|集团|研究院|研究所|设计院|事务所|中心|厂|商行|工作室|合作社")
_SIGNATURE = re.compile(
    rf"^[ \t]*(?P<name>[{_CJK}]{{2,4}})[ \t]*\n[ \t]*(?P<next>[^\n]{{2,40}})$", re.MULTILINE
)


def _signature_persons(text: str, out: list[Found]) -> None:
    for m in _SIGNATURE.finditer(text):
        nxt = m.group("next").strip()
        if (_TITLE_RE.fullmatch(nxt) or _COMPANY_WORD.search(nxt)) and is_cn_name(m.group("name")):
            out.append(
                Found("person", m.group("name"), m.start("name"), m.end("name"), role="署名", priority=1)
            )
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
    _listed_persons(text, out)
    _signature_persons(text, out)
    return dedupe(out)


def dedupe(found: list[Found]) -> list[Found]:
    """One candidate per span; a candidate with a role beats one without."""
    best: dict[tuple[str, int, int], Found] = {}
    for f in found:
        key = (f.kind, f.start, f.end)
        if key not in best or (f.role and not best[key].role):
            best[key] = f
    return sorted(best.values(), key=lambda f: (f.start, f.end))
