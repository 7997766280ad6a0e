"""Customer linking: which registry customers a document is about.  Pure: no database.

A :class:`Registry` is built once from :class:`RegistryEntry` values (the caller reads them
from the customer table); :meth:`Registry.link` takes a document's entities and text and
returns :class:`Link` values, strongest evidence first:

``credit_code``
    a 统一社会信用代码 entity equal to the customer's code, character for character.  A code
    flagged invalid still links when it is equal; one that differs by a character does not
    (it may still link by name).
``name``
    a company entity, or a run of the text, equal to the registered full name after
    :func:`normalize_name` (NFKC, case folded, no spaces or punctuation, one kind of bracket,
    traditional characters folded to simplified ones).
``alias``
    a registered short name as a company entity, or standing in the text as a whole: not a
    part of a longer company name that is someone else (明远 in 北京明远物流有限公司), not a
    street or place (明远路), not inside a longer Latin word or an e-mail address.
``fuzzy``
    a company entity whose name is similar to the full name (rapidfuzz ``ratio`` of
    :func:`canonical_name` forms >= :data:`FUZZY_THRESHOLD`, e.g. an OCR error in the
    region or the legal form, 有限公司 for 有限责任公司, the region left out) *and* that
    contains the customer's distinctive part (字号, see :func:`distinctive_part`)
    unchanged: two names that differ in the trade name are two companies.
``contact``
    an e-mail address or phone number of a registered contact, or an e-mail address at the
    customer's own mail domain (free-mail providers such as 126.com never count).

The self company (``is_self``: the seller, us) is recognised the same way and then left
out: never a link, never a suggestion.  Company entities that match no entry become
``suggestions``: candidates for a person to confirm as new customers.

Links are ordered primary first: a customer in a customer role (甲方, 买方, 购买方, 客户名称,
To …) before others, then by how often it is mentioned, then by the strength of the
evidence.  Every link explains itself in ``evidence``, a message in Chinese and English
(``信用代码 91310115MAU5AL4F6N 一致`` / ``credit code 91310115MAU5AL4F6N matches``).  A company named once in passing links like any
other: the rules stay simple enough to explain.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from foundation.messages import Message, msg, texts, translate
from foundation.variants import fold_variants
from ingest._model import Entity

#: Lowest ``fuzz.ratio`` (0–100) between canonical names for a fuzzy link.  One wrong
#: character in a 10-character name scores 90, a left-out two-character region 89, while
#: two different industry words (科技 / 物流) in a 10-character name score 80.
FUZZY_THRESHOLD = 85.0

#: Method strengths, used for :attr:`Link.score` and to pick a link's method.
METHOD_SCORES = {"credit_code": 1.0, "name": 0.95, "alias": 0.85, "fuzzy": 0.8, "contact": 0.7}

#: Public mail providers: an address there says nothing about the company.
FREE_MAIL = frozenset(
    {
        "126.com",
        "163.com",
        "yeah.net",
        "qq.com",
        "foxmail.com",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "139.com",
        "189.cn",
        "wo.cn",
        "aliyun.com",
        "tom.com",
        "21cn.com",
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "proton.me",
        "protonmail.com",
        "aol.com",
    }
)

_BRACKETS = str.maketrans(
    {
        "【": "(",
        "〔": "(",
        "[": "(",
        "{": "(",
        "〈": "(",
        "《": "(",
        "】": ")",
        "〕": ")",
        "]": ")",
        "}": ")",
        "〉": ")",
        "》": ")",
    }
)
# Dropped before names are compared: punctuation that OCR and typists vary freely.
_DROP = re.compile(r"[\s.,，。、·•'\"“”‘’_\-–—&＆]+")
_LEGAL_FORMS = (
    ("有限责任公司", "有限公司"),
    ("股份有限公司", "有限公司"),
    ("companylimited", "coltd"),
    ("colimited", "coltd"),
    ("limited", "ltd"),
    ("incorporated", "inc"),
    ("corporation", "corp"),
    ("company", "co"),
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[a-z]{2,}")
_LATIN_FILLER = frozenset({"the", "co", "ltd", "inc", "corp", "group", "llc", "plc", "gmbh"})
# A short name in the text that goes on as a longer company name: a few more characters
# (no particles, no punctuation) and a legal suffix (明远 in 明远物流有限公司).
_COMPANY_TAIL = re.compile(
    r"[^\W\d_的了是在和与及或同跟向为对由把被将已于请您我你他她它们这那个等]{0,14}?"
    r"(?:有限责任公司|股份有限公司|有限公司|分公司|公司|集团|研究院|事务所|厂)"
)
# What follows a word that is a street or a place, not a company (明远路, 远航大厦).
_PLACE_AFTER = re.compile(
    r"(?:路|街|大街|大道|巷|弄|胡同|村|镇|乡|县|省|区(?!域)|市(?!场)|广场|大厦|花园|小区|公园|机场|车站|站(?!点))"
)
_MAIL_OR_URL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?:https?://|www\.)\S+", re.ASCII)
# Labels that put the company that follows them in the customer's role.
_CUSTOMER_LABEL = re.compile(
    r"(?:(?:甲方|买方|购买方|购货方|购货单位|需方|委托方|采购方|承租方|客户名称|客户单位|客户|致|收件单位)"
    r"\s*(?:（[^）]{0,6}）|\([^)]{0,12}\))?\s*[:：]?"
    r"|\b(?:buyer|customer|client|bill\s*to|sold\s*to|to|attn)\s*(?:\([^)]{0,12}\))?\s*[:：])\s*$",
    re.IGNORECASE,
)
_CUSTOMER_ROLES = (
    "甲方",
    "买方",
    "购买方",
    "购货",
    "需方",
    "委托方",
    "采购方",
    "承租方",
    "客户",
    "致",
    "buyer",
    "customer",
    "client",
    "bill to",
    "sold to",
    "to",
    "attn",
)
# Leading regions dropped when a name's distinctive part is guessed without an alias.
_REGIONS = (
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
    "内蒙古",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
    "中国",
    "广州",
    "深圳",
    "杭州",
    "南京",
    "苏州",
    "武汉",
    "成都",
    "西安",
    "青岛",
    "厦门",
    "宁波",
    "大连",
    "沈阳",
    "长沙",
    "郑州",
    "济南",
    "合肥",
    "福州",
    "无锡",
    "东莞",
    "佛山",
    "昆明",
    "哈尔滨",
    "长春",
    "石家庄",
    "太原",
    "南昌",
    "南宁",
    "贵阳",
    "兰州",
    "海口",
    "珠海",
    "温州",
    "常州",
)
_REGION_HEAD = re.compile(
    "^(?:(?:" + "|".join(sorted(_REGIONS, key=len, reverse=True)) + r")(?:省|市|自治区)?"
    r"|[\u3400-\u9fff]{2,3}(?:省|市|自治区|自治州|县|区))+"
)
_LEGAL_TAIL = re.compile(r"(?:\([^)]*\))?(?:有限责任公司|股份有限公司|有限公司|集团|公司|厂)+$")


def normalize_name(name: str) -> str:
    """A company name as compared: NFKC, case folded, one kind of bracket, no spaces or punctuation.

    Traditional characters are folded to simplified ones (:func:`foundation.variants.fold_variants`),
    so 光華物流 is the name 光华物流.
    """
    folded = fold_variants(unicodedata.normalize("NFKC", name).casefold().translate(_BRACKETS))
    return _DROP.sub("", folded)


def canonical_name(name: str) -> str:
    """:func:`normalize_name` with the legal forms unified (有限责任公司 → 有限公司, Limited → Ltd)."""
    out = normalize_name(name)
    for long, short in _LEGAL_FORMS:
        out = out.replace(long, short)
    return out


def distinctive_part(name: str, aliases: Sequence[str] = ()) -> str:
    """The part of a company name that tells it apart (its 字号), normalised.

    The shortest short name found whole in the full name (明远 for 上海明远科技有限公司 with
    明远 and 明远科技), else the longest run (>= 2 characters) that the full name shares with a
    short name, earliest in it (上海聚源文化传媒有限公司 + 聚源传媒 → 聚源); without a usable
    short name, the name without its leading region and legal form, first two characters
    (上海明远科技有限公司 → 明远), or the first real word of a Latin name (contoso).
    """
    full = normalize_name(name)
    shorts = [s for s in (normalize_name(a) for a in aliases) if len(s) >= 2]
    inside = [s for s in shorts if s in full]
    if inside:
        return min(inside, key=len)
    best = max((_longest_common_run(s, full) for s in shorts), key=len, default="")
    if len(best) >= 2:
        return best
    if not _CJK.search(full):
        words = [
            w
            for w in _LATIN_WORD.findall(unicodedata.normalize("NFKC", name).casefold())
            if w not in _LATIN_FILLER
        ]
        return words[0] if words else full
    return trade_name(name)[:2]


def trade_name(name: str) -> str:
    """A Chinese company name without its leading region, bracketed parts and legal form, normalised.

    光华物流（武汉）有限公司, 武汉光华物流有限公司 and 光华物流 all give 光华物流: what a person
    types when they mean the company.  A name without Chinese characters comes back as
    :func:`canonical_name` gives it (Latin trade names are too short to compare this way).
    """
    full = normalize_name(name)
    if not _CJK.search(full):
        return canonical_name(name)
    core = _LEGAL_TAIL.sub("", _REGION_HEAD.sub("", full)) or full
    return re.sub(r"\([^)]*\)", "", core) or core


def _longest_common_run(a: str, b: str) -> str:
    """Longest common substring of ``a`` and ``b``, the earliest in ``a`` on ties."""
    best = ""
    for i in range(len(a)):
        for j in range(i + len(best) + 1, len(a) + 1):
            if a[i:j] in b:
                best = a[i:j]
            else:
                break
    return best


@dataclass(frozen=True)
class RegistryEntry:
    """One registered company as the linker sees it.

    ``aliases`` are short names; ``emails`` and ``phones`` are its contacts' (phones
    normalised like :class:`Entity` values).  ``is_self`` marks our own company.
    """

    id: int
    name: str
    aliases: tuple[str, ...] = ()
    credit_code: str | None = None
    is_self: bool = False
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    """A document is about customer ``customer_id`` (``name``), found by ``method``."""

    customer_id: int
    name: str
    method: str  # credit_code | name | alias | fuzzy | contact
    score: float
    evidence: Message  # in Chinese and English, e.g. 全称「…」一致 / full name "…" matches


@dataclass(frozen=True)
class LinkResult:
    """The customers a document is linked to (primary first) and the unknown companies in it."""

    links: tuple[Link, ...] = ()
    suggestions: tuple[str, ...] = ()

    @property
    def customer_ids(self) -> tuple[int, ...]:
        """The linked customers' ids, primary first."""
        return tuple(link.customer_id for link in self.links)


