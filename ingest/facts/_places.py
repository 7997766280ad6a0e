"""Addresses in running text, and the (province, city) an address or a text names.

An address is found after an address label (地址、注册地址、Address …) or, unlabelled, as a
string that starts with a province or city name and goes down to street level (路/街/号 …).
Its value is the address as written, whitespace trimmed.  :func:`region_of` reads the
province and prefecture-level city from the built-in table of China's 34 provincial-level
divisions below; nothing is downloaded.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from ingest.facts._common import Found

# One line per provincial-level division: its full name, then its prefecture-level
# divisions.  A bare word is a city whose full name adds 市; an entry with a suffix
# (自治州, 地区, 盟) is written in full, optionally followed by "|" and its short form.
# Municipalities and the SARs are their own city.
_REGION_DATA = """\
北京市
天津市
上海市
重庆市
河北省 石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水
山西省 太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁
内蒙古自治区 呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布 兴安盟|兴安 锡林郭勒盟|锡林郭勒 阿拉善盟|阿拉善
辽宁省 沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛
吉林省 长春 吉林 四平 辽源 通化 白山 松原 白城 延边朝鲜族自治州|延边
黑龙江省 哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化 大兴安岭地区|大兴安岭
江苏省 南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁
浙江省 杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水
安徽省 合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城
福建省 福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德
江西省 南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶
山东省 济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽
河南省 郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店 济源
湖北省 武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州 恩施土家族苗族自治州|恩施
湖南省 长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 湘西土家族苗族自治州|湘西
广东省 广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山 潮州 揭阳 云浮
广西壮族自治区 南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左
海南省 海口 三亚 三沙 儋州
四川省 成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳 阿坝藏族羌族自治州|阿坝 甘孜藏族自治州|甘孜 凉山彝族自治州|凉山
贵州省 贵阳 六盘水 遵义 安顺 毕节 铜仁 黔西南布依族苗族自治州|黔西南 黔东南苗族侗族自治州|黔东南 黔南布依族苗族自治州|黔南
云南省 昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧 楚雄彝族自治州|楚雄 红河哈尼族彝族自治州|红河 文山壮族苗族自治州|文山 西双版纳傣族自治州|西双版纳 大理白族自治州|大理 德宏傣族景颇族自治州|德宏 怒江傈僳族自治州|怒江 迪庆藏族自治州|迪庆
西藏自治区 拉萨 日喀则 昌都 林芝 山南 那曲 阿里地区|阿里
陕西省 西安 铜川 宝鸡 咸阳 渭南 延安 汉中 榆林 安康 商洛
甘肃省 兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南 临夏回族自治州|临夏 甘南藏族自治州|甘南
青海省 西宁 海东 海北藏族自治州|海北 黄南藏族自治州|黄南 海南藏族自治州 果洛藏族自治州|果洛 玉树藏族自治州|玉树 海西蒙古族藏族自治州|海西
宁夏回族自治区 银川 石嘴山 吴忠 固原 中卫
新疆维吾尔自治区 乌鲁木齐 克拉玛依 吐鲁番 哈密 昌吉回族自治州|昌吉 博尔塔拉蒙古自治州|博尔塔拉 巴音郭楞蒙古自治州|巴音郭楞 阿克苏地区|阿克苏 克孜勒苏柯尔克孜自治州|克孜勒苏 喀什地区|喀什 和田地区|和田 伊犁哈萨克自治州|伊犁 塔城地区|塔城 阿勒泰地区|阿勒泰
台湾省 台北 新北 桃园 台中 台南 高雄 基隆 新竹 嘉义
香港特别行政区
澳门特别行政区
"""

# Short forms of the provincial-level names as they open an address ("浙江杭州…", "广西南宁…").
_PROVINCE_SHORT = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "宁夏回族自治区": "宁夏",
    "新疆维吾尔自治区": "新疆",
    "香港特别行政区": "香港",
    "澳门特别行政区": "澳门",
}


class _Regions:
    """The region table as lookups: province names, city names, and both combined in one regex."""

    def __init__(self) -> None:
        self.province_of_name: dict[str, str] = {}  # any province form -> full province
        self.city_of_name: dict[str, tuple[str, str]] = {}  # full city -> (province, city)
        self.city_short: dict[str, tuple[str, str]] = {}  # short city -> (province, city)
        self.cities_in: dict[str, dict[str, str]] = {}  # province -> {city form: full city}
        self.city_after: dict[str, re.Pattern[str]] = {}  # province -> its city forms
        for line in _REGION_DATA.splitlines():
            name, *cities = line.split()
            self.province_of_name[name] = name
            short = _PROVINCE_SHORT.get(name) or re.sub(r"[省市]$", "", name)
            self.province_of_name[short] = name
            forms: dict[str, str] = {}
            if not cities:  # a municipality or SAR is its own city
                forms[name] = name
                forms[short] = name
                self.city_of_name[name] = (name, name)
            for entry in cities:
                full, _, alias = entry.partition("|")
                if not full.endswith(("自治州", "地区", "盟")):
                    alias, full = full, full + "市"
                self.city_of_name[full] = (name, full)
                forms[full] = full
                if alias:
                    forms[alias] = full
                    # 吉林 (the province) and 海南 (the province) keep their short forms
                    if alias not in self.province_of_name:
                        self.city_short.setdefault(alias, (name, full))
            self.cities_in[name] = forms
            self.city_after[name] = _alternation(forms)
        self.province_re = _alternation(self.province_of_name)
        self.city_re = _alternation(self.city_of_name)
        self.short_re = _alternation(self.city_short)


def _alternation(names: Mapping[str, object]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))


@functools.cache
def _regions() -> _Regions:
    return _Regions()


def _city_after(province: str, text: str, pos: int) -> str:
    """The city named right at ``pos`` (after the province), full form, or ""."""
    regions = _regions()
    m = regions.city_after[province].match(text, pos)
    return regions.cities_in[province][m.group()] if m else ""


def region_prefix(text: str) -> str:
    """The place name that opens ``text`` as written (浙江省杭州市, 上海, 杭州市), or ""."""
    regions = _regions()
    m = regions.province_re.match(text)
    if m:
        province = regions.province_of_name[m.group()]
        city = regions.city_after[province].match(text, m.end())
        return text[: city.end()] if city else m.group()
    m = regions.city_re.match(text) or regions.short_re.match(text)
    return m.group() if m else ""


def region_of(address_or_text: str) -> tuple[str, str] | None:
    """(province, city) in full official form that an address names, else None.

    ``浙江省杭州市西湖区…`` and ``杭州市西湖区…`` give ``("浙江省", "杭州市")``; a municipality
    is its own city (``("上海市", "上海市")``).  When only the province is named the city is
    ``""``.  Short city names (``杭州``) count only where the text starts with them or right
    after a province, so that a district such as 北京市朝阳区 is not read as 朝阳市.
    """
    text = re.sub(r"\s+", "", address_or_text or "")
    if not text:
        return None
    regions = _regions()
    m_full = regions.city_re.search(text)
    m_prov = regions.province_re.search(text)
    # the earlier name wins; at the same place the longer one (海南藏族自治州 over 海南)
    if m_prov and (
        m_full is None
        or m_prov.start() < m_full.start()
        or (m_prov.start() == m_full.start() and len(m_prov.group()) >= len(m_full.group()))
    ):
        province = regions.province_of_name[m_prov.group()]
        pos = m_prov.end()
        if province in regions.city_of_name:  # municipality: 上海市 / 上海
            return province, province
        city = _city_after(province, text, pos)
        if not city and m_full and regions.city_of_name[m_full.group()][0] == province:
            city = m_full.group()
        return province, city
    if m_full:
        return regions.city_of_name[m_full.group()]
    m_short = regions.short_re.match(text)
    if m_short:
        return regions.city_short[m_short.group()]
    return None


# --- address finder -------------------------------------------------------------------

_NEXT_IS_LABEL = re.compile(r"[ \t]*[^\s:：]{1,12}[ \t]*[:：]")


def label_value_start(text: str, pos: int) -> int:
    """Where the value of a label ending at ``pos`` starts.

    Usually right there; when the label ends its line (a form rendered as label line,
    value line: ``联系人：`` newline ``张三``), the value is the next line, unless that line
    is itself a label.
    """
    line_end = text.find("\n", pos)
    if line_end < 0 or text[pos:line_end].strip() or not re.search(r"[:：]\s*$", text[max(0, pos - 3) : pos]):
        return pos
    nxt = line_end + 1
    nxt_end = text.find("\n", nxt)
    line = text[nxt : len(text) if nxt_end < 0 else nxt_end]
    if not line.strip() or _NEXT_IS_LABEL.match(line):
        return pos
    return nxt + len(line) - len(line.lstrip())


_ADDRESS_LABEL = re.compile(
    r"(?P<label>(?:注册|通讯|通信|联系|收货|送货|发货|办公|公司|单位|详细|经营|邮寄|收件|住所)?地址"
    r"(?:、电话)?|住所地?|地点|Address|Addr\.?)"
    r"(?:[ \t]*(?:[:：]|\t|\|)[ \t|*]*|(?<=[址所点])[ 　]+)",
    re.IGNORECASE,
)
# Street-level words: what makes a place name an address.
_STREET = re.compile(r"[路街道巷弄号村镇乡组室楼层座幢栋]|大厦|园区|广场|中心|工业园|开发区")
# Characters an address may hold: CJK, digits, Latin (A座, B1), and the joiners used in
# building numbers.  It stops at spaces, TABs, sentence punctuation and phone numbers.
_ADDR_BODY = re.compile(r"[\u4e00-\u9fff0-9A-Za-z０-９Ａ-Ｚａ-ｚ（）()\-－—#＃·]+")
_TRAIL_PUNCT = "（(-－—#＃·"
# A phone glued to the address (OCR may read 0571 as 05Z1), or the next field's label.
_PHONE_TAIL = re.compile(r"(?:[0-9OZSIl]{3,4}-)?\d{7,8}$|1\d{10}$")
_NEXT_FIELD = re.compile(r"(?:联系)?电话|手机|传真|邮编|邮政编码|联系人|电子邮箱|邮箱|开户行|Tel|Phone|Fax")


def _address_at(text: str, pos: int) -> tuple[int, int] | None:
    """The span of an address that starts at ``pos``, or None."""
    m = _ADDR_BODY.match(text, pos)
    if not m:
        return None
    end = m.end()
    raw = text[pos:end]
    nxt = _NEXT_FIELD.search(raw)
    if nxt and nxt.start() >= 6:
        end = pos + nxt.start()
        raw = text[pos:end]
    # "…907室 010-89486891" stops at the space; a phone glued on ("…907室010-8948") is cut.
    tail = _PHONE_TAIL.search(raw)
    if tail and tail.start() > 0 and not raw[tail.start() - 1].isdigit():
        end = pos + tail.start()
    # an unbalanced opening bracket belongs to the text around the address
    while end > pos and text[end - 1] in _TRAIL_PUNCT:
        end -= 1
    span = text[pos:end]
    if span.count("（") + span.count("(") > span.count("）") + span.count(")"):
        cut = max(span.rfind("（"), span.rfind("("))
        end = pos + cut
        span = text[pos:end]
    if len(span) < 6 or not _STREET.search(span):
        return None
    if not re.search(r"[\u4e00-\u9fff]", span):
        return None
    return pos, end


_LATIN_ADDRESS = re.compile(
    r"[A-Za-z0-9#][A-Za-z0-9#.,'’ /\-]{8,150}?(?=\s*(?:\t|\n|$| {2,}|[;；|]|Tel|Phone|Fax|E-?mail))",
    re.IGNORECASE,
)
_LATIN_STREET = re.compile(
    r"\b(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Building|Bldg|Floor|Room|Suite|"
    r"No\.|District|Park|Tower|Plaza)\b",
    re.IGNORECASE,
)


def _latin_address_at(text: str, pos: int) -> tuple[int, int] | None:
    """An English address after an ``Address:`` label: up to the end of the cell or line."""
    m = _LATIN_ADDRESS.match(text, pos)
    if not m:
        return None
    value = m.group().rstrip(" ,.")
    if not (re.search(r"\d", value) and _LATIN_STREET.search(value)):
        return None
    return pos, pos + len(value)


def _starts_with_region(text: str, pos: int) -> bool:
    regions = _regions()
    return bool(regions.province_re.match(text, pos) or regions.city_re.match(text, pos))


def find_addresses(text: str) -> list[Found]:
    """Addresses after an address label, or opening with a province/city name down to street level."""
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    for m in _ADDRESS_LABEL.finditer(text):
        start = label_value_start(text, m.end())
        span = _address_at(text, start) or _latin_address_at(text, start)
        if span is None:
            continue
        # 地点 (签订地点, 会议地点) is an address only when it names a region and a street
        if m.group("label").endswith("地点") and not _starts_with_region(text, start):
            continue
        label = re.sub(r"、电话$", "", m.group("label"))
        found.append(Found("address", text[span[0] : span[1]], span[0], span[1], role=label, priority=1))
        taken.append(span)
    regions = _regions()
    for m in regions.province_re.finditer(text):
        _unlabelled(text, m.start(), taken, found)
    for m in regions.city_re.finditer(text):
        _unlabelled(text, m.start(), taken, found)
    return found


def _unlabelled(text: str, start: int, taken: list[tuple[int, int]], found: list[Found]) -> None:
    if any(s <= start < e for s, e in taken):
        return
    # the address must open a line, a cell or a clause, not continue a word (上海市 in 上海市场)
    prev = text[start - 1] if start else "\n"
    if re.match(r"[\u4e00-\u9fffA-Za-z0-9]", prev) and prev not in "于至在到往":
        return
    span = _address_at(text, start)
    if span is None:
        return
    value = text[span[0] : span[1]]
    # an address names at least a district, county or road after the city
    if not re.search(r"[区县旗路街道]", value):
        return
    found.append(Found("address", value, span[0], span[1], priority=1))
    taken.append(span)
