"""Company names in one page's text, and :func:`find_names`, which adds persons and addresses.

Companies are found by their legal-form suffix (有限公司, 股份有限公司, Co., Ltd., Inc. …) with
the start of the name worked out from the labels, punctuation and place names before it;
by a party label (甲方：, 客户名称：, Customer:) holding a short name; by a declared short
name (以下简称“金桥电气”); and by a short form of a full name on the same page, or a
字号 + 行业 short name, in the title or subject line.  Banks, courts, arbitration commissions
and tax offices are organisations, not companies.  Persons are found in ``ingest.facts._persons``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

from ingest.facts._common import Found
from ingest.facts._persons import (
    EN_NOT_NAME,
    FIELD_LABELS,
    column_cells,
    dedupe,
    find_persons,
    is_cn_name,
    is_en_name,
    is_personal_en,
    split_row,
)
from ingest.facts._places import find_addresses, label_value_start, region_prefix

_CJK = "\u4e00-\u9fff"

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
# A placeholder, not a name: 某某科技有限公司, XX公司, ×××有限公司.
_PLACEHOLDER = re.compile(r"^(?:某+|[Xx×＊*○〇]{2,}|示例|样例)")
_BRANCH = re.compile(f"[{_CJK}]{{1,8}}?(?:分公司|分厂|办事处|营业部)")
_NAME_BODY = re.compile(f"[{_CJK}A-Za-z0-9]")
_MAX_NAME = 40

# Column headers whose cells hold company names.
_COMPANY_COLUMNS = frozenset(
    [
        "客户",
        "客户名称",
        "公司",
        "公司名称",
        "单位",
        "单位名称",
        "企业名称",
        "客户简称",
        "customer",
        "client",
        "company",
    ]
)
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
    "Customer Name", "Client Name", "Company Name", "Customer", "Client", "Company", "Buyer", "Seller",
    "Supplier", "Vendor", "Bill To", "Sold To", "Ship To", "Party A", "Party B", "To", "Messrs",
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
        "甲方名称",
        "乙方名称",
        "买方名称",
        "卖方名称",
        "购买方名称",
        "销售方名称",
        "供应商名称",
        "客户名称",
        "客户简称",
        "客户",
        "公司名称",
        "单位名称",
        "企业名称",
        "简称",
        "甲方",
        "乙方",
        "买方",
        "卖方",
        "委托方",
        "受托方",
        "供方",
        "需方",
        "供货方",
        "采购方",
        "服务方",
        "承包方",
        "发包方",
        "购买方",
        "销售方",
        "Customer",
        "Client",
        "Company",
        "Buyer",
        "Seller",
        "Supplier",
        "Vendor",
        "Customer Name",
        "Client Name",
        "Company Name",
        "客户单位",
        "客户全称",
        "公司全称",
        "公司简称",
        "全称",
        "单位",
        "报价方",
        "询价方",
    ]
)
_NOT_COMPANY = frozenset(
    [
        "待定",
        "暂无",
        "无",
        "同上",
        "个人",
        "本公司",
        "我司",
        "贵司",
        "本司",
        "我方",
        "客户方",
        "甲方",
        "乙方",
        "双方",
        "全体",
        "名称",
        "盖章",
        "签章",
        "签字",
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
        "讨论",
        "选择",
        "委托",
        "签订",
        "签署",
        "联系",
        "拜访",
        "走访",
        "代表",
        "采购",
        "购买",
        "提交",
        "通知",
        "确认",
        "介绍",
        "推荐",
        "合作",
        "对接",
        "负责",
        "跟进",
        "会上",
        "本合同",
        "本协议",
        "双方",
        "顺带",
        "以及",
        "及其",
        "关于",
        "通过",
        "根据",
        "按照",
        "其中",
        "包括",
        "例如",
        "比如",
        "如",
        "即",
        "系",
        "为",
        "是",
        # labels OCR glued to the name ("乙方（盖章杭州…", "客户名称光华物流…")
        "盖章",
        "签章",
        "签字",
        "公章",
        "名称",
        "单位",
        "甲方",
        "乙方",
        "丙方",
        "买方",
        "卖方",
        "供方",
        "需方",
        "委托方",
        "受托方",
        "供应商",
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
        if (
            token.word in _CUT_WORDS
            or token.flag.startswith(_CUT_TAGS)
            or re.fullmatch(r"\d+[年月日号]?", token.word)
        ):
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
    if len(core) < 2 or _GENERIC_CORE.match(core) or name in _NOT_COMPANY or _PLACEHOLDER.match(core):
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


_EN_TITLE_LEAD = re.compile(
    r"(?:[^,\n]*\b(?:Engineer|Manager|Director|Officer|President|Assistant|Specialist|Consultant|"
    r"Representative|Executive|Sales|Department|Dept|Team|Architect|Head|Lead|Coordinator)\.?,[ ]+)+",
    re.IGNORECASE,
)


def _en_companies(text: str) -> Iterator[tuple[int, int]]:
    for m in _EN_COMPANY.finditer(text):
        start = m.start("name")
        year = re.match(
            r"(?:©\s*)?(?:19|20)\d\d,?\s+", m.group("name")
        )  # "© 2022, Amazon Web Services, Inc."
        if year:
            start += year.end()
        lead = _EN_LEAD.match(text, start)
        if lead:
            start = lead.end()
        title = _EN_TITLE_LEAD.match(text, start, m.start("suffix"))
        if title:  # a signature line: "Pre-sales Engineer, Shenzhen Yunfan … Co., Ltd."
            start = title.end()
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
        "数据",
        "网络",
        "信息",
        "系统",
        "项目",
        "年度",
        "公司",
        "客户",
        "产品",
        "技术",
        "服务",
        "园区",
        "机房",
        "办公",
        "我司",
        "本司",
        "关于",
        "销售",
        "采购",
        "合同",
        "报价",
        "会议",
        "方案",
        "季度",
        "工业",
        "企业",
        "行业",
        "国际",
        "中国",
        "全国",
        "智能",
        "安全",
        "云端",
        "私有",
        "混合",
        "综合",
        "整体",
        "重点",
        "核心",
        "年终",
        "月度",
        "周报",
        "日报",
        "市场",
        "商务",
        "财务",
        "人力",
        "行政",
        "运维",
        "售后",
        "集团",
        "智慧",
        "数字",
        "新版",
        "最新",
        "正式",
        "草稿",
        "修订",
        "第一",
        "第二",
        "第三",
        "北京",
        "上海",
        "天津",
        "重庆",
        "华东",
        "华南",
        "华北",
        "华中",
        "西南",
        "西北",
        "东北",
        "全球",
        "海外",
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
_DECLARED_GAP = 4
# A party label whose value the declaration follows: 甲方：明远（以下简称“明远”）.
_PARTY_BEFORE = re.compile(
    r"(?:甲方|乙方|丙方|买方|卖方|供方|需方|委托方|受托方)[（(]?[^）)\n]{0,6}[）)]?[:：][^\n]{1,16}[（(，,]?$"
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
# A place named after a company (汇通物流园, 明远科技大厦) is not the company.
_PLACE_AFTER = re.compile(r"[园路街道巷楼厦城港站场村镇]|广场|中心|基地|小区")
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
            # the 字号 may follow a district or other word: 天津滨海启航电子 -> 启航电子
            core = brand + rest
            m = re.search(f"([{_CJK}]{{2}})((?:{_INDUSTRY_RE})+)$", core)
            if m and m.start() > 0 and m.group(1) not in _NOT_BRAND:
                brands.setdefault(m.group(1), m.group(2))
    en_names = [text[s:e] for s, e, _ in fulls if re.match(r"[A-Za-z0-9]", text[s:e])]

    def free(a: int, b: int) -> bool:
        return not any(a < e and s < b for s, e in taken)

    def add(a: int, b: int, role: str) -> None:
        value = text[a:b]
        if free(a, b) and value not in _NOT_COMPANY and not _ORG.search(value):
            out.append(Found("company", value, a, b, role=role, priority=1))
            taken.append((a, b))

    # short forms of a full name anywhere on the page (海岳食品近年来…, 会议主题：启航电子…)
    for brand, rest in brands.items():
        for m in re.finditer(re.escape(brand), text):
            a = m.start()
            b = _short_after(text, a + 2, rest)
            if b > a + 2 + 1 and "\n" not in text[a:b] and not _PLACE_AFTER.match(text, b):
                add(a, b, "简称")
    for line_start, line_end in _head_spans(text):
        line = text[line_start:line_end]
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
        tail = re.search(
            rf"[-–—]\s*(?P<t>[{_CJK}]{{2}}(?:{_INDUSTRY_RE})|[A-Z][A-Za-z]+(?: [A-Z][A-Za-z]+){{0,2}})\s*$",
            line,
        )
        if tail and line.lstrip().lower().startswith(("subject:", "re:", "fw:", "主题")):
            t = tail.group("t")
            if t[:2] not in _NOT_BRAND and not any(w.lower() in EN_NOT_NAME for w in t.split()):
                add(line_start + tail.start("t"), line_start + tail.end("t"), "主题")
    for m in _DECLARED.finditer(text):
        group = "name" if m.group("name") else "en"
        value = m.group(group)
        if value.lower() in _ROLE_WORDS or value in _NOT_COMPANY or is_cn_name(value):
            continue
        # the short name of a company only: a full name (or a party label) stands right before
        # the declaration; "云帆CRM软件（以下简称"许可软件"）" names a product
        if not any(0 <= m.start() - e <= _DECLARED_GAP for _s, e, _n in fulls) and not _PARTY_BEFORE.search(
            text, max(0, m.start() - 24), m.start()
        ):
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
            value = next((value[: -len(w)] for w in FIELD_LABELS if value.endswith(w)), value)
        spans.append((start, start + len(value), label))
    for at, cell, header in column_cells(text, _COMPANY_COLUMNS):
        spans.append((at, at + len(cell), header))
    for start, end, label in spans:
        value = text[start:end].strip()
        if any(start < e and s < end for s, e in taken):
            continue
        if not _is_short_company(value, label):
            continue
        out.append(Found("company", value, start, start + len(value), role=label, priority=1))
        taken.append((start, start + len(value)))


def _two_cells(text: str, pos: int) -> bool:
    """True when the table row holding ``pos`` has exactly two cells (label and value)."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    row = split_row(text[line_start : len(text) if line_end < 0 else line_end])
    return row is not None and len(row[1]) == 2