@dataclass
class _Tally:
    """Evidence for one entry while a document is read."""

    entry: RegistryEntry
    best: str = ""
    score: float = 0.0
    evidence: list[Message] = field(default_factory=list)
    mentions: int = 0
    customer_role: bool = False

    def explained(self) -> Message:
        """The three strongest pieces of evidence, how often the customer is named, and whether as the customer."""
        said = {}
        for lang, glue in (("zh", "；"), ("en", "; ")):
            parts = [piece.render(lang) for piece in self.evidence[:3]]
            text = glue.join(parts)
            if self.mentions > 1:
                text += translate("ingest.link.mentions", lang, n=self.mentions)
            if self.customer_role:
                text += glue + translate("ingest.link.customer_role", lang)
            said[lang] = text
        return texts(said["zh"], said["en"])

    def add(self, method: str, evidence: Message, score: float | None = None, count: int = 1) -> None:
        value = METHOD_SCORES[method] if score is None else score
        if value > self.score:
            self.best, self.score = method, value
            self.evidence.insert(0, evidence)
        elif evidence not in self.evidence:
            self.evidence.append(evidence)
        self.mentions += count


_FOLDED: dict[str, str] = {}


def _fold_char(ch: str) -> str:
    """One character as :func:`normalize_name` leaves it ("" when dropped); one character at most."""
    out = _FOLDED.get(ch)
    if out is None:
        if _DROP.fullmatch(ch):
            out = ""
        else:
            folded = fold_variants(unicodedata.normalize("NFKC", ch).casefold().translate(_BRACKETS))
            out = folded if len(folded) == 1 else ch
        if len(_FOLDED) < 50_000:
            _FOLDED[ch] = out
    return out


