"""The meeting-type page in the browser, without JavaScript: a type's own hours and date
range (the working-hours editor), its colour, any number of questions added, moved and
removed, an online meeting link only where it is asked for, French for a French organizer,
a redirect after every save, and a question before deleting. What the page saves is what
the API shows, and a form that is wrong saves nothing."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.i18n import translations
from bookwithme.web import reminders
from tests.factories import Account, create_account, sign_in
from tests.factories import post_form as post

HTML = {"accept": "text/html"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    account = create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    sign_in(client, "ada@example.com")
    return account


def types_of(client: TestClient, account: Account) -> list[dict[str, Any]]:
    return list(client.get("/api/v1/meeting-types", headers=account.headers).json()["items"])


def saved(client: TestClient, account: Account, type_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/meeting-types/{type_id}", headers=account.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def form_of(html: str) -> dict[str, str]:
    """What the browser would send for the page's main form, as the page shows it: text
    fields, ticked boxes, chosen options (the first button's action: save)."""
    form = html[html.index('class="type-form"') : html.index("</form>", html.index("type-form"))]
    form = re.sub(r"<template.*?</template>", "", form, flags=re.S)  # never sent
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        kind_name = kind.group(1) if kind else "text"
        value = re.search(r'value="([^"]*)"', tag)
        if kind_name in ("checkbox", "radio"):
            if " checked" in tag:
                fields[name.group(1)] = unescape(value.group(1)) if value else "on"
            continue
        fields[name.group(1)] = unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        fields[name] = unescape(body)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body) or re.search(
            r'<option value="([^"]*)"', body
        )
        fields[name] = unescape(chosen.group(1)) if chosen else ""
    fields.pop("action", None)
    return fields


def page_form(client: TestClient, type_id: str) -> dict[str, str]:
    page = client.get(f"/meeting-types/{type_id}", headers=HTML)
    assert page.status_code == 200, page.text
    return form_of(page.text)


def question_labels(html: str) -> list[str]:
    shown = re.sub(r"<template.*?</template>", "", html, flags=re.S)
    return [unescape(v) for v in re.findall(r'name="q\d+_label"[^>]*value="([^"]*)"', shown)]


