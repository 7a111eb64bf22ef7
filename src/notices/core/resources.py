"""Where the templates, the message catalogues and the default configuration are, installed or not."""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the notices package
# In a checkout (and an editable install) they sit at the top of the repository;
# a wheel carries them inside the package (see pyproject.toml force-include).
_CHECKOUT_ROOT = _PACKAGE_DIR.parent.parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"none of {', '.join(map(str, candidates))} exists")


def templates_dir() -> Path:
    return _first_existing(_PACKAGE_DIR / "templates", _CHECKOUT_ROOT / "templates")


def locale_dir() -> Path:
    """The gettext catalogues: locale/<language>/LC_MESSAGES/messages.mo (compiled from the .po beside it)."""
    return _first_existing(_PACKAGE_DIR / "locale", _CHECKOUT_ROOT / "locale")


def default_config_path() -> Path:
    return _first_existing(
        _PACKAGE_DIR / "default_config" / "notices.toml",
        _CHECKOUT_ROOT / "config" / "notices.toml",
    )


def migrations_dir() -> Path:
    return _PACKAGE_DIR / "migrations"
