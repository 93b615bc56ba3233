"""Street addresses, conservatively: only forms with a house number *and* a street-type
word, so that ordinary sentences with numbers are not flagged.

* English: ``221B Baker Street``, ``1600 Pennsylvania Avenue NW``, ``10 Downing St``,
  with optional ``Apt/Suite/Unit/Flat N``. One to four capitalised words between the
  number and the street type.
* German/Dutch/Nordic compounds: ``Hauptstraße 12``, ``Musterstr. 5a``,
  ``Bahnhofweg 3``, ``Keizersgracht 123``.
* French/Spanish/Italian: ``12 rue de la Paix``, ``Calle Mayor 5``, ``Via Roma 10``.

Missed on purpose (documented limit): addresses without a street-type word, PO boxes,
postcodes on their own, and free-form addresses in other languages.
"""

from __future__ import annotations

import re

from apprentice.redact.base import Pattern, PatternRecognizer

_EN_TYPES = (
    r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl"
    r"|Terrace|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Crescent|Close|Gardens|Grove"
    r"|Mews|Row|Walk"
)
_EN = re.compile(
    rf"(?<![\w-])\d{{1,6}}[A-Za-z]?\s+(?:[A-Z][A-Za-z'-]+\s+){{1,4}}(?:{_EN_TYPES})\b\.?"
    r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|Fl)\.?\s*#?\s*\w{1,6})?"
)
_COMPOUND = re.compile(
    r"(?<![\w-])[A-ZÄÖÜÅ][a-zäöüßåæø]+(?:-[A-ZÄÖÜ]?[a-zäöüß]+)*"
    r"(?:straße|strasse|str\.|gasse|allee|weg|platz|ring|damm|ufer|gracht|laan|straat"
    r"|plein|vej|gatan|gata|veien)\s+\d{1,4}\s?[a-zA-Z]?(?![\w-])"
)
_ROMANCE = re.compile(
    r"(?<![\w-])(?:\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|bd|place|chemin"
    r"|impasse|allée|quai|route)\s+(?:(?:de|du|des|la|le|l'|d')\s*)*[A-ZÀ-Ý][\w'-]+"
    r"(?:\s+[A-ZÀ-Ý][\w'-]+){0,3}"
    r"|(?:Calle|Avenida|Plaza|Paseo|Via|Viale|Piazza|Corso|Rua)\s+(?:(?:de|del|la|dei|di)\s+)*"
    r"[A-ZÀ-Ý][\w'-]+(?:\s+[A-ZÀ-Ý][\w'-]+){0,3},?\s+(?:n[º°o.]\s*)?\d{1,4}(?![\w-]))"
)


class StreetAddressRecognizer(PatternRecognizer):
    name = "address"
    entity = "STREET_ADDRESS"
    patterns = (Pattern(_EN, 0.6), Pattern(_COMPOUND, 0.6), Pattern(_ROMANCE, 0.6))
