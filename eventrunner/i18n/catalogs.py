"""The message catalogs: one gettext .po file per language under locales/, written with
Babel's tools (see docs/TRANSLATING.md). The server's templates read them through
gettext; the page scripts get every message a page script uses (about 6 KB in Spanish,
far less compressed) as JSON in each page, so one catalog serves both. A message with no
translation (or a fuzzy one) is English."""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog as BabelCatalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from eventrunner.core.languages import DEFAULT_LANGUAGE, LANGUAGES, Language

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
# ER.nt in static/js/showclient.js knows this one rule (English and Spanish share it);
# a language with other plural forms must teach it its rule first.
SCRIPT_PLURAL_RULE = "(n != 1)"

ScriptMessages = dict[str, str | list[str]]


@dataclass(frozen=True)
class Catalog:
    language: Language
    translations: gettext.NullTranslations
    # What the page scripts translate: msgid -> text, or a singular's msgid -> its forms.
    script_messages: ScriptMessages = field(default_factory=dict)


def po_path(language: str, locales_dir: Path = LOCALES_DIR) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, language: str) -> BabelCatalog:
    with path.open("rb") as source:
        return read_po(source, locale=language)


def _used_by_scripts(message) -> bool:
    return any(filename.endswith(".js") for filename, _ in message.locations)


def script_messages(catalog: BabelCatalog) -> ScriptMessages:
    if catalog.plural_expr != SCRIPT_PLURAL_RULE:
        raise ValueError(f"{catalog.locale}: plural rule {catalog.plural_expr} is not one that ER.nt knows")
    messages: ScriptMessages = {}
    for message in catalog:
        if not message.id or message.fuzzy or not _used_by_scripts(message):
            continue
        if message.pluralizable:
            forms = list(message.string)
            if all(forms):
                messages[message.id[0]] = forms
        elif message.string:
            messages[message.id] = message.string
    return messages


def _translations(catalog: BabelCatalog) -> Translations:
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def load_catalogs(locales_dir: Path = LOCALES_DIR) -> Mapping[Language, Catalog]:
    catalogs: dict[Language, Catalog] = {
        DEFAULT_LANGUAGE: Catalog(DEFAULT_LANGUAGE, gettext.NullTranslations())
    }
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        catalog = read_catalog(po_path(language, locales_dir), language)
        catalogs[language] = Catalog(language, _translations(catalog), script_messages(catalog))
    return catalogs