def _fold_text(text: str) -> tuple[str, list[int]]:
    """The text as names are compared (see :func:`normalize_name`), and each character's original index."""
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        folded = _fold_char(ch)
        if folded:
            chars.append(folded)
            where.append(i)
    return "".join(chars), where


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex alternation of ``words`` shaped as a trie (fast, prefers the longest word)."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def _is_customer_role(role: str) -> bool:
    low = role.casefold().strip()
    return any(r == low or (len(r) > 1 and r in low and not r.isascii()) for r in _CUSTOMER_ROLES)


class Registry:
    """The customer registry, compiled once for linking many documents."""

    def __init__(self, entries: Iterable[RegistryEntry]) -> None:
        self.entries: tuple[RegistryEntry, ...] = tuple(entries)
        self._by_name: dict[str, list[RegistryEntry]] = {}
        self._by_alias: dict[str, list[RegistryEntry]] = {}
        self._by_code: dict[str, RegistryEntry] = {}
        self._by_email: dict[str, list[RegistryEntry]] = {}
        self._by_domain: dict[str, list[RegistryEntry]] = {}
        self._by_phone: dict[str, list[RegistryEntry]] = {}
        self._by_core: dict[str, list[RegistryEntry]] = {}
        self._canonical: dict[int, str] = {}
        self._core: dict[int, str] = {}
        for entry in self.entries:
            self._by_name.setdefault(normalize_name(entry.name), []).append(entry)
            for alias in entry.aliases:
                key = normalize_name(alias)
                if key and entry not in self._by_alias.get(key, []):
                    self._by_alias.setdefault(key, []).append(entry)
            if entry.credit_code:
                self._by_code[entry.credit_code.strip().upper()] = entry
            for email in entry.emails:
                address = email.strip().lower()
                self._by_email.setdefault(address, []).append(entry)
                domain = address.rpartition("@")[2]
                if domain and domain not in FREE_MAIL and entry not in self._by_domain.get(domain, []):
                    self._by_domain.setdefault(domain, []).append(entry)
            for phone in entry.phones:
                self._by_phone.setdefault(phone.strip(), []).append(entry)
            core = distinctive_part(entry.name, entry.aliases)
            self._core[id(entry)] = core
            self._canonical[id(entry)] = canonical_name(entry.name)
            self._by_core.setdefault(core, []).append(entry)
        self._max_core = max((len(c) for c in self._by_core), default=0)
        surfaces = set(self._by_name) | set(self._by_alias)
        self._scan = re.compile(_trie_pattern(sorted(s for s in surfaces if s))) if surfaces else None

    # -- one company name -------------------------------------------------------------
    def resolve_name(self, name: str) -> tuple[RegistryEntry, str, float, Message] | None:
        """The entry a company name stands for: (entry, method, score, evidence), or None."""
        key = normalize_name(name)
        if not key:
            return None
        if len(self._by_name.get(key, [])) == 1:
            return (
                self._by_name[key][0],
                "name",
                METHOD_SCORES["name"],
                msg("ingest.link.full_name", name=name),
            )
        if len(self._by_alias.get(key, [])) == 1:
            entry = self._by_alias[key][0]
            return entry, "alias", METHOD_SCORES["alias"], msg("ingest.link.alias", name=name)
        return self._fuzzy(name, key)

    def _fuzzy(self, name: str, key: str) -> tuple[RegistryEntry, str, float, Message] | None:
        if len(key) < 4:
            return None
        candidates: dict[int, RegistryEntry] = {}
        for i in range(len(key)):
            for j in range(i + 2, min(len(key), i + self._max_core) + 1):
                for entry in self._by_core.get(key[i:j], ()):
                    candidates[id(entry)] = entry
        canon = canonical_name(name)
        best: tuple[float, RegistryEntry] | None = None
        for entry in candidates.values():
            ratio = fuzz.ratio(canon, self._canonical[id(entry)])
            if ratio >= FUZZY_THRESHOLD and (best is None or ratio > best[0]):
                best = (ratio, entry)
        if best is None:
            return None
        ratio, entry = best
        if ratio >= 100:  # equal once the legal forms are unified
            evidence = msg("ingest.link.legal_form", name=name)
        else:
            evidence = msg("ingest.link.similar", name=name, ratio=f"{ratio:.0f}", core=self._core[id(entry)])
        return entry, "fuzzy", round(METHOD_SCORES["fuzzy"] * ratio / 100, 3), evidence

    # -- one document -----------------------------------------------------------------
    def link(self, entities: Sequence[Entity], text: str) -> LinkResult:
        """Link one document (its entities and its whole text) to registry customers."""
        tallies: dict[int, _Tally] = {}
        suggestions: dict[str, str] = {}
        companies: set[str] = set()  # the company entities' surfaces, folded

        def tally(entry: RegistryEntry) -> _Tally:
            return tallies.setdefault(id(entry), _Tally(entry))

        for ent in entities:
            if ent.kind == "uscc":
                code = ent.value.strip().upper()
                entry = self._by_code.get(code)
                if entry is not None:
                    said = "ingest.link.credit_code" if ent.valid else "ingest.link.credit_code_check"
                    tally(entry).add("credit_code", msg(said, code=code))
            elif ent.kind == "company":
                hit = self.resolve_name(ent.value)
                companies.add(_fold_text(ent.text or ent.value)[0])
                if hit is None:
                    key = normalize_name(ent.value)
                    if len(key) >= 2:
                        suggestions.setdefault(key, ent.value.strip())
                    continue
                entry, method, score, evidence = hit
                t = tally(entry)
                # names and aliases are counted by the text scan below
                t.add(method, evidence, score, count=0 if method in ("name", "alias") else 1)
                if ent.role and _is_customer_role(ent.role):
                    t.customer_role = True
            elif ent.kind == "email":
                address = ent.value.strip().lower()
                owners = self._by_email.get(address) or []
                if len(owners) == 1:
                    tally(owners[0]).add("contact", msg("ingest.link.contact_email", address=address))
                    continue
                domain = address.rpartition("@")[2]
                owners = self._by_domain.get(domain) or []
                if len(owners) == 1:
                    tally(owners[0]).add(
                        "contact", msg("ingest.link.email_domain", address=address, domain=domain), 0.6
                    )
            elif ent.kind == "phone":
                owners = self._by_phone.get(ent.value.strip()) or []
                if len(owners) == 1:
                    tally(owners[0]).add("contact", msg("ingest.link.contact_phone", phone=ent.value), 0.6)

        self._scan_text(text, companies, tally)

        links = []
        for t in tallies.values():
            if t.entry.is_self or not t.best:
                continue
            links.append((t, Link(t.entry.id, t.entry.name, t.best, round(t.score, 3), t.explained())))
        links.sort(key=lambda p: (p[0].customer_role, p[0].mentions, p[0].score), reverse=True)
        return LinkResult(tuple(link for _, link in links), tuple(suggestions.values()))

    def _scan_text(
        self,
        text: str,
        companies: set[str],
        tally: Callable[[RegistryEntry], _Tally],
    ) -> None:
        """Count the registry names and aliases that stand in the text on their own."""
        if self._scan is None or not text:
            return
        folded, where = _fold_text(text)
        # Spans of the company names the entity finders reported: a short name inside one
        # belongs to that name's link or suggestion (明远 inside 北京明远物流有限公司).
        owned: list[tuple[int, int]] = []
        for surface in companies:
            if len(surface) < 2:
                continue
            start = folded.find(surface)
            while start >= 0:
                owned.append((start, start + len(surface)))
                start = folded.find(surface, start + 1)
        mail = [(m.start(), m.end()) for m in _MAIL_OR_URL.finditer(text)]
        for m in self._scan.finditer(folded):
            surface, start, end = m.group(), m.start(), m.end()
            names = self._by_name.get(surface, [])
            entries = names or self._by_alias.get(surface, [])
            if len(entries) != 1:
                continue  # an unknown or ambiguous surface (two customers share a short name)
            entry = entries[0]
            o_start, o_end = where[start], where[end - 1] + 1
            if not names and not self._alias_stands_alone(
                text, folded, start, end, o_start, o_end, entry, owned, mail
            ):
                continue
            method = "name" if names else "alias"
            said = "ingest.link.full_name" if names else "ingest.link.alias"
            t = tally(entry)
            t.add(method, msg(said, name=text[o_start:o_end]))
            line_start = text.rfind("\n", 0, o_start) + 1
            if _CUSTOMER_LABEL.search(text[max(line_start, o_start - 16) : o_start]):
                t.customer_role = True

    def _alias_stands_alone(
        self,
        text: str,
        folded: str,
        start: int,
        end: int,
        o_start: int,
        o_end: int,
        entry: RegistryEntry,
        owned: list[tuple[int, int]],
        mail: list[tuple[int, int]],
    ) -> bool:
        """Whether a short name found in the text is that company, not a part of something else."""
        if any(a <= o_start < b for a, b in mail):
            return False
        if (
            text[o_start].isascii()
            and text[o_start].isalnum()
            and o_start > 0
            and text[o_start - 1].isascii()
            and text[o_start - 1].isalnum()
        ):
            return False
        if (
            text[o_end - 1].isascii()
            and text[o_end - 1].isalnum()
            and o_end < len(text)
            and text[o_end].isascii()
            and text[o_end].isalnum()
        ):
            return False
        for a, b in owned:
            if a <= start and end <= b and (a, b) != (start, end):
                return False  # part of a company name a finder reported: that name decides
        if _PLACE_AFTER.match(text, o_end):
            return False
        tail = _COMPANY_TAIL.match(text, o_end)
        if tail is not None and _LEGAL_TAIL.fullmatch(normalize_name(tail.group())) is None:
            longer = text[o_start : tail.end()]
            hit = self.resolve_name(longer)
            if hit is None or hit[0] is not entry:
                return False
        return True