def error_of(html: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="e-{field}">([^<]*)</p>', html)
    assert found is not None, f"no error for {field}"
    return unescape(found.group(1))


# --- A type's own hours ------------------------------------------------------------------


def test_own_hours_and_dates_are_written_as_the_api_writes_them(
    client: TestClient, ada: Account
) -> None:
    mine, other = (t["id"] for t in types_of(client, ada))
    form = page_form(client, mine)
    # By default a type keeps the working hours, and its own start from them.
    assert form["hours"] == "default" and form["mon"] == "09:00-17:00"
    assert saved(client, ada, mine)["availability"] is None

    form.update(
        hours="custom",
        time_zone="America/New_York",
        mon="9:00-12:00, 13:00 - 17:30",
        tue="",
        wed="08:00\u201312:00",
        fri="",
        overrides="2026-12-24: off\n2026-12-27: 10:00-12:00",
        range_start="2026-12-01",
        range_end="2027-03-31",
    )
    answer = post(client, f"/meeting-types/{mine}", **form)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/meeting-types/{mine}?notice=saved"
    availability = {
        "time_zone": "America/New_York",
        "weekly": {
            "mon": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:30"}],
            "tue": [],
            "wed": [{"start": "08:00", "end": "12:00"}],
            "thu": [{"start": "09:00", "end": "17:00"}],
            "fri": [],
            "sat": [],
            "sun": [],
        },
        "overrides": [
            {"date": "2026-12-24", "intervals": []},
            {"date": "2026-12-27", "intervals": [{"start": "10:00", "end": "12:00"}]},
        ],
        "date_range": {"start": "2026-12-01", "end": "2027-03-31"},
    }
    patched = client.patch(
        f"/api/v1/meeting-types/{other}", json={"availability": availability}, headers=ada.headers
    )
    assert patched.status_code == 200, patched.text
    assert saved(client, ada, mine)["availability"] == saved(client, ada, other)["availability"]
    assert saved(client, ada, mine)["availability"] == availability
    # The working hours are untouched.
    working = client.get("/api/v1/me/availability", headers=ada.headers).json()
    assert working["time_zone"] == "Europe/Paris" and working["weekly"]["tue"] != []

    # The page shows them again as they were written.
    shown = page_form(client, mine)
    assert shown["hours"] == "custom" and shown["mon"] == "09:00-12:00, 13:00-17:30"
    assert shown["time_zone"] == "America/New_York"
    assert (shown["range_start"], shown["range_end"]) == ("2026-12-01", "2027-03-31")
    assert shown["overrides"] == "2026-12-24: off\n2026-12-27: 10:00-12:00"

    # A date range open on one side: no limit that way.
    post(
        client, f"/meeting-types/{mine}", **{**shown, "range_start": "", "range_end": "2027-01-31"}
    )
    assert saved(client, ada, mine)["availability"]["date_range"] == {
        "start": "1970-01-01",
        "end": "2027-01-31",
    }
    assert page_form(client, mine)["range_start"] == ""

    # Back to the working hours: the type's own are gone.
    post(client, f"/meeting-types/{mine}", **{**shown, "hours": "default"})
    assert saved(client, ada, mine)["availability"] is None
    assert page_form(client, mine)["mon"] == "09:00-17:00"  # from the working hours again


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"tue": "nine to five"}, "tue", "“nine to five” is not a time range"),
        ({"wed": "17:00-09:00"}, "wed", "17:00-09:00 must start before it ends."),
        ({"thu": "09:00-12:00, 11:00-13:00"}, "thu", "overlap"),
        ({"fri": "25:00-26:00"}, "fri", "25:00 is not a time of day"),
        ({"time_zone": "Mars/Base"}, "time_zone", "Choose a time zone from the list"),
        ({"overrides": "2026-12-24: off\nsomeday: off"}, "overrides", "Line 2: “someday”"),
        (
            {"overrides": "2026-12-24: off\n2026-12-24: 10:00-11:00"},
            "overrides",
            "already on line 1",
        ),
        ({"range_start": "2027-02-01", "range_end": "2027-01-01"}, "range_end", "before the first"),
        ({"range_start": "soon"}, "range_start", "Enter a date"),
        ({"hours": "sometimes"}, None, "Choose your working hours or this type's own hours."),
    ],
)
def test_wrong_own_hours_are_explained_where_they_are_and_nothing_is_saved(
    client: TestClient, ada: Account, fields: dict[str, str], field: str | None, message: str
) -> None:
    type_id = types_of(client, ada)[0]["id"]
    before = saved(client, ada, type_id)
    form = {**page_form(client, type_id), "hours": "custom", "title": "Renamed", **fields}
    answer = post(client, f"/meeting-types/{type_id}", **form)
    assert answer.status_code == 422
    text = unescape(answer.text)
    assert "Nothing was saved." in text and message in text
    if field is not None:
        assert message in error_of(answer.text, field)
        assert f'aria-describedby="e-{field}"' in answer.text or f"e-{field}" in answer.text
    # What was typed is shown again, and the type is as it was.
    assert form_of(answer.text)["tue"] == form["tue"]
    assert saved(client, ada, type_id) == before


def test_own_hours_not_chosen_are_not_checked(client: TestClient, ada: Account) -> None:
    """Hours typed while "Use my working hours" is chosen are neither saved nor refused."""
    type_id = types_of(client, ada)[0]["id"]
    form = {**page_form(client, type_id), "hours": "default", "mon": "whenever"}
    assert post(client, f"/meeting-types/{type_id}", **form).status_code == 303
    assert saved(client, ada, type_id)["availability"] is None


# --- Colour ------------------------------------------------------------------------------


