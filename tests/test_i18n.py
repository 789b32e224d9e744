"""English and Spanish: the catalogs are complete and keep their placeholders, a viewer's
language is chosen as they would expect, dates and times read as in their language, and
a schedule's translations are checked like the rest of it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from eventrunner.core.schedule import ScheduleError, parse_schedule
from eventrunner.core.timetext import event_time, zone_of
from eventrunner.i18n.catalogs import load_catalogs, po_path, read_catalog
from eventrunner.i18n.dates import long_date
from eventrunner.i18n.negotiation import accepted, choose_language

from .builders import at

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def extracted(tmp_path: Path):
    """Every message the code marks today, by Babel's own extraction (as scripts/i18n-update)."""
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "extract", "-F", "babel.cfg", "-k", "t", "-k", "nt:1,2", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as source:
        from babel.messages.pofile import read_po

        return read_po(source)


def test_every_message_has_a_spanish_translation(tmp_path):
    spanish = read_catalog(po_path("es"), "es")
    missing = []
    for message in extracted(tmp_path):
        if not message.id:
            continue
        translated = spanish.get(message.id)
        strings = (
            []
            if translated is None
            else list(translated.string)
            if translated.pluralizable
            else [translated.string]
        )
        if translated is None or translated.fuzzy or not all(strings):
            where = ", ".join(f"{file}:{line}" for file, line in message.locations[:2])
            missing.append(f"{message.id!r} ({where})")
    assert not missing, "untranslated (run scripts/i18n-update, then translate):\n" + "\n".join(missing)


def test_translations_keep_their_placeholders():
    wrong = []
    for message in read_catalog(po_path("es"), "es"):
        if not message.id or not message.string or message.fuzzy:  # fuzzy ones are never served
            continue
        ids = message.id if message.pluralizable else (message.id,)
        strings = message.string if message.pluralizable else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if string and set(PLACEHOLDER.findall(string)) != wanted:
                wrong.append(f"{ids[0]!r} -> {string!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_the_page_scripts_get_the_messages_their_files_use():
    spanish = load_catalogs()["es"]
    assert spanish.script_messages["Live now"] == "En vivo ahora"
    assert spanish.script_messages["{n} person"] == ["{n} persona", "{n} personas"]
    # A template-only message stays out of the page's JSON.
    assert "Skip to main content" not in spanish.script_messages
    assert spanish.translations.gettext("Skip to main content") != "Skip to main content"


@pytest.mark.parametrize(
    ("asked", "remembered", "header", "language"),
    [
        (None, None, None, "en"),
        (None, None, "es-MX,es;q=0.9,en;q=0.8", "es"),
        (None, None, "fr-FR, es;q=0.5, en;q=0.4", "es"),  # the first we speak, by weight
        (None, None, "en;q=0.2, es;q=0.9", "es"),
        (None, None, "es;q=0, en", "en"),  # q=0: not this one
        (None, None, "de, fr", "en"),
        (None, "es", "en-US", "es"),  # the viewer's own choice beats the browser's
        ("en", "es", "es", "en"),  # and a new choice beats the remembered one
        ("xx", "es", None, "es"),
        (None, "zz", "es-419", "es"),
    ],
)
def test_a_viewers_language(asked, remembered, header, language):
    assert choose_language(asked, remembered, header) == language


def test_accept_language_survives_nonsense():
    assert accepted("es;q=abc, en;q=0.5,,;q=1, *") == ["*", "en"]
    assert accepted("a" * 10_000) == ["a" * 10_000]


def test_times_and_dates_read_as_in_each_language():
    zone = zone_of("America/New_York")
    afternoon = at("2022-03-03 13:00")
    assert event_time(afternoon, zone, "en") == "1:00 PM EST"
    assert event_time(afternoon, zone, "es") == "13:00 EST"
    assert long_date("2022-03-03", "en") == "Thursday, March 3, 2022"
    assert long_date("2022-03-03", "es") == "jueves, 3 de marzo de 2022"


DAY = """
event:
  title: Day
  timezone: America/New_York
  date: 2022-03-03
  demands: [One, Two]
  translations:
    es: {title: Jornada, demands: [Una, Dos]}
segments:
  - id: talk
    title: Talk
    kind: livestream
    start: "11:30"
    end: "12:00"
    translations:
      es: {title: Charla}
"""


def test_a_schedule_carries_translations_next_to_its_text():
    schedule = parse_schedule(DAY, "day.yaml")
    assert schedule.model.segments[0].translations["es"].title == "Charla"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "demands: [Una, Dos]",
            "demands: [Una]",
        ),
        ("es: {title: Charla}", "fr: {title: Causerie}"),
        ("es: {title: Charla}", "es: {titel: Charla}"),
    ],
)
def test_a_wrong_translation_is_named(change, message):
    broken = DAY.replace(change, message, 1)
    with pytest.raises(ScheduleError) as error:
        parse_schedule(broken, "day.yaml")
    text = str(error.value)
    assert "translations" in text, text


async def test_the_page_follows_accept_language_and_remembers_a_switch(running):
    # unsafe: aiohttp keeps no cookies for an IP address (the test server's) otherwise.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{running.url}/", headers={"Accept-Language": "es-US,es;q=0.9"}) as response:
            spanish = await response.text()
            assert {"Accept-Language", "Cookie"} <= set(response.headers["Vary"].split(", "))
            assert "lang" not in response.cookies
        assert '<html lang="es">' in spanish
        assert "Transmisión Nacional en Vivo" in spanish and "jueves, 3 de marzo de 2022" in spanish
        assert 'id="messages"' in spanish

        async with session.get(f"{running.url}/?lang=en", headers={"Accept-Language": "es"}) as response:
            english = await response.text()
            assert response.cookies["lang"].value == "en"
        assert '<html lang="en">' in english and "National Livestream" in english
        assert 'id="messages"' not in english
        # Remembered: the cookie now beats the browser's Spanish.
        async with session.get(f"{running.url}/", headers={"Accept-Language": "es"}) as response:
            assert '<html lang="en">' in await response.text()


async def test_an_overlay_takes_its_language_from_its_address_only(running):
    async with aiohttp.ClientSession(cookies={"lang": "es"}) as session:
        async with session.get(
            f"{running.url}/overlays/up-next", headers={"Accept-Language": "es"}
        ) as response:
            assert '<html lang="en">' in await response.text()
        async with session.get(f"{running.url}/overlays/up-next?lang=es") as response:
            page = await response.text()
            assert "lang" not in response.cookies
    assert '<html lang="es">' in page and "A continuación" in page