# Labels (and column headers, spaces dropped, lower case) that name the customer or the company:
# two or three capitalised words after one are the company's short name ("Customer: Pacific Rim"),
# not a person's name, unless they read as an individual's (John Smith, Wang Fang).
_CUSTOMER_LABELS = frozenset(
    [
        "客户", "客户名称", "客户简称", "客户全称", "客户单位", "公司名称", "公司简称", "公司全称", "customer",
        "customername", "client", "clientname", "company", "companyname",
    ]
)  # fmt: skip
# Words that make capitalised words a business under any party label ("Buyer: Acme Trading").
_EN_BUSINESS = frozenset(
    [
        "trading", "traders", "trade", "logistics", "logistic", "electronics", "electric", "electrical",
        "pharma", "pharmaceutical", "pharmaceuticals", "technology", "technologies", "tech", "systems",
        "solutions", "holdings", "industries", "industrial", "partners", "capital", "ventures", "media",
        "foods", "motors", "software", "labs", "networks", "consulting", "consultants", "leasing",
        "chemicals", "chemical", "medical", "machinery", "materials", "textiles", "textile", "retail",
        "express", "shipping", "freight", "marine", "realty", "properties", "semiconductor", "semiconductors",
        "instruments", "precision", "biotech", "healthcare", "automation", "robotics", "engineering",
        "construction", "investment", "investments", "insurance", "associates", "enterprises", "enterprise",
        "manufacturing", "imports", "exports", "import", "export", "distribution", "components", "automotive",
        "cargo", "mining", "metals", "steel", "telecom", "communications", "studio", "studios", "supply",
        "apparel", "pharmacy", "hotels", "airlines", "packaging", "plastics", "printing", "furniture",
        "appliances", "optics", "optical", "energy", "solar", "brothers", "bros",
    ]
)  # fmt: skip


