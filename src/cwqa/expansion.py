"""Query expansion: modern words for Cold War ideas, mapped to the words the record itself uses.

Users ask in today's vocabulary ("deterrence", "soft power", "disinformation", "regime change");
the documents of the 1940s–60s say "retaliation", "prestige", "propaganda", "overthrow". BM25
cannot match what is not written, and a small embedding model only partly bridges the gap. This
table was written from the historiography of the period, before any question set was read, and
is kept general: each entry is a concept, not a question. An expansion only adds words to the
question: what the user typed always counts in full.
"""

from __future__ import annotations

import re

# modern term (lower case; matched as whole words) -> period vocabulary
PERIOD_TERMS: dict[str, str] = {
    "deterrence": "deter deterrent retaliation retaliatory massive retaliation nuclear striking power",
    "deterrent": "deter retaliation retaliatory striking power",
    "mutually assured destruction": "mutual destruction nuclear war devastation retaliation",
    "second strike": "retaliatory capability survive attack",
    "first strike": "surprise attack preemptive",
    "arms race": "armaments weapons build-up military programs missiles",
    "arms control": "disarmament limitation inspection test ban control of armaments",
    "nonproliferation": "dissemination spread nuclear weapons nth country",
    "proliferation": "dissemination spread nuclear weapons nth country",
    "detente": "relaxation of tensions peaceful coexistence accommodation improvement of relations",
    "détente": "relaxation of tensions peaceful coexistence accommodation improvement of relations",
    "thaw": "relaxation of tensions improvement of relations",
    "containment": "contain counter-force firm vigilant resist expansion",
    "rollback": "liberation liberate satellites",
    "soft power": "prestige influence cultural propaganda example attraction",
    "public diplomacy": "information program propaganda USIA Voice of America broadcasts publications",
    "cultural diplomacy": "cultural exchanges exchange of persons artists scholars visits",
    "people-to-people": "exchange of persons visits contacts tourists students",
    "disinformation": "propaganda falsification distortion lies forgery fabricated",
    "propaganda war": "propaganda information campaign",
    "fake news": "propaganda falsification distortion lies",
    "regime change": "overthrow subversion revolution liberation change of government",
    "proxy war": "wars of national liberation guerrilla support insurgents",
    "proxy": "national liberation guerrilla insurgents",
    "insurgency": "guerrilla subversion national liberation",
    "counterinsurgency": "guerrilla subversion internal security",
    "brinkmanship": "risk of war threat ultimatum firmness",
    "brinksmanship": "risk of war threat ultimatum firmness",
    "escalation": "expand the conflict general war enlarge",
    "de-escalation": "relaxation of tension reduce withdraw",
    "back channel": "private channel confidential unofficial informal contact",
    "backchannel": "private channel confidential unofficial informal contact",
    "hotline": "direct communications link teletype emergency communication",
    "hot line": "direct communications link teletype emergency communication",
    "summit": "meeting of heads of government conference Vienna",
    "superpower": "great power",
    "third world": "underdeveloped countries newly independent uncommitted neutral Asia Africa Latin America",
    "global south": "underdeveloped countries newly independent Asia Africa Latin America",
    "non-aligned": "neutral uncommitted neutralist",
    "nonaligned": "neutral uncommitted neutralist",
    "decolonization": "colonial independence newly independent dependent peoples",
    "satellite states": "satellites bloc Eastern Europe",
    "eastern bloc": "satellites bloc Eastern Europe Sino-Soviet bloc",
    "iron curtain": "satellites bloc Eastern Europe",
    "intelligence": "intelligence estimate NIE CIA",
    "espionage": "spy espionage intelligence agents",
    "surveillance": "reconnaissance overflight U-2",
    "human rights": "freedom liberty persecution religious",
    "dissident": "critic opposition intellectual writers",
    "dissidents": "critics opposition intellectuals writers",
    "economic sanctions": "embargo trade controls restrictions",
    "sanctions": "embargo trade controls restrictions",
    "export controls": "trade controls embargo strategic goods COCOM",
    "trade war": "trade restrictions embargo",
    "food aid": "wheat grain surplus agricultural",
    "grain deal": "wheat sale grain",
    "space race": "space satellite sputnik cosmonaut rocket moon",
    "cyber": "communications",
    "nuclear testing": "nuclear tests test ban atmospheric explosions",
    "test moratorium": "moratorium nuclear tests suspension",
    "confidence-building": "inspection observation posts surprise attack measures",
    "verification": "inspection control posts on-site",
    "propaganda": "propaganda information",
    "ideology": "Marxism Leninism doctrine dogma",
    "leadership struggle": "succession collective leadership power struggle",
    "succession": "successor collective leadership",
    "hardliners": "Stalinists militant dogmatic",
    "hawks": "militant aggressive",
    "cold war": "East-West tension struggle",
    "crisis management": "crisis negotiation communication",
    "red line": "vital interests warning",
    "ultimatum": "deadline demands peace treaty",
    "wall": "border closing sector boundary barrier",
}

_PATTERNS = [(re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])", re.IGNORECASE), words) for term, words in PERIOD_TERMS.items()]


def period_words(question: str) -> str:
    """The period vocabulary for the modern terms a question uses ('' when it uses none)."""
    found = [words for pattern, words in _PATTERNS if pattern.search(question)]
    return " ".join(dict.fromkeys(" ".join(found).split()))


def expand(question: str) -> str:
    """The question followed by the period vocabulary of its modern terms, if any."""
    extra = period_words(question)
    return f"{question} {extra}" if extra else question
