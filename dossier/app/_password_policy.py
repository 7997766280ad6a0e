"""The password policy: what a new password must be, and why one is refused (in Chinese and English).

A password is refused when it is shorter than 8 characters, longer than
:data:`MAX_PASSWORD_LENGTH`, the user name itself, or guessable: zxcvbn (Dropbox's estimator,
the ``zxcvbn`` port on PyPI) scores it below :data:`MIN_SCORE` of 4.  zxcvbn knows the common
passwords (``12345678``, ``password``, ``Passw0rd!``), words, names, keyboard rows, dates,
repeats and sequences; it is also given the user's own names (login, its parts, the display
name) and Dossier's words, so ``lily2024`` for lily or ``dossier123`` count as guessable.
Score 3 means about 10⁸ guesses or more: beyond online guessing (which the login limits cap
anyway) and expensive offline against argon2.  Only the first 72 characters are scored (the
estimator's own limit; a longer password whose start is strong is strong).

This module is the one place a password's strength is decided; every way of setting one
(``dossier users add``, ``set-password``, ``dossier init`` with ``DOSSIER_ADMIN_PASSWORD``)
goes through :func:`check_password`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from zxcvbn import zxcvbn

from foundation.errors import DossierError
from foundation.messages import texts

__all__ = ["MAX_PASSWORD_LENGTH", "MIN_LENGTH", "MIN_SCORE", "WeakPassword", "check_password"]

#: Shortest password accepted.
MIN_LENGTH = 8
#: Longest password accepted (argon2 takes any length; this bounds the work per attempt).
MAX_PASSWORD_LENGTH = 1024
#: Lowest zxcvbn score (0–4) accepted: 3 = "safely unguessable", about 10⁸ guesses or more.
MIN_SCORE = 3
#: How much of a password zxcvbn looks at (its own maximum).
_SCORED_CHARS = 72
#: Words anyone would try against this product, besides the user's own names.
_PRODUCT_WORDS = ("dossier", "admin", "administrator", "客户档案", "客户", "档案", "密码", "mima")

#: zxcvbn's feedback (English) with the Chinese users read first.
_FEEDBACK_ZH = {
    "Use a few words, avoid common phrases.": "用几个词组成，避免常见短语。",
    "No need for symbols, digits, or uppercase letters.": "不必非用符号、数字或大写字母。",
    "Add another word or two. Uncommon words are better.": "再加一两个词，越不常见越好。",
    "Straight rows of keys are easy to guess.": "键盘上连成一排的键很容易猜到。",
    "Short keyboard patterns are easy to guess.": "短的键盘图案很容易猜到。",
    "Use a longer keyboard pattern with more turns.": "键盘图案要更长、转折更多。",
    'Repeats like "aaa" are easy to guess.': "像“aaa”这样的重复很容易猜到。",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': "像“abcabcabc”这样的重复只比“abc”稍难猜一点。",
    "Avoid repeated words and characters.": "避免重复的词和字符。",
    'Sequences like "abc" or "6543" are easy to guess.': "像“abc”或“6543”这样的序列很容易猜到。",
    "Avoid sequences.": "避免序列。",
    "Recent years are easy to guess.": "最近的年份很容易猜到。",
    "Avoid recent years.": "避免最近的年份。",
    "Avoid years that are associated with you.": "避免与你有关的年份。",
    "Dates are often easy to guess.": "日期往往很容易猜到。",
    "Avoid dates and years that are associated with you.": "避免与你有关的日期和年份。",
    "This is a top-10 common password.": "这是最常见的 10 个密码之一。",
    "This is a top-100 common password.": "这是最常见的 100 个密码之一。",
    "This is a very common password.": "这是非常常见的密码。",
    "This is similar to a commonly used password.": "这与常用密码相似。",
    "A word by itself is easy to guess.": "单个词很容易猜到。",
    "Names and surnames by themselves are easy to guess.": "单独的名字或姓氏很容易猜到。",
    "Common names and surnames are easy to guess.": "常见的名字和姓氏很容易猜到。",
    "Capitalization doesn't help very much.": "大写字母帮助不大。",
    "All-uppercase is almost as easy to guess as all-lowercase.": "全部大写和全部小写几乎一样容易猜到。",
    "Reversed words aren't much harder to guess.": "倒写的词并不难猜多少。",
    "Predictable substitutions like '@' instead of 'a' don't help very much.": "用“@”代替“a”这类可预料的替换帮助不大。",
}


class WeakPassword(DossierError):
    """A password the policy refuses: ``zh`` and ``en`` say why; the message is ``"zh / en"``.

    The policy writes both texts itself (zxcvbn's feedback is not in the catalogs), as
    :func:`~foundation.messages.texts`, so the error renders in the reader's language.
    """

    status = 400

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(texts(zh, en))
        self.zh, self.en = zh, en


def _name_inputs(names: Iterable[str | None]) -> list[str]:
    """The user's names, their parts and the parts run together, lower-cased
    (``Wang.Fang@corp`` -> wang.fang@corp, wang, fang, corp, wangfangcorp)."""
    out: list[str] = []
    for name in names:
        if not name:
            continue
        whole = name.strip().casefold()
        parts = [part for part in re.split(r"[\s._@\-]+", whole) if part]
        out += [whole, *(part for part in parts if len(part) >= 2), "".join(parts)]
    return list(dict.fromkeys(out))


def _feedback(result: dict) -> tuple[str, str]:
    """zxcvbn's warning and suggestions as (中文, English) sentences (empty when it has none)."""
    feedback = result.get("feedback") or {}
    lines = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
    lines = [line for line in lines if line]
    return "".join(_FEEDBACK_ZH.get(line, line) for line in lines), " ".join(lines)


def _uses_a_name(result: dict) -> bool:
    """Whether zxcvbn found one of the user's names (or Dossier's words) in the password."""
    return any(m.get("dictionary_name") == "user_inputs" for m in result.get("sequence") or ())


def check_password(username: str, password: str, names: Iterable[str | None] = ()) -> None:
    """Refuse (WeakPassword, saying why) a password that is too short or long, the user name, or guessable.

    ``names`` are further names of the person (the display name) that the password must not lean on.
    """
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"密码至少 {MIN_LENGTH} 个字符", f"the password needs at least {MIN_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            f"密码最多 {MAX_PASSWORD_LENGTH} 个字符",
            f"the password may have at most {MAX_PASSWORD_LENGTH} characters",
        )
    if password.strip().casefold() == username.strip().casefold():
        raise WeakPassword("密码不能与用户名相同", "the password must not be the user name")
    inputs = _name_inputs([username, *names]) + list(_PRODUCT_WORDS)
    result = zxcvbn(password[:_SCORED_CHARS], user_inputs=inputs)
    score = int(result["score"])
    if score >= MIN_SCORE:
        return
    zh, en = _feedback(result)
    if _uses_a_name(result):
        zh = "密码以用户名、姓名或本系统的名称为基础。" + zh
        en = ("It is built on the user's name or the product's name. " + en).strip()
    raise WeakPassword(
        f"密码太常见或太容易猜到（强度 {score}/4，至少需要 {MIN_SCORE}）：{zh or '请换一个更长、更少见的密码。'}",
        f"the password is too common or too easy to guess (strength {score}/4, {MIN_SCORE} needed):"
        f" {en or 'choose a longer, less common one.'}",
    )
