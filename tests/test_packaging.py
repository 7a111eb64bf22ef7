"""`pip install .` must give a working `notices` with templates and default config inside the wheel."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("notices-*.whl")
    return built


def test_wheel_ships_templates_default_config_and_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "notices/templates/web/index.html" in names
    assert "notices/templates/email/digest.html" in names
    assert "notices/locale/nl/LC_MESSAGES/messages.mo" in names
    assert "notices/templates/admin/notice_form.html" in names
    assert "notices/templates/static/admin.js" in names
    assert "notices/default_config/notices.toml" in names
    assert "notices/migrations/env.py" in names
    assert any(name.startswith("notices/migrations/versions/0001") for name in names)
    assert any(name.endswith("entry_points.txt") for name in names)


def test_the_unpacked_wheel_speaks_dutch(wheel, tmp_path):
    """The wheel's own compiled catalogue, outside the checkout: Dutch words in an email and on a page."""
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    script = (
        "import notices, sys\n"
        "from notices.core.config import load_settings\n"
        "from notices.core.resources import locale_dir\n"
        "from notices.notice.templating import in_language, make_environment\n"
        "settings = load_settings({})\n"
        "page = make_environment(settings).get_template('web/message.html')\n"
        "html = page.render(title='t', text='x', **in_language('nl', settings))\n"
        "print(notices.__file__, locale_dir(), in_language('nl', settings)['words'].event('published'), sep='\\n')\n"
        "print('Alle actuele meldingen' in html)\n"
    )
    environ = {**os.environ, "PYTHONPATH": str(unpacked), "NOTICES_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=environ, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    package, catalogues, published, page_is_dutch = result.stdout.splitlines()
    assert package.startswith(str(unpacked))
    assert catalogues == str(unpacked / "notices" / "locale")
    assert published == "Nieuw"
    assert page_is_dutch == "True"


def test_invalid_configuration_stops_the_command_naming_the_key(tmp_path):
    environ = {**os.environ, "NOTICES_TIMEZONE": "Mars/Olympus", "NOTICES_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run(
        [sys.executable, "-m", "notices", "notice", "list"],
        env=environ,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: site.timezone (NOTICES_TIMEZONE): unknown time zone 'Mars/Olympus'"


def test_commands_refuse_an_unmigrated_database(tmp_path):
    environ = {**os.environ, "NOTICES_DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db"}
    result = subprocess.run(
        [sys.executable, "-m", "notices", "notice", "list"],
        env=environ,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "run `notices db upgrade` first" in result.stderr
