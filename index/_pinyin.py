"""Pinyin and initials of titles and metadata names, for both backends and the autocomplete.

People type Chinese names in pinyin when no input method is at hand: ``guanghua``,
``guanghuawuliu`` or the initials ``ghwl`` for 光华物流.  This module turns the Chinese
of a document's **title** and of each **field of its metadata text** (file name, customer
names, short names and aliases, tags, entity strings such as company and person names: the
fields of :func:`index._common.meta_text`, the first :data:`MAX_FIELDS`, each without a run
over :data:`MAX_NAME` characters) into marked tokens
that each backend keeps after the document's jieba words, in its ``words`` column: a pinyin
match ranks as a whole-word match does (below title and metadata matches), and the long
``words`` column's length hardly moves with them (in the short ``meta`` column they shifted
bm25's length normalisation, and so the ranking, noticeably).  The title and meta columns
stay as they were.

What is emitted, per run of Han characters (joined across whitespace; the first
:data:`MAX_RUN` characters of a run, :data:`MAX_HAN` per text):

* **full pinyin** of every span of 2 to :data:`MAX_SPAN` consecutive characters, and of the
  whole run (``光华物流`` → ``guanghua``, ``huawu``, ``wuliu``, ``guanghuawu``, ``huawuliu``,
  ``guanghuawuliu`` …), when it has at least :data:`MIN_QUERY_LETTERS` letters;
* **initials** of every span of :data:`MIN_INITIALS` to :data:`MAX_SPAN` characters, and of the
  whole run when it has 3 or more (``光华物流`` → ``ghwl``; ``新东方`` → ``xdf``).  Three-letter initials only
  for a whole run, because most three-letter words people search (``crm``, ``erp``, ``pdf``)
  are the initials of *some* three characters inside a longer name.

Each token ends with :data:`PINYIN_MARK`, a CJK character, so no token a query's text
produces can equal one: a pinyin token is only ever looked up on purpose.

**The query rule** (:func:`query_form`): a bare (unquoted) query word typed entirely in
lower-case ASCII letters (full-width ones count, after NFKC), :data:`MIN_QUERY_LETTERS` or
more, that could be pinyin (initials — letters a syllable can start with, so no ``i``, ``u``,
``v`` — or whole syllables one after another), also tries its marked form in the ``words``
column, as an alternative (OR) to its ordinary match.  So ``hr`` and ``it`` never match by
initials, ``invoice`` and ``thinkpad`` never try pinyin, a word typed with capitals (``CRM``),
digits or Chinese never does, and ``"guanghua"`` in quotes means exactly that text.  A
pinyin match only ever adds documents; it never takes one away.

**Snippets** (:func:`pinyin_surfaces`): a hit's snippet marks the Chinese of its title or
metadata that a pinyin word read as (``ghwl`` → 光华物流), in the body where the body says it,
else in the title or the names, so a hit found only by pinyin has a snippet like any other.

**Autocomplete** (:func:`pinyin_match`): a prefix of the full pinyin or of the initials of a
name from any of its characters (``ghw`` offers 光华物流 while it is being typed).

Readings come from pypinyin: each run is cut by pypinyin's own segmenter over its phrase
dictionary (so heteronyms read as in their word: 重庆 chong qing, 银行 yin hang) and each word
is converted once (cached).  Nothing here depends on the customer dictionary that jieba
learns (jieba's segmentation would have grouped syllables as well, but it changes as customers
are added), so the tokens are a pure function of the text: the embedded index recomputes them
to delete a document.  Cost (``bench/search.py`` 20,000 documents, same machine, one run after the other): about 60
tokens and 30 µs of CPU per document (3.6% of the analysis), build 442 → 421 docs/s, FTS5 data
67.8 → 75.5 MB; at query time the pinyin code is 0.3% of a profiled query mix.  Changing what this module emits (or the pinned pypinyin version) needs
an :data:`index._analysis.ANALYSIS_VERSION` bump.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Sequence

from pypinyin import lazy_pinyin
from pypinyin.seg.mmseg import seg as _mmseg

from index._analysis import normalize_cased, normalize_text
from index._common import META_SEP

__all__ = [
    "MAX_FIELDS",
    "MIN_QUERY_LETTERS",
    "PINYIN_MARK",
    "meta_pinyin",
    "pinyin_match",
    "pinyin_surfaces",
    "query_form",
    "run_tokens",
    "syllables",
]

#: Suffix of every pinyin token: a CJK character (乁), so no query's Latin token can equal one.
PINYIN_MARK = "\u4e41"
#: A query word tries pinyin only from this many letters on (``hr``, ``it`` never do).
MIN_QUERY_LETTERS = 3
#: Longest span (characters) whose pinyin is emitted, besides the whole run.
MAX_SPAN = 4
#: Fewest characters of a span whose initials are emitted (a whole run: 3).
MIN_INITIALS = 4
#: Characters of one run read (a longer run: its start), and of one text in all.
MAX_RUN = 32
MAX_HAN = 64
#: Fields of the metadata text read (the file name, then customers and their names, tags, entities).
MAX_FIELDS = 12
#: A metadata field with a longer run of Han characters is no name (an address, a sentence): not read.
MAX_NAME = 16

_HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RUN = re.compile(rf"[{_HAN_CLASS}](?:\s*[{_HAN_CLASS}])*")
_WS = re.compile(r"\s+")
_QUERY_WORD = re.compile(r"[a-z]+")

#: Every toneless syllable of pypinyin 0.55's dictionary (ü written v, as pypinyin's normal style writes it).
_SYLLABLE_TEXT = """
a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu ca cai
can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai
chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de dei den deng di
dia dian diao die din ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen feng
fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha
hai han hang hao he hei hen heng hm hng hong hou hu hua huai huan huang hui hun huo ji jia jian
jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku
kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei len leng li lia lian liang liao lie lin
ling liu lo long lou lu luan lun luo lv lve m ma mai man mang mao me mei men meng mi mian miao mie
min ming miu mo mou mu n na nai nan nang nao ne nei nen neng ng ni nia nian niang niao nie nin ning
niu nong nou nu nuan nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping
po pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri
rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao she shei
shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta
tai tan tang tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei
wen weng wo wong wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye
yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao
zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan
zui zun zuo
"""
_SYLLABLES = frozenset(_SYLLABLE_TEXT.split())
#: Letters a syllable can start with: initials are made of these only (never i, u or v).
_FIRST_LETTERS = frozenset(s[0] for s in _SYLLABLES)
_LONGEST_SYLLABLE = max(len(s) for s in _SYLLABLES)

_lock = threading.Lock()
_WORDS: dict[str, tuple[str, ...]] = {}
_RUNS: dict[str, tuple[tuple[str, int, int], ...]] = {}
_MARKED: dict[str, tuple[str, ...]] = {}
_SYLLABLES_OF: dict[str, tuple[str, ...]] = {}
_CACHE_LIMIT = 200_000


def _word_syllables(word: str) -> tuple[str, ...]:
    """One syllable per character of a Han word (cached); a character without a reading gives ''."""
    found = _WORDS.get(word)
    if found is None:
        read = lazy_pinyin(word, errors="default")  # a character without a reading stays itself
        if len(read) != len(word):  # such characters came out as one piece: read one by one then
            read = [(lazy_pinyin(ch, errors="default") or [""])[0] for ch in word]
        found = tuple(s if s.isascii() and s.isalpha() else "" for s in read)
        if len(_WORDS) < _CACHE_LIMIT:
            _WORDS[word] = found
    return found


def syllables(run: str) -> tuple[str, ...]:
    """The pinyin of a run of Han characters, one lower-case toneless syllable per character (cached)."""
    found = _SYLLABLES_OF.get(run)
    if found is not None:
        return found
    out: list[str] = []
    with _lock:  # pypinyin's segmenter is shared state
        words = list(_mmseg.cut(run))
    for word in words:
        out.extend(_word_syllables(word))
    found = tuple(out)
    if len(_SYLLABLES_OF) < _CACHE_LIMIT:
        _SYLLABLES_OF[run] = found
    return found


def run_tokens(run: str) -> tuple[tuple[str, int, int], ...]:
    """(unmarked token, start, end) of every pinyin token of a Han run (see the module docstring)."""
    found = _RUNS.get(run)
    if found is not None:
        return found
    syl = syllables(run)
    n = len(syl)
    out: dict[str, tuple[str, int, int]] = {}
    for a in range(n):
        if not syl[a]:
            continue
        full = syl[a]
        initials = full[0]
        last = n if a == 0 else min(n, a + MAX_SPAN)  # longer spans only from the start (the whole run)
        for b in range(a + 1, last):
            s = syl[b]
            if not s:
                break  # a character without a reading ends every span through it
            full += s
            initials += s[0]
            width = b + 1 - a
            if width > MAX_SPAN and b != n - 1:
                continue
            if full not in out and len(full) >= MIN_QUERY_LETTERS:
                out[full] = (full, a, b + 1)
            if (width >= MIN_INITIALS or (width == n and width >= 3)) and initials not in out:
                out[initials] = (initials, a, b + 1)
    result = tuple(out.values())
    if len(_RUNS) < _CACHE_LIMIT:
        _RUNS[run] = result
        _MARKED[run] = tuple(t + PINYIN_MARK for t in out)
    return result


def _marked(run: str) -> tuple[str, ...]:
    found = _MARKED.get(run)
    if found is None:
        found = tuple(t + PINYIN_MARK for t, _, _ in run_tokens(run))
    return found


def _runs(text: str, budget: int) -> list[str]:
    """The Han runs of a text (whitespace inside removed), cut to :data:`MAX_RUN` and ``budget`` characters."""
    out: list[str] = []
    for m in _HAN_RUN.finditer(text):
        if budget <= 0:
            break
        run = m.group()
        if len(run) > 1:
            run = _WS.sub("", run)
        run = run[: min(MAX_RUN, budget)]
        budget -= len(run)
        out.append(run)
    return out


def _fields(meta_text: str) -> list[str]:
    return meta_text.split(META_SEP)[:MAX_FIELDS] if meta_text else []


def _texts(title: str, meta_text: str) -> Iterable[str]:
    """The title, then each metadata field short enough to be a name (no run over :data:`MAX_NAME` characters)."""
    yield title
    for field in _fields(meta_text):
        if not any(len(run) > MAX_NAME for run in _HAN_RUN.findall(field)):
            yield field


def meta_pinyin(title: str, meta_text: str) -> list[str]:
    """The marked pinyin tokens of a title and a metadata text, each once, in order: the ``words`` column's tail."""
    out: dict[str, None] = {}
    for text in _texts(title, meta_text):
        if not text:
            continue
        for run in _runs(normalize_text(text), MAX_HAN):
            out.update(dict.fromkeys(_marked(run)))
    return list(out)


