from pathlib import Path

import pytest

from notices.core.config import ConfigError, load_settings


def test_defaults_come_from_the_shipped_config():
    settings = load_settings({})
    assert settings.timezone_name == "Europe/Amsterdam"
    assert settings.database_url == "sqlite:///var/notices.db"
    assert "road-closure" in settings.categories
    assert "plesmanlaan" in settings.locations
    assert settings.smtp_url == ""


def test_environment_overrides_the_file():
    settings = load_settings(
        {
            "NOTICES_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
            "NOTICES_BASE_URL": "https://notices.example.org/",
            "NOTICES_TIMEZONE": "Europe/London",
            "NOTICES_SMTP_URL": "smtp://user:pass@mail.example.org:587?starttls=1",
            "NOTICES_SECRET_KEY": "s3cret",
        }
    )
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.base_url == "https://notices.example.org"
    assert settings.timezone_name == "Europe/London"
    assert settings.smtp_url.startswith("smtp://")
    assert settings.secret_key == "s3cret"


def test_secrets_can_come_from_files(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("from-a-file\n")
    assert load_settings({"NOTICES_SECRET_KEY_FILE": str(secret)}).secret_key == "from-a-file"


@pytest.mark.parametrize(
    ("environ", "key"),
    [
        ({"NOTICES_TIMEZONE": "Europe/Amsterdm"}, "NOTICES_TIMEZONE"),
        ({"NOTICES_BASE_URL": "notices.example.org"}, "NOTICES_BASE_URL"),
        ({"NOTICES_DATABASE_URL": "mysql://root@localhost/x"}, "NOTICES_DATABASE_URL"),
        ({"NOTICES_SMTP_URL": "http://mail"}, "NOTICES_SMTP_URL"),
        ({"NOTICES_FEED_MAX_AGE": "soon"}, "feeds.max_age"),
        ({"NOTICES_CONFIG": "/nonexistent/notices.toml"}, "NOTICES_CONFIG"),
        # The site's name is in every calendar's and mail's header lines: one line of text.
        ({"NOTICES_SITE_NAME": "Bio Science Park\nLeiden"}, "NOTICES_SITE_NAME"),
        ({"NOTICES_SITE_NAME": "Bio Science Park\u202e"}, "NOTICES_SITE_NAME"),
        ({"NOTICES_SITE_NAME": "  "}, "NOTICES_SITE_NAME"),
    ],
)
def test_invalid_values_stop_start_up_naming_the_key(environ, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(environ)


def test_a_sender_name_on_two_lines_names_the_key(tmp_path: Path):
    config = tmp_path / "notices.toml"
    config.write_text(
        '[mail]\nfrom_name = "Notices\\nBcc: everyone@example.org"\n[categories]\nroad = "Road"\n[locations]\na = "A"\n'
    )
    with pytest.raises(ConfigError, match="mail.from_name: must be one line of text"):
        load_settings({"NOTICES_CONFIG": str(config)})


def test_invalid_file_values_name_the_key(tmp_path: Path):
    config = tmp_path / "notices.toml"
    config.write_text('[site]\nname = "X"\n[categories]\n"Road Closure" = "x"\n[locations]\na = "A"\n')
    with pytest.raises(ConfigError, match="categories.Road Closure"):
        load_settings({"NOTICES_CONFIG": str(config)})


def test_digest_schedule_must_be_readable(tmp_path: Path):
    config = tmp_path / "notices.toml"
    config.write_text('[digests]\nweekly = "someday"\n[categories]\na = "A"\n[locations]\nb = "B"\n')
    with pytest.raises(ConfigError, match="digests.weekly"):
        load_settings({"NOTICES_CONFIG": str(config)})


def test_labels_can_be_given_per_language():
    settings = load_settings({})
    assert settings.categories["road-closure"] == "Road closure"
    assert settings.label("categories", "road-closure", "nl") == "Wegafsluiting"
    assert settings.label("locations", "plesmanlaan", "nl") == "Plesmanlaan"  # one label for all languages
    assert settings.label("locations", "gorlaeus", "nl") == "Gorlaeusgebouw"


def test_a_label_table_with_an_unknown_language_names_the_key(tmp_path: Path):
    config = tmp_path / "notices.toml"
    config.write_text('[categories]\nroad = { en = "Road", fr = "Route" }\n[locations]\na = "A"\n')
    with pytest.raises(ConfigError, match="categories.road"):
        load_settings({"NOTICES_CONFIG": str(config)})


def test_the_site_speaks_both_languages_with_english_as_the_default():
    settings = load_settings({})
    assert settings.languages == ("en", "nl")
    assert settings.language == "en"


def test_the_language_variable_makes_another_listed_language_the_default():
    settings = load_settings({"NOTICES_LANGUAGE": "nl"})
    assert settings.languages == ("nl", "en")
    assert settings.language == "nl"


@pytest.mark.parametrize(
    ("languages", "problem"),
    [
        ('["en", "fr"]', "unknown 'fr'"),
        ("[]", "non-empty list"),
        ('["nl", "nl"]', "names a language twice"),
        ('"en"', "non-empty list"),
    ],
)
def test_a_bad_language_list_names_the_key_and_the_problem(tmp_path: Path, languages: str, problem: str):
    config = tmp_path / "notices.toml"
    config.write_text(f"[site]\nlanguages = {languages}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings({"NOTICES_CONFIG": str(config)})
    assert "site.languages" in str(caught.value)
    assert problem in str(caught.value)


def test_one_language_only_is_allowed(tmp_path: Path):
    config = tmp_path / "notices.toml"
    config.write_text(
        '[site]\nlanguages = ["nl"]\n[categories]\nroad-closure = "Wegafsluiting"\n[locations]\nsite = "Terrein"\n'
    )
    settings = load_settings({"NOTICES_CONFIG": str(config)})
    assert settings.languages == ("nl",)
    assert settings.language == "nl"
