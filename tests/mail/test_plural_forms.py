"""Counts read right in both languages: "1 nieuwe melding", "2 nieuwe meldingen", "2 beginnen binnenkort"."""

from datetime import UTC, datetime, timedelta

import pytest

from notices.mail.digests import DigestPeriod, DigestSections
from notices.mail.message import PLACEHOLDER_LINKS, render_mail
from notices.notice.templating import make_environment
from notices.notice.wording import Words
from tests.factories import add_notice

END = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


class Reader:
    frequency = "daily"
    email = "reader@example.org"
    categories: list[str] = []
    locations: list[str] = []

    def __init__(self, language: str) -> None:
        self.language = language


def digest_subject(ctx, language: str, count: int) -> str:
    """The subject of a real daily digest whose four news sections each hold `count` notices."""
    notices = [add_notice(ctx, title=f"Works {n}") for n in range(count)]
    sections = DigestSections(
        new=notices, changed=[(notice, []) for notice in notices], starting=notices, ending=notices
    )
    context = {
        "settings": ctx.settings,
        "words": Words(language, ctx.settings),
        "subscriber": Reader(language),
        "links": PLACEHOLDER_LINKS,
        "now": END,
        "site_url": ctx.settings.base_url,
        "frequency": "daily",
        "period": DigestPeriod("daily", END - timedelta(days=1), END),
        "sections": sections,
    }
    return render_mail(make_environment(ctx.settings), "digest", language, context).subject


@pytest.mark.parametrize(
    ("language", "count", "summary"),
    [
        ("en", 0, "nothing new"),
        ("en", 1, "1 new, 1 changed, 1 starting soon, 1 ending soon"),
        ("en", 2, "2 new, 2 changed, 2 starting soon, 2 ending soon"),
        ("nl", 0, "niets nieuws"),
        ("nl", 1, "1 nieuwe melding, 1 gewijzigd, 1 begint binnenkort, 1 eindigt binnenkort"),
        ("nl", 2, "2 nieuwe meldingen, 2 gewijzigd, 2 beginnen binnenkort, 2 eindigen binnenkort"),
    ],
)
def test_the_digest_subject_counts_in_the_readers_language(ctx, language, count, summary):
    title = {"en": "Daily notices 28 Nov", "nl": "Dagelijks overzicht 28 nov"}[language]
    assert digest_subject(ctx, language, count) == f"{title}: {summary}"


@pytest.mark.parametrize(
    ("language", "hours", "sentence"),
    [
        ("en", 1, "The link is valid for 1 hour."),
        ("en", 2, "The link is valid for 2 hours."),
        ("nl", 1, "De link is 1 uur geldig."),
        ("nl", 2, "De link is 2 uur geldig."),
    ],
)
def test_the_confirmation_email_says_how_long_its_link_lasts(ctx, language, hours, sentence):
    context = {
        "settings": ctx.settings,
        "words": Words(language, ctx.settings),
        "subscriber": Reader(language),
        "links": PLACEHOLDER_LINKS,
        "now": END,
        "site_url": ctx.settings.base_url,
        "confirm_url": "https://notices.example/subscribe/confirm/token",
        "valid_hours": hours,
    }
    mail = render_mail(make_environment(ctx.settings), "confirm", language, context)
    assert sentence in mail.text
    assert sentence in mail.html