@functools.lru_cache(maxsize=4096)
def query_form(word: str) -> str | None:
    """The marked pinyin token a bare query word also matches (see the rule in the module docstring), or None."""
    if len(word) < MIN_QUERY_LETTERS or len(word) > MAX_RUN * 6:
        return None
    word = normalize_cased(word)  # full-width letters are letters; case is kept
    if not _QUERY_WORD.fullmatch(word) or not _pinyin_shaped(word):
        return None
    return word + PINYIN_MARK


def _pinyin_shaped(word: str) -> bool:
    """True when ``word`` could be initials (letters a syllable starts with) or a run of whole syllables.

    ``invoice``, ``report`` and ``thinkpad`` are neither, so they never try pinyin (and their
    hits' snippets do not look for it).
    """
    if all(ch in _FIRST_LETTERS for ch in word):
        return True
    n = len(word)
    ends = [False] * (n + 1)  # ends[i]: word[:i] is whole syllables
    ends[0] = True
    for i in range(1, n + 1):
        ends[i] = any(ends[j] and word[j:i] in _SYLLABLES for j in range(max(0, i - _LONGEST_SYLLABLE), i))
    return ends[n]


def pinyin_surfaces(title: str, meta_text: str, terms: Sequence[str]) -> list[str]:
    """The Chinese a title or metadata field reads as one of ``terms`` (pinyin words): what a snippet marks.

    ``光华物流有限公司`` and the term ``ghwl`` give ``光华物流``; terms that :func:`query_form`
    refuses give nothing.
    """
    wanted = {form[:-1] for t in terms if (form := query_form(t)) is not None}
    if not wanted:
        return []
    out: dict[str, None] = {}
    for text in _texts(title, meta_text):
        if not text:
            continue
        for run in _runs(normalize_text(text), MAX_HAN):
            for token, a, b in run_tokens(run):
                if token in wanted:
                    out[run[a:b]] = None
    return list(out)