def _is_short_company(value: str, label: str) -> bool:
    """True when ``value``, found under the party label or column header ``label``, is a short company name."""
    if value in _NOT_COMPANY or _ORG.search(value) or re.search(r"\d", value):
        return False
    if re.fullmatch(f"[{_CJK}]{{2,12}}", value):
        if is_cn_name(value) or _GENERIC_CORE.match(value) or _NOT_SHORT_END.search(value):
            return False
        return len(value) >= 4 or bool(re.search(f"(?:{_INDUSTRY_RE})$", value))
    words = value.split()
    if not re.fullmatch(r"[A-Z][A-Za-z&'\-.]*(?: [A-Z&][A-Za-z&'\-.]*){0,4}", value) or all(
        w.lower() in EN_NOT_NAME for w in words
    ):
        return False
    if not is_en_name(value):  # four words, a dot, an "&", a role word: not a personal name
        return not is_personal_en(value)
    if any(w.lower() in _EN_BUSINESS for w in words):
        return True
    return re.sub(r"\s", "", label).lower() in _CUSTOMER_LABELS and not is_personal_en(value)


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
    return dedupe(out)


# Letter-spaced CJK ("联 系 人：张 伟", "报 价 单"): single characters each one space apart.
_SPACED = re.compile(f"[{_CJK}](?:[ 　][{_CJK}])+(?![{_CJK}])")


def _squeeze(text: str) -> tuple[str, list[int]] | None:
    """``text`` with letter-spacing between single CJK characters removed, and for each kept
    character its index in ``text``; None when there is none."""
    runs = [
        m for m in _SPACED.finditer(text) if not re.match(f"[{_CJK}]", text[m.start() - 1 : m.start()] or " ")
    ]
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