def test_a_colour_is_chosen_cleared_and_checked(client: TestClient, ada: Account) -> None:
    type_id = types_of(client, ada)[0]["id"]
    form = page_form(client, type_id)
    assert form["color_choice"] == "none"
    post(
        client, f"/meeting-types/{type_id}", **{**form, "color_choice": "pick", "color": "#0ca678"}
    )
    assert saved(client, ada, type_id)["color"] == "#0ca678"
    shown = page_form(client, type_id)
    assert shown["color_choice"] == "pick" and shown["color"] == "#0ca678"

    wrong = post(client, f"/meeting-types/{type_id}", **{**shown, "color": "green"})
    assert wrong.status_code == 422
    assert "six hexadecimal digits, such as #3b5bdb" in error_of(wrong.text, "color")
    assert saved(client, ada, type_id)["color"] == "#0ca678"

    post(client, f"/meeting-types/{type_id}", **{**shown, "color_choice": "none"})
    assert saved(client, ada, type_id)["color"] is None


def test_parts_a_form_does_not_send_are_left_as_they_are(client: TestClient, ada: Account) -> None:
    """As with a PATCH: a form without the colour, the hours or the questions keeps them."""
    type_id = types_of(client, ada)[0]["id"]
    kept = {
        "color": "#e03131",
        "questions": [
            {"id": "company", "label": "Company", "kind": "text", "required": True, "options": []}
        ],
        "availability": {
            "time_zone": "Europe/Paris",
            "weekly": {"sat": [{"start": "10:00", "end": "12:00"}]},
        },
    }
    client.patch(f"/api/v1/meeting-types/{type_id}", json=kept, headers=ada.headers)
    before = saved(client, ada, type_id)
    form = page_form(client, type_id)
    bare = {
        k: v
        for k, v in form.items()
        if not re.match(
            r"(q\d+_|color|hours|range_|overrides|time_zone|mon|tue|wed|thu|fri|sat|sun)", k
        )
    }
    answer = post(client, f"/meeting-types/{type_id}", **{**bare, "title": "Renamed"})
    assert answer.status_code == 303, answer.text
    after = saved(client, ada, type_id)
    assert after["title"] == "Renamed"
    for name in ("color", "questions", "availability"):
        assert after[name] == before[name]


# --- Questions ---------------------------------------------------------------------------


def test_any_number_of_questions_are_added_moved_and_removed_without_javascript(
    client: TestClient, ada: Account
) -> None:
    type_id = types_of(client, ada)[1]["id"]
    form = page_form(client, type_id)
    labels = ["Company", "Role", "Team size", "Budget", "Anything else?"]
    for i, label in enumerate(labels):
        # Each "Add another question" brings the page back with one more empty row.
        form[f"q{i}_label"] = label
        again = post(client, f"/meeting-types/{type_id}", **form, action="q_add")
        assert again.status_code == 200
        assert "Not saved yet: press Save to keep these changes." in again.text
        assert f'id="q{i + 1}_label"' in again.text and "autofocus" in again.text
        form = form_of(again.text)
    assert saved(client, ada, type_id)["questions"] == []  # nothing is saved until Save
    form["q2_kind"], form["q2_options"] = "select", "1-10, 11-50, 51+"
    assert post(client, f"/meeting-types/{type_id}", **form).status_code == 303
    questions = saved(client, ada, type_id)["questions"]
    assert [q["label"] for q in questions] == labels
    assert questions[2]["options"] == ["1-10", "11-50", "51+"]
    ids = {q["label"]: q["id"] for q in questions}

    # Moving: "Budget" up twice, "Company" down once, then "Role" removed; the page shows
    # each step, and saving keeps the order and each question's id.
    form = page_form(client, type_id)
    for action, order in [
        ("q_up_3", ["Company", "Role", "Budget", "Team size", "Anything else?"]),
        ("q_up_2", ["Company", "Budget", "Role", "Team size", "Anything else?"]),
        ("q_down_0", ["Budget", "Company", "Role", "Team size", "Anything else?"]),
        ("q_remove_2", ["Budget", "Company", "Team size", "Anything else?"]),
    ]:
        again = post(client, f"/meeting-types/{type_id}", **form, action=action)
        assert again.status_code == 200
        assert question_labels(again.text)[:-1] == order and question_labels(again.text)[-1] == ""
        form = form_of(again.text)
    assert [q["label"] for q in saved(client, ada, type_id)["questions"]] == labels
    post(client, f"/meeting-types/{type_id}", **form)
    questions = saved(client, ada, type_id)["questions"]
    assert [q["label"] for q in questions] == ["Budget", "Company", "Team size", "Anything else?"]
    assert all(q["id"] == ids[q["label"]] for q in questions)
    assert questions[2]["options"] == ["1-10", "11-50", "51+"]
    # The first cannot go up, the last filled-in one cannot go down.
    page = client.get(f"/meeting-types/{type_id}", headers=HTML).text
    assert re.search(r'value="q_up_0"[^>]*disabled', page)
    assert re.search(r'value="q_down_3"[^>]*disabled', page)
    assert not re.search(r'value="q_down_2"[^>]*disabled', page)