def pinyin_match(name: str, fragment: str) -> int | None:
    """How a name reads as a typed pinyin fragment, for the autocomplete: 0 from its start, 1 inside, None not.

    The fragment (lower-case letters, :data:`MIN_QUERY_LETTERS` or more) must be the start of the
    full pinyin, or of the initials, of the name's Chinese from one character on (``guanghua``,
    ``guanghuawu``, ``ghw``, ``huawuliu`` for 光华物流).
    """
    form = query_form(fragment)
    if form is None:
        return None
    fragment = form[: -len(PINYIN_MARK)]
    best: int | None = None
    for k, (full, starts, initials) in enumerate(_name_forms(name)):
        at = initials.find(fragment)
        if at == 0 and k == 0:
            return 0
        if at > 0 or (at == 0 and k):
            best = 1
        at = full.find(fragment)
        while at >= 0:
            if at in starts:
                if at == 0 and k == 0:
                    return 0
                best = 1
                break
            at = full.find(fragment, at + 1)
    return best


_NAMES: dict[str, tuple[tuple[str, frozenset[int], str], ...]] = {}


def _name_forms(name: str) -> tuple[tuple[str, frozenset[int], str], ...]:
    """(full pinyin, offsets where its syllables start, initials) of each Han run of a name (cached).

    A character without a reading stands as ``|`` in both, so no match runs across it.
    """
    found = _NAMES.get(name)
    if found is None:
        forms = []
        for run in _runs(normalize_text(name), MAX_HAN):
            full, starts, initials = "", [], ""
            for syl in syllables(run):
                starts.append(len(full))
                full += syl or "|"
                initials += syl[:1] or "|"
            forms.append((full, frozenset(starts), initials))
        found = tuple(forms)
        if len(_NAMES) < _CACHE_LIMIT:
            _NAMES[name] = found
    return found
