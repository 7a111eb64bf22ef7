"""Pages in the reader's language: `?lang=`, then the reader's earlier choice, then Accept-Language,
then the site default."""

from lxml import etree

from tests.factories import add_notice


def parsed(response):
    return etree.HTML(response.text)


def html_lang(response) -> str:
    return parsed(response).xpath("/html/@lang")[0]


def heading(response) -> str:
    return parsed(response).xpath("string(//h1)")


def test_the_home_page_follows_the_browsers_language(client):
    response = client.get("/", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.8"})
    assert html_lang(response) == "nl"
    assert heading(response) == "Actuele en komende meldingen"
    assert "Accept-Language" in response.headers["Vary"]


def test_without_a_preference_the_page_is_in_the_site_language(client):
    response = client.get("/")
    assert html_lang(response) == "en"
    assert heading(response) == "Current and upcoming notices"


def test_a_language_the_site_does_not_have_falls_back_to_the_next_choice(client):
    assert html_lang(client.get("/", headers={"Accept-Language": "de-DE, nl;q=0.5"})) == "nl"
    assert html_lang(client.get("/", headers={"Accept-Language": "fr, de;q=0.8"})) == "en"


def test_lang_in_the_query_wins_over_the_browser(client):
    dutch = client.get("/?lang=nl", headers={"Accept-Language": "en"})
    english = client.get("/?lang=en", headers={"Accept-Language": "nl"})
    assert (html_lang(dutch), heading(dutch)) == ("nl", "Actuele en komende meldingen")
    assert (html_lang(english), heading(english)) == ("en", "Current and upcoming notices")
    # Chosen by the URL alone: a cache may share it whatever the browser says.
    assert "Accept-Language" not in dutch.headers.get("Vary", "")


def test_an_unknown_lang_is_ignored(client):
    response = client.get("/?lang=xx", headers={"Accept-Language": "nl"})
    assert response.status_code == 200
    assert html_lang(response) == "nl"


def test_public_pages_name_their_other_languages_with_hreflang(client, ctx):
    response = client.get("/?category=road-closure")
    alternates = {
        link.get("hreflang"): link.get("href")
        for link in parsed(response).xpath('//head/link[@rel="alternate"][@hreflang]')
    }
    base = ctx.settings.base_url.rstrip("/")
    assert alternates == {
        "en": f"{base}/?category=road-closure&lang=en",
        "nl": f"{base}/?category=road-closure&lang=nl",
        "x-default": f"{base}/?category=road-closure",
    }


def test_the_language_switch_keeps_the_page_and_its_filters(client, ctx):
    notice = add_notice(ctx, title="Plesmanlaan closed")
    response = client.get(f"/notices/{notice.uid}?lang=nl")
    switch = {link.text: link.get("href") for link in parsed(response).xpath('//nav[@class="languages"]/a')}
    assert switch == {"English": f"/notices/{notice.uid}?lang=en", "Nederlands": f"/notices/{notice.uid}?lang=nl"}
    current = parsed(response).xpath('//nav[@class="languages"]/a[@aria-current="true"]/text()')
    assert current == ["Nederlands"]


def test_a_notice_page_in_dutch_has_dutch_labels_and_dates(client, ctx):
    notice = add_notice(ctx, title="Plesmanlaan closed")
    page = parsed(client.get(f"/notices/{notice.uid}", headers={"Accept-Language": "nl"}))
    labels = page.xpath("//article//strong/text()")
    assert "Wanneer:" in labels
    assert page.xpath('string(//h2[.="Geschiedenis"])') == "Geschiedenis"
    # Dates through Babel in Dutch: "za 28 nov 2026 ...".
    assert "nov 2026" in page.xpath("string(//article/p[strong='Wanneer:'])")
    assert "Nov 2026" not in page.xpath("string(//article/p[strong='Wanneer:'])")


def test_the_subscribe_form_offers_the_pages_language_first(client):
    dutch = parsed(client.get("/subscribe", headers={"Accept-Language": "nl"}))
    english = parsed(client.get("/subscribe", headers={"Accept-Language": "en"}))
    assert dutch.xpath('//select[@name="language"]/option[@selected]/@value') == ["nl"]
    assert english.xpath('//select[@name="language"]/option[@selected]/@value') == ["en"]
    assert dutch.xpath("string(//h1)") == "Meldingen per e-mail ontvangen"


def test_the_console_login_follows_the_browsers_language(client):
    response = client.get("/admin/login", headers={"Accept-Language": "nl"})
    assert html_lang(response) == "nl"
    assert heading(response) == "Inloggen bij het beheer"
    assert parsed(response).xpath('//link[@rel="alternate"][@hreflang]') == []


def test_a_subscription_message_is_in_the_pages_language(client):
    response = client.get("/unsubscribe/not-a-token", headers={"Accept-Language": "nl"})
    assert response.status_code == 400
    assert heading(response) == "Deze link werkt niet"


def test_a_language_picked_with_the_switch_stays_on_the_next_pages(client):
    switch = parsed(client.get("/"))
    [dutch_link] = switch.xpath('//nav[contains(@class, "languages")]/a[@hreflang="nl"]/@href')
    assert html_lang(client.get(dutch_link)) == "nl"
    # The header's links carry no ?lang=: the choice is remembered (a cookie), over the browser's.
    following = client.get("/subscribe", headers={"Accept-Language": "en"})
    assert html_lang(following) == "nl"
    assert "Cookie" in following.headers["Vary"]  # a cache must not give it to another reader
    assert html_lang(client.get("/?lang=en")) == "en"
    assert html_lang(client.get("/subscribe", headers={"Accept-Language": "nl"})) == "en"


def test_the_remembered_choice_is_a_lax_cookie_set_only_when_it_changes(client):
    first = client.get("/?lang=nl")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("lang=nl;") and "SameSite=lax" in cookie and "HttpOnly" in cookie
    again = client.get("/?lang=nl")
    assert "lang=" not in again.headers.get("set-cookie", "")


def test_a_cookie_naming_a_language_the_site_lacks_is_ignored(client):
    client.cookies.set("lang", "xx")
    assert html_lang(client.get("/", headers={"Accept-Language": "nl"})) == "nl"
