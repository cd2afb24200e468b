"""The translation catalogs shared by the web desk and the command line (issues #13, #14).

Message ids are English; `ledger/locale/zh/LC_MESSAGES/ledger.po` holds the Chinese, compiled by
Babel into the `ledger.mo` beside it (`pybabel compile -d ledger/locale -D ledger`), which is
committed so that an installed package needs no build step; a test checks that it matches the
`.po`. English is the message ids themselves. Catalogs are read on first use only.
"""
from __future__ import annotations

import functools
import gettext
import os
from pathlib import Path
from typing import Mapping

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "ledger"
LANGUAGES = ("zh", "en")
DEFAULT = "zh"


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of `lang` (`zh` or `en`); English is the ids themselves."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])


def say(lang: str, message: str, **values) -> str:
    """`message` (an English id with named placeholders, `{lead}`) in `lang`, its values filled."""
    text = translations(lang).gettext(message)
    return text.format(**values) if values else text


def word(lang: str, code: str | None) -> str:
    """A vocabulary code (`hotline`, `on_post`, `LeadArrived`) as a word of `lang`; the code itself
    when the catalog has none ("" for none)."""
    return translations(lang).gettext(code) if code else ""


def negotiate(accept_language: str | None, default: str = DEFAULT) -> str:
    """The first of LANGUAGES an `Accept-Language` header prefers (by q), else `default`."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        lang = tag.strip().lower().split("-")[0]
        if lang in LANGUAGES and quality > 0 and (best is None or (-quality, position) < best[:2]):
            best = (-quality, position, lang)
    return best[2] if best else default


def choose(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The command line's language: `explicit` (`--lang`), else `LEDGER_LANG`, else the locale
    (the first set of `LC_ALL`, `LC_MESSAGES`, `LANG`) when it starts with `en`; Chinese otherwise,
    a locale that says nothing (`C`, `POSIX`, unset) included."""
    if explicit in LANGUAGES:
        return explicit
    env = os.environ if environ is None else environ
    chosen = env.get("LEDGER_LANG", "").strip().lower()[:2]
    if chosen in LANGUAGES:
        return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return "en" if env[name].lower().startswith("en") else DEFAULT
    return DEFAULT
