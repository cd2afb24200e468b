"""The translation catalogs (issue #13, shared with #14): every message the desk's templates and
code, the command line (`tr`, `N_` in cli/) and the shared vocabulary mark is translated in the
Chinese catalog, and the committed `.mo` is the `.po` compiled."""
from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from ledger import i18n

ROOT = Path(__file__).resolve().parents[2]
PO = i18n.LOCALE_DIR / "zh" / "LC_MESSAGES" / "ledger.po"
MO = PO.with_suffix(".mo")


def _marked() -> set[str]:
    with (ROOT / "babel.cfg").open() as mapping:  # what `pybabel extract -F babel.cfg` reads
        methods, options = parse_mapping_cfg(mapping)
    keywords = {"_": None, "N_": None, "gettext": None, "tr": None}
    return {message for _, _, message, _, _ in extract_from_dir(str(ROOT), methods, options_map=options,
                                                                keywords=keywords) if message}


def test_the_command_line_and_the_vocabulary_are_extracted_too():
    marked = _marked()
    assert {"Timeline", "rests on", "unknown lead {lead}", "hotline", "LeadArrived"} <= marked


def test_every_marked_message_has_a_chinese_translation():
    with PO.open("rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string}
    missing = sorted(_marked() - translated)
    assert not missing, f"add to {PO} and run `pybabel compile -d ledger/locale -D ledger`: {missing}"


def test_the_committed_mo_is_the_po_compiled():
    with PO.open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    with MO.open("rb") as f:
        mo = {m.id: m.string for m in read_mo(io.BytesIO(f.read())) if m.id}
    assert mo == po, "run `pybabel compile -d ledger/locale -D ledger`"


def test_the_language_is_chinese_unless_the_browser_prefers_english():
    assert i18n.negotiate(None) == "zh"
    assert i18n.negotiate("en-US,en;q=0.9") == "en"
    assert i18n.negotiate("fr, zh-CN;q=0.8, en;q=0.5") == "zh"
    assert i18n.negotiate("de") == "zh"
    assert i18n.translations("zh").gettext("Rotation board") == "轮值看板"


def test_every_translation_keeps_the_named_placeholders_of_its_message():
    import string

    def names(text: str) -> set[str]:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field}

    with PO.open("rb") as f:
        wrong = [m.id for m in read_po(f) if m.id and m.string and names(m.id) != names(m.string)]
    assert not wrong, f"a Chinese message names other placeholders than its id: {wrong}"