def test_wrong_questions_are_explained_next_to_them(client: TestClient, ada: Account) -> None:
    type_id = types_of(client, ada)[1]["id"]
    form = page_form(client, type_id)
    form.update(q0_label="Company", q0_kind="text")
    form.update(q1_label="Topic", q1_kind="select", q1_options="")
    answer = post(client, f"/meeting-types/{type_id}", **form)
    assert answer.status_code == 422
    assert error_of(answer.text, "q1") == "“Topic” needs options: write them separated by commas."
    assert question_labels(answer.text)[:2] == ["Company", "Topic"]
    form.update(q1_options="Sales, Sales")
    twice = post(client, f"/meeting-types/{type_id}", **form)
    assert error_of(twice.text, "q1") == "“Topic” has the same option twice."
    assert saved(client, ada, type_id)["questions"] == []

    many = {**form, **{f"q{i}_label": f"Question {i}" for i in range(21)}}
    many.update({f"q{i}_kind": "text" for i in range(21)})
    too_many = post(client, f"/meeting-types/{type_id}", **many)
    assert too_many.status_code == 422
    assert "at most 20 questions" in unescape(too_many.text)
    assert saved(client, ada, type_id)["questions"] == []


# --- Where, and the online meeting link --------------------------------------------------


def test_an_in_person_type_gets_no_video_link_unless_asked(
    client: TestClient, ada: Account
) -> None:
    type_id = types_of(client, ada)[1]["id"]
    form = page_form(client, type_id)  # online, with a link
    assert form["add_online_meeting"] == "on" and form["online_was"] == "on"

    # Where becomes "In person", the box left ticked from the online meeting: unticked.
    moved = post(
        client,
        f"/meeting-types/{type_id}",
        **{**form, "location_kind": "in_person", "location_details": "12 rue de Rivoli, Paris"},
    )
    assert moved.headers["location"] == f"/meeting-types/{type_id}?notice=saved_no_link"
    assert saved(client, ada, type_id)["add_online_meeting"] is False
    page = client.get(moved.headers["location"], headers=HTML).text
    assert "A meeting in person or by phone gets no online meeting link" in page
    form = form_of(page)
    assert "add_online_meeting" not in form and form["location_was"] == "in_person"

    # Ticked on a page that shows "In person": asked for, so kept.
    post(client, f"/meeting-types/{type_id}", **{**form, "add_online_meeting": "on"})
    assert saved(client, ada, type_id)["add_online_meeting"] is True
    assert "add_online_meeting" in page_form(client, type_id)

    # The script says when the organizer touched the box: then it stays as they left it.
    other = types_of(client, ada)[0]["id"]
    form = page_form(client, other)
    post(
        client,
        f"/meeting-types/{other}",
        **{**form, "location_kind": "phone", "online_touched": "1"},
    )
    assert saved(client, ada, other)["add_online_meeting"] is True


