"""Emails link to the map on the notice page (#map); they never embed a remote image."""

import lxml.html

from tests.feeds.geo_samples import CLOSURE_WITH_DIVERSION
from tests.mail_samples import alert_mail, part


def test_an_alert_links_to_the_map_in_both_parts_and_loads_nothing(sink_ctx, clock, sink):
    kinds = alert_mail(sink_ctx, clock, sink, geometry=CLOSURE_WITH_DIVERSION)
    (arrived,) = kinds["alert:published"]
    message = arrived.message
    html = lxml.html.fromstring(part(message, "html"))
    (link,) = [anchor for anchor in html.xpath("//a") if anchor.get("href", "").endswith("#map")]
    assert link.get("href").startswith(f"{sink_ctx.settings.base_url}/notices/")
    assert link.text_content() == "On the map"
    assert f"On the map: {link.get('href')}" in part(message, "plain")
    assert not html.xpath("//img")


def test_the_link_speaks_the_subscribers_language(sink_ctx, clock, sink):
    kinds = alert_mail(sink_ctx, clock, sink, language="nl", locations=["gorlaeus"])
    (arrived,) = kinds["alert:published"]
    assert "Op de kaart: " in part(arrived.message, "plain")


def test_no_map_link_for_a_notice_without_a_place_on_the_map(sink_ctx, clock, sink):
    kinds = alert_mail(sink_ctx, clock, sink, locations=[])
    (arrived,) = kinds["alert:published"]
    assert "#map" not in part(arrived.message, "plain") and "#map" not in part(arrived.message, "html")
