"""Demo notices for a science park, placed around `now` so every status shows."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notices.core.config import Settings
from notices.core.models import Notice
from notices.mail import subscriptions
from notices.notice import store, templates_store
from notices.notice.validation import parse_new_notice
from notices.people.roles import Actor

PLESMANLAAN_BODY = """\
The Plesmanlaan is being rebuilt between the Sylviusweg and the Wassenaarseweg.
From **Friday 14 November 16:00** two temporary closures apply:

1. The Plesmanlaan is closed to through traffic between the Sylviusweg and the Einsteinweg.
2. The exit towards the Wassenaarseweg is closed; follow the yellow diversion signs.

Cyclists and pedestrians can pass on the north side. Deliveries for buildings on the
Plesmanlaan are directed via the Einsteinweg. See the [project page](https://www.example.org/plesmanlaan)
for maps and phasing.
"""
PLESMANLAAN_BODY_NL = """\
De Plesmanlaan wordt tussen de Sylviusweg en de Wassenaarseweg opnieuw ingericht.
Vanaf **vrijdag 14 november 16:00** gelden twee tijdelijke afsluitingen:

1. De Plesmanlaan is tussen de Sylviusweg en de Einsteinweg afgesloten voor doorgaand verkeer.
2. De afrit naar de Wassenaarseweg is afgesloten; volg de gele omleidingsborden.

Fietsers en voetgangers kunnen aan de noordkant passeren. Leveringen voor gebouwen aan de
Plesmanlaan gaan via de Einsteinweg. Zie de [projectpagina](https://www.example.org/plesmanlaan)
voor kaarten en fasering.
"""


def _line(role: str, *positions: tuple[float, float]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [list(position) for position in positions]},
        "properties": {"role": role},
    }


# [longitude, latitude]: the closed stretch of the Plesmanlaan, and the way round it (north on the
# Sylviusweg, west along the Wassenaarseweg, south on the Einsteinweg); see config/notices.toml.
PLESMANLAAN_CLOSURE = {
    "type": "FeatureCollection",
    "features": [
        _line("closure", (4.4745, 52.1692), (4.4700, 52.1700), (4.4650, 52.1707)),
        _line(
            "diversion",
            (4.4745, 52.1692),
            (4.4741, 52.1718),
            (4.4741, 52.1741),
            (4.4700, 52.1745),
            (4.4647, 52.1750),
            (4.4647, 52.1735),
            (4.4650, 52.1707),
        ),
    ],
}
# The slip road from the Plesmanlaan up to the Wassenaarseweg; traffic goes via the Sylviusweg.
WASSENAARSEWEG_EXIT_CLOSURE = {
    "type": "FeatureCollection",
    "features": [
        _line("closure", (4.4790, 52.1684), (4.4800, 52.1705), (4.4805, 52.1730)),
        _line("diversion", (4.4790, 52.1684), (4.4745, 52.1692), (4.4741, 52.1718), (4.4741, 52.1741)),
    ],
}


def demo_notices(settings: Settings, now: datetime) -> list[dict[str, Any]]:
    zone = settings.timezone
    today = now.astimezone(zone).date()

    def local(day: date, hour: int, minute: int = 0) -> datetime:
        # Demo times avoid the DST hours, so fold=0 is never a guess here.
        return datetime.combine(day, time(hour, minute), tzinfo=zone)

    def texts(**by_language: str) -> dict[str, str]:
        # The site's languages only (a one-language site refuses the others). The last notice
        # stays English-only, to show how a missing translation reads (marked).
        return {language: text for language, text in by_language.items() if language in settings.languages}

    plesmanlaan_start = datetime(2025, 11, 14, 16, 0, tzinfo=zone)
    # Tuesday: 1 in Python's count from Monday = 0; the first Tuesday after today.
    next_tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    return [
        {
            "title": texts(
                en="Plesmanlaan closed between Sylviusweg and Einsteinweg",
                nl="Plesmanlaan afgesloten tussen Sylviusweg en Einsteinweg",
            ),
            "summary": texts(
                en="First of two temporary closures for the reconstruction of the Plesmanlaan.",
                nl="Eerste van twee tijdelijke afsluitingen voor de reconstructie van de Plesmanlaan.",
            ),
            "body": texts(en=PLESMANLAAN_BODY, nl=PLESMANLAAN_BODY_NL),
            "category": "road-closure",
            "severity": "major",
            "locations": ["plesmanlaan", "sylviusweg", "einsteinweg"],
            "geometry": PLESMANLAAN_CLOSURE,
            "publish_at": plesmanlaan_start - timedelta(days=10),
            "starts_at": plesmanlaan_start,
            "expected_end": texts(en="approximately Q3 2027", nl="omstreeks Q3 2027"),
        },
        {
            "title": texts(
                en="Plesmanlaan exit to Wassenaarseweg closed", nl="Afrit Plesmanlaan naar Wassenaarseweg afgesloten"
            ),
            "summary": texts(
                en="Second temporary closure; follow the yellow diversion signs.",
                nl="Tweede tijdelijke afsluiting; volg de gele omleidingsborden.",
            ),
            "body": texts(en=PLESMANLAAN_BODY, nl=PLESMANLAAN_BODY_NL),
            "category": "road-closure",
            "severity": "major",
            "locations": ["plesmanlaan", "wassenaarseweg"],
            "geometry": WASSENAARSEWEG_EXIT_CLOSURE,
            "publish_at": plesmanlaan_start - timedelta(days=10),
            "starts_at": plesmanlaan_start,
            "expected_end": texts(en="approximately Q3 2027", nl="omstreeks Q3 2027"),
        },
        {
            "title": texts(
                en="Power and network outage Gorlaeus building tonight",
                nl="Stroom- en netwerkonderbreking Gorlaeusgebouw vannacht",
            ),
            "summary": texts(
                en="Planned maintenance on the medium-voltage station.",
                nl="Gepland onderhoud aan het middenspanningsstation.",
            ),
            "body": texts(
                en="Switch off sensitive equipment before **22:00**. Freezers on the emergency grid are not affected.",
                nl="Schakel gevoelige apparatuur uit vóór **22:00**. Vriezers op de noodstroom merken er niets van.",
            ),
            "category": "utilities",
            "severity": "critical",
            "locations": ["gorlaeus"],
            "publish_at": local(today - timedelta(days=1), 15),
            "starts_at": local(today, 22),
            "ends_at": local(today + timedelta(days=1), 2),
        },
        {
            "title": texts(en="Open day at De Limes", nl="Open dag bij De Limes"),
            "summary": texts(
                en="Extra visitors and parking on the event field.",
                nl="Extra bezoekers en parkeren op het evenemententerrein.",
            ),
            "body": texts(
                en="Expect busy roads around De Limes between 14:00 and 17:00.",
                nl="Reken op drukte rond De Limes tussen 14:00 en 17:00.",
            ),
            "category": "event",
            "severity": "info",
            "locations": ["de-limes"],
            "publish_at": local(today - timedelta(days=2), 10),
            "starts_at": local(today + timedelta(days=7), 14),
            "ends_at": local(today + timedelta(days=7), 17),
        },
        {
            "title": texts(en="Cable works on the Einsteinweg", nl="Kabelwerk aan de Einsteinweg"),
            "summary": texts(
                en="One lane closed; traffic lights in place.", nl="Eén rijstrook afgesloten; er staan verkeerslichten."
            ),
            "body": texts(
                en="Announced in advance so deliveries can be planned.",
                nl="Vooraf aangekondigd, zodat leveringen kunnen worden gepland.",
            ),
            "category": "construction",
            "severity": "minor",
            "locations": ["einsteinweg"],
            "publish_at": local(today + timedelta(days=1), 9),
            "starts_at": local(today + timedelta(days=10), 7),
            "ends_at": local(today + timedelta(days=14), 17),
        },
        {
            # A series: the weekly market closes car park P3 every Tuesday morning, ten times.
            "title": texts(en="Weekly market: car park P3 closed", nl="Weekmarkt: parkeerterrein P3 dicht"),
            "summary": texts(
                en="The market is set up on P3; park on P1 or P2.",
                nl="De markt staat op P3; parkeer op P1 of P2.",
            ),
            "body": texts(
                en="Stalls are built from 06:00 and cleared by 14:00.",
                nl="De kramen staan er vanaf 06:00 en zijn om 14:00 weer weg.",
            ),
            "category": "event",
            "severity": "minor",
            "locations": ["de-limes"],
            "publish_at": local(today - timedelta(days=1), 9),
            "starts_at": local(next_tuesday, 6),
            "recurrence": "FREQ=WEEKLY;BYDAY=TU;COUNT=10",
            "occurrence_minutes": 8 * 60,
        },
        {
            "title": "Sylviusweg resurfacing",
            "summary": "New asphalt on the Sylviusweg.",
            "body": "The works are finished; thank you for your patience.",
            "category": "construction",
            "severity": "minor",
            "locations": ["sylviusweg"],
            "publish_at": local(today - timedelta(days=45), 9),
            "starts_at": local(today - timedelta(days=40), 7),
            "ends_at": local(today - timedelta(days=33), 17),
        },
    ]


def demo_templates(settings: Settings) -> list[dict[str, Any]]:
    """Templates for what a park announces again and again, in the site's languages."""

    def texts(**by_language: str) -> dict[str, str]:
        return {language: text for language, text in by_language.items() if language in settings.languages}

    return [
        {
            "name": "Road closure",
            "description": "A road of the park closed to traffic; fill in the road and draw the diversion.",
            "fields": {
                "title": texts(
                    en="Road closed: [road] between [street] and [street]",
                    nl="Weg afgesloten: [weg] tussen [straat] en [straat]",
                ),
                "summary": texts(
                    en="The road is closed to all traffic; follow the yellow diversion signs.",
                    nl="De weg is afgesloten voor alle verkeer; volg de gele omleidingsborden.",
                ),
                "body": texts(
                    en="Cyclists and pedestrians can pass. Deliveries are directed via the diversion.",
                    nl="Fietsers en voetgangers kunnen passeren. Leveringen gaan via de omleiding.",
                ),
                "category": "road-closure",
                "severity": "major",
                "location_detail": texts(en="between [street] and [street]", nl="tussen [straat] en [straat]"),
            },
        },
        {
            "name": "Power outage",
            "description": "Planned maintenance on the power supply of a building.",
            "fields": {
                "title": texts(en="Power outage [building]", nl="Stroomonderbreking [gebouw]"),
                "summary": texts(
                    en="Planned maintenance on the power supply.", nl="Gepland onderhoud aan de stroomvoorziening."
                ),
                "body": texts(
                    en="Switch off sensitive equipment beforehand. Equipment on the emergency grid is not affected.",
                    nl="Schakel gevoelige apparatuur vooraf uit. Apparatuur op de noodstroom merkt er niets van.",
                ),
                "category": "utilities",
                "severity": "critical",
            },
        },
        {
            "name": "Event parking",
            "description": "An event with extra visitors parking on the event field.",
            "fields": {
                "title": texts(en="[Event]: extra parking at De Limes", nl="[Evenement]: extra parkeren bij De Limes"),
                "summary": texts(
                    en="Extra visitors and parking on the event field.",
                    nl="Extra bezoekers en parkeren op het evenemententerrein.",
                ),
                "body": texts(
                    en="Expect busy roads around De Limes; follow the parking attendants.",
                    nl="Reken op drukte rond De Limes; volg de aanwijzingen van de parkeerwachten.",
                ),
                "category": "event",
                "severity": "info",
                "locations": ["de-limes"],
            },
        },
    ]


def load_demo_templates(session: Session, settings: Settings, now: datetime) -> int:
    """Add the demo templates (validated like any other input) that are not there yet by name."""
    operator = Actor(label="demo")
    added = 0
    present = {template.name.lower() for template in templates_store.list_templates(session)}
    for raw in demo_templates(settings):
        if raw["name"].lower() in present:
            continue
        fields = templates_store.parse_fields(raw["fields"], settings=settings, now=now)
        templates_store.save_template(
            session, name=raw["name"], description=raw["description"], fields=fields, actor=operator, now=now
        )
        added += 1
    return added


DEMO_ADMIN = "admin@example.org"
DEMO_SUBSCRIBERS: list[tuple[str, dict[str, str | list[str]]]] = [
    ("alice@example.org", {"frequency": "immediate", "language": "en"}),
    ("bram@example.org", {"frequency": "daily", "language": "nl", "categories": ["road-closure", "utilities"]}),
    ("carol@example.org", {"frequency": "weekly", "language": "en", "severity": "major"}),
]
# Signs up through the public flow, so a confirmation email shows in var/mail.
DEMO_PENDING: tuple[str, dict[str, str | list[str]]] = (
    "dave@example.org",
    {"frequency": "daily", "language": "en", "locations": ["plesmanlaan"]},
)


def load_demo_subscribers(session: Session, settings: Settings, now: datetime) -> int:
    for email, raw in DEMO_SUBSCRIBERS:
        subscriptions.add_by_operator(
            session,
            email=email,
            preferences=subscriptions.parse_preferences(raw, settings),
            send_confirmation=False,
            now=now,
            settings=settings,
        )
    email, raw = DEMO_PENDING
    subscriptions.sign_up(
        session,
        email=email,
        preferences=subscriptions.parse_preferences(raw, settings),
        client="demo",
        now=now,
        settings=settings,
    )
    return len(DEMO_SUBSCRIBERS) + 1


def has_notices(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Notice)))


def load_demo(session: Session, settings: Settings, now: datetime) -> list[Notice]:
    """Add the demo notices (validated like any other input)."""
    created = []
    for raw in demo_notices(settings, now):
        fields = parse_new_notice(raw, settings=settings, now=now)
        created.append(store.create_notice(session, fields, now=now, author="demo"))
    return created