def test_the_api_gives_no_video_link_to_an_in_person_type_unless_asked(
    client: TestClient, ada: Account
) -> None:
    def create(**fields: Any) -> dict[str, Any]:
        made = client.post(
            "/api/v1/meeting-types", json={"title": "Visit", **fields}, headers=ada.headers
        )
        assert made.status_code == 201, made.text
        return dict(made.json())

    assert create()["add_online_meeting"] is True  # online by default
    assert create(location={"kind": "in_person"})["add_online_meeting"] is False
    assert create(location={"kind": "phone"}, add_online_meeting=True)["add_online_meeting"] is True

    def patch(type_id: str, **fields: Any) -> dict[str, Any]:
        answer = client.patch(f"/api/v1/meeting-types/{type_id}", json=fields, headers=ada.headers)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    online = create()
    assert patch(online["id"], location={"kind": "in_person"})["add_online_meeting"] is False
    again = create()
    moved = patch(again["id"], location={"kind": "phone"}, add_online_meeting=True)
    assert moved["add_online_meeting"] is True
    # Already in person with a link asked for: changing the address keeps it.
    assert (
        patch(again["id"], location={"kind": "in_person", "details": "Room 4"})[
            "add_online_meeting"
        ]
        is True
    )
    # Somewhere else is not in a room for sure: the link stays.
    custom = create()
    assert patch(custom["id"], location={"kind": "custom"})["add_online_meeting"] is True


# --- Saving, creating, duplicating, deleting ---------------------------------------------


def test_every_save_redirects_and_deleting_asks_first(client: TestClient, ada: Account) -> None:
    created = post(client, "/meeting-types", title="Intro call", duration_minutes="45")
    assert created.status_code == 303
    type_id = created.headers["location"].split("/")[2].split("?")[0]
    assert created.headers["location"] == f"/meeting-types/{type_id}?notice=created"
    assert (
        "Meeting type created. Set it up below."
        in client.get(created.headers["location"], headers=HTML).text
    )

    wrong = post(client, "/meeting-types", title=" ", duration_minutes="4")
    assert wrong.status_code == 422
    assert "Give the meeting type a title" in unescape(wrong.text)
    assert "Enter a length from 5 to 720 minutes." in wrong.text
    assert len(types_of(client, ada)) == 3

    form = page_form(client, type_id)
    answer = post(client, f"/meeting-types/{type_id}", **{**form, "title": "First call"})
    assert answer.status_code == 303
    assert "Saved." in client.get(answer.headers["location"], headers=HTML).text

    copy = post(client, f"/meeting-types/{type_id}/duplicate")
    assert copy.status_code == 303 and copy.headers["location"].endswith("?notice=duplicated")

    question = client.get(f"/meeting-types/{type_id}/delete", headers=HTML)
    assert question.status_code == 200
    text = unescape(question.text)
    assert "Delete “First call”?" in text and "Bookings already made stay." in text
    assert (
        f'action="/meeting-types/{type_id}/delete"' in text and 'name="confirm" value="yes"' in text
    )
    assert saved(client, ada, type_id)["title"] == "First call"  # asking changes nothing

    unasked = post(client, f"/meeting-types/{type_id}/delete")
    assert unasked.headers["location"] == f"/meeting-types/{type_id}/delete"
    assert saved(client, ada, type_id)["title"] == "First call"
    deleted = post(client, f"/meeting-types/{type_id}/delete", confirm="yes")
    assert deleted.headers["location"] == "/?notice=deleted"
    assert client.get(f"/api/v1/meeting-types/{type_id}", headers=ada.headers).status_code == 404
    assert client.get(f"/meeting-types/{type_id}/delete", headers=HTML).status_code == 404


def test_the_working_hours_page_redirects_after_saving(client: TestClient, ada: Account) -> None:
    form = {day: "" for day in DAYS} | {"time_zone": "Europe/Paris", "mon": "10:00-12:00"}
    answer = post(client, "/availability", **form, overrides="")
    assert answer.status_code == 303 and answer.headers["location"] == "/?notice=hours"
    schedule = client.get("/api/v1/me/availability", headers=ada.headers).json()
    assert schedule["weekly"]["mon"] == [{"start": "10:00", "end": "12:00"}]
    assert schedule["weekly"]["tue"] == []


# --- French --------------------------------------------------------------------------------


@pytest.fixture
def french(client: TestClient, ada: Account) -> Account:
    assert client.patch("/api/v1/me", json={"locale": "fr"}, headers=ada.headers).status_code == 200
    return ada


