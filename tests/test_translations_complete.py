"""Every text a person reads has its French: the messages marked in the sources and the
templates (found as ``make i18n-extract`` finds them, through babel.cfg) each have a
French translation in the catalogue, written once, with the same placeholders.

The catalogue is also checked the other way: every translation in it is found in the
sources, so that ``make i18n-update`` (which sets aside what extraction no longer finds)
never takes a translation away from a page that still shows its text."""

from __future__ import annotations

import ast
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

ROOT = Path(__file__).resolve().parents[1]
MAPPING = ROOT / "babel.cfg"
# ``make i18n-update FR_PO=...`` checks another copy of the catalogue before updating it.
CATALOGUE = Path(
    os.environ.get("BOOKWITHME_FR_PO")
    or ROOT / "src" / "bookwithme" / "locale" / "fr" / "LC_MESSAGES" / "messages.po"
).resolve()

# A Python %-placeholder ("%(name)s", "%s", "%d"); "%%" is a percent sign.
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")

Key = tuple[str | None, str]  # (context, msgid)


@dataclass
class Entry:
    """One message of the .po file as written, duplicates and all."""

    line: int
    context: str | None = None
    msgid: str = ""
    plural: str | None = None
    translations: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False

    @property
    def key(self) -> Key:
        return (self.context, self.msgid)


@dataclass
class Found:
    """A message extracted from the sources and where it is used."""

    plural: str | None
    places: list[str]


@cache
def extracted() -> dict[Key, Found]:
    """Every marked message of the sources and templates, through babel.cfg's mapping."""
    with MAPPING.open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[Key, Found] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        singular, plural = (
            (message[0], message[1]) if isinstance(message, tuple) else (message, None)
        )
        if not singular:  # _() of something other than a literal: nothing to look up
            continue
        item = found.setdefault((context, singular), Found(plural, []))
        item.places.append(f"{filename}:{lineno}")
    return found


def _text(line: str) -> str:
    """The string of a .po line: ``msgid "..."`` or a continuation ``"..."``."""
    value = ast.literal_eval(line[line.index('"') :])
    assert isinstance(value, str)
    return value


@cache
def catalogue() -> list[Entry]:
    """The catalogue's entries in file order; obsolete ones (``#~``) are left out."""
    entries: list[Entry] = []
    current: Entry | None = None
    fuzzy = False
    target: tuple[str, int] | None = None  # what continuation lines add to
    for number, raw in enumerate(CATALOGUE.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            target = None
            continue
        if line.startswith("#,"):
            fuzzy = fuzzy or "fuzzy" in line
            continue
        if line.startswith("#"):
            continue
        keyword = line.split(" ", 1)[0]
        if keyword in ("msgctxt", "msgid") and (current is None or target != ("msgctxt", 0)):
            current = Entry(line=number, fuzzy=fuzzy)
            entries.append(current)
            fuzzy = False
        assert current is not None, f"{CATALOGUE.name}:{number}: text outside a message"
        if line.startswith('"'):
            assert target is not None, f"{CATALOGUE.name}:{number}: a stray line"
            _add(current, target, _text(line))
            continue
        match = re.fullmatch(r"(msgctxt|msgid|msgid_plural|msgstr)(?:\[(\d+)\])?", keyword)
        assert match, f"{CATALOGUE.name}:{number}: cannot read {line!r}"
        target = (match.group(1), int(match.group(2) or 0))
        if target[0] == "msgctxt":
            current.context = ""
        _add(current, target, _text(line))
    return [e for e in entries if e.msgid]  # the header is the entry with an empty msgid


def _add(entry: Entry, target: tuple[str, int], text: str) -> None:
    kind, index = target
    if kind == "msgctxt":
        entry.context = (entry.context or "") + text
    elif kind == "msgid":
        entry.msgid += text
    elif kind == "msgid_plural":
        entry.plural = (entry.plural or "") + text
    else:
        entry.translations[index] = entry.translations.get(index, "") + text


def _named(key: Key) -> str:
    context, msgid = key
    return repr(msgid) + (f" (context {context!r})" if context else "")


def _listing(keys: list[Key]) -> str:
    """Messages grouped by the file that first uses them."""
    by_file: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        where = extracted()[key].places[0].rsplit(":", 1)[0]
        by_file[where].append(f"  {_named(key)}")
    return "\n".join(f"{where}:\n" + "\n".join(lines) for where, lines in sorted(by_file.items()))


def _placeholders(text: str) -> list[str]:
    return sorted(m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(0) != "%%")


def test_every_message_has_its_french_translation() -> None:
    translated = {e.key: e for e in catalogue()}
    missing = []
    for key, found in extracted().items():
        entry = translated.get(key)
        forms = 2 if found.plural else 1
        if (
            entry is None
            or entry.fuzzy
            or any(not entry.translations.get(i, "").strip() for i in range(forms))
        ):
            missing.append(key)
    if missing:
        pytest.fail(
            f"{len(missing)} messages have no French translation (or only a fuzzy one) in "
            f"{CATALOGUE.relative_to(ROOT)}; append them:\n{_listing(missing)}",
            pytrace=False,
        )


def test_no_message_is_translated_twice() -> None:
    lines: dict[Key, list[int]] = defaultdict(list)
    for entry in catalogue():
        lines[entry.key].append(entry.line)
    twice = [
        f"  {_named(key)} at lines {', '.join(map(str, at))}"
        for key, at in lines.items()
        if len(at) > 1
    ]
    if twice:
        pytest.fail(
            "Messages written more than once in the catalogue (keep one):\n" + "\n".join(twice),
            pytrace=False,
        )


def test_translations_keep_the_placeholders_of_their_message() -> None:
    wrong = []
    for entry in catalogue():
        for index, text in entry.translations.items():
            source = entry.plural if index > 0 and entry.plural else entry.msgid
            expected = _placeholders(source)
            if text and _placeholders(text) != expected:
                wrong.append(
                    f"  line {entry.line}: {_named(entry.key)} has {expected}, "
                    f"its translation {text!r} has {_placeholders(text)}"
                )
    if wrong:
        pytest.fail(
            "Translations whose placeholders differ from the message's:\n" + "\n".join(wrong),
            pytrace=False,
        )


def test_every_translation_is_of_a_message_marked_in_the_sources() -> None:
    """A text translated at run time but not marked (``gettext(SOME_CONSTANT)`` with the
    constant's literal not wrapped in ``N_()``) would be set aside by ``make i18n-update``."""
    unmarked = [
        f"  line {e.line}: {_named(e.key)}" for e in catalogue() if e.key not in extracted()
    ]
    if unmarked:
        pytest.fail(
            "Translations of texts that extraction does not find: mark the English text where "
            "it is written with N_() (bookwithme.i18n), _() or gettext(), or remove the entry "
            "if nothing shows it any more:\n" + "\n".join(unmarked),
            pytrace=False,
        )
