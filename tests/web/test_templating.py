"""Templates are compiled once per language with their ``_("…")`` literals translated
(``templating.TranslatedLiterals``): the same text as calling gettext at render time."""

from __future__ import annotations

import pytest

from bookwithme.i18n import translations
from bookwithme.web.templating import _environment


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_literals_are_translated_as_gettext_would(lang: str) -> None:
    gettext = translations(lang).gettext
    env = _environment(lang)
    cases = {
        '{{ _("Pick a time") }}': gettext("Pick a time"),
        "{{ _('Pick a time') }}": gettext("Pick a time"),
        '{{ _("Next free day: %(day)s") | format(day="D") }}': gettext(
            "Next free day: %(day)s"
        ).replace("%(day)s", "D"),
        '{{ _("Show") ~ " " ~ _("Change") }}': f"{gettext('Show')} {gettext('Change')}",
        # Anything but one literal is gettext's at render time.
        "{{ _(word) }}": gettext("Show"),
        '{% with label=_("Email") %}{{ label }}{% endwith %}': gettext("Email"),
        # Text that looks like the call but is not one is left alone.
        '_("Show") {{ "_" }}': '_("Show") _',
    }
    for source, expected in cases.items():
        assert env.from_string(source).render(word="Show") == expected, source
    if lang == "fr":
        assert gettext("Pick a time") != "Pick a time"  # the catalogue is really used


def test_translated_text_is_still_escaped() -> None:
    env = _environment("en")
    assert env.from_string('{{ _("<b>") }}').render() == "&lt;b&gt;"