def test_the_meeting_type_page_is_in_french_for_a_french_organizer(
    client: TestClient, french: Account
) -> None:
    type_id = types_of(client, french)[1]["id"]
    page = client.get(f"/meeting-types/{type_id}", headers=HTML)
    text = unescape(page.text)
    assert '<html lang="fr">' in page.text
    for words in (
        "Utiliser mes heures de travail",
        "Questions du formulaire de réservation",
        "Ajouter un lien de réunion en ligne à chaque réservation",
        "Lundi",
        "Aucune couleur",
        "Enregistrer",
    ):
        assert words in text, words
    for english in ("Use my working hours", "Questions on the booking form", "No colour", ">Save<"):
        assert english not in text, english

    form = form_of(page.text)
    wrong = post(
        client,
        f"/meeting-types/{type_id}",
        **{
            **form,
            "duration_minutes": "721",
            "hours": "custom",
            "tue": "neuf heures",
            "q0_label": "Sujet",
            "q0_kind": "select",
            "r1_amount": "1",
            "r1_unit": "days",
            "r1_to": "invitee",
        },
    )
    assert wrong.status_code == 422
    text = unescape(wrong.text)
    assert "Rien n\u2019a été enregistré." in text
    assert error_of(wrong.text, "duration_minutes") == "Saisissez une durée de 5 à 720 minutes."
    assert (
        error_of(wrong.text, "tue")
        == "« neuf heures » n\u2019est pas une plage horaire comme 09:00-17:00."
    )
    assert (
        error_of(wrong.text, "q0")
        == "« Sujet » a besoin d\u2019options : écrivez-les séparées par des virgules."
    )
    assert error_of(wrong.text, "r1") == "C\u2019est le même que le rappel 1."

    moved = post(client, f"/meeting-types/{type_id}", **form, action="q_add")
    assert "Pas encore enregistré" in unescape(moved.text)
    done = post(client, f"/meeting-types/{type_id}", **form)
    assert "Enregistré." in client.get(done.headers["location"], headers=HTML).text
    asked = unescape(client.get(f"/meeting-types/{type_id}/delete", headers=HTML).text)
    assert "Supprimer « 30 minute meeting » ?" in asked
    assert "Les réservations déjà faites restent." in asked


def test_the_working_hours_page_is_in_french_for_a_french_organizer(
    client: TestClient, french: Account
) -> None:
    page = unescape(client.get("/availability", headers=HTML).text)
    assert "Heures de travail" in page and "Mardi" in page and "Exceptions" in page
    assert "Working hours" not in page
    wrong = post(
        client,
        "/availability",
        **(
            {day: "" for day in DAYS}
            | {"time_zone": "Europe/Paris", "wed": "09:00-12:00, 11:00-13:00"}
        ),
        overrides="2026-12-24: déjeuner",
    )
    assert wrong.status_code == 422
    assert "se chevauchent" in error_of(wrong.text, "wed")
    assert error_of(wrong.text, "overrides").startswith("Ligne 1 : ")


def test_every_reminder_word_and_message_is_said_in_french() -> None:
    """The reminder rows speak the organizer's language: each problem a row can have, and
    each word of its choices."""
    french = translations("fr").gettext
    for rows, expected in (
        ({"r0_amount": "soon"}, "Saisissez un nombre entier"),
        ({"r0_amount": "0"}, None),
        ({"r0_amount": "8", "r0_unit": "days"}, None),
        ({"r0_amount": "2", "r0_unit": "weeks"}, None),
        ({"r0_amount": "2", "r0_to": "everyone"}, None),
    ):
        english = reminders.read(rows)[1]["reminder0"]
        said = reminders.read(rows, french)[1]["reminder0"]
        assert said == french(english) != english
        if expected:
            assert said.startswith(expected)
    same = reminders.read({"r0_amount": "24", "r1_amount": "24"}, french)[1]["reminder1"]
    assert same == "C\u2019est le même que le rappel 1."
    for word in (*reminders.UNIT_NAMES.values(), *reminders.RECIPIENTS.values()):
        assert french(word) != word or word == "minutes", word
