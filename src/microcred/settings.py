"""Settings from the environment (prefix ``MICROCRED_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


def _default_shared_dir() -> Path:
    """``../shared`` beside the checkout, where the standards and open data live."""
    for parent in (Path.cwd(), *Path.cwd().parents, PACKAGE_DIR, *PACKAGE_DIR.parents):
        candidate = parent / "shared"
        if (candidate / "data").is_dir() or (candidate / "standards").is_dir():
            return candidate
        sibling = parent.parent / "shared"
        if (sibling / "data").is_dir():
            return sibling
    return Path.cwd().parent / "shared"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROCRED_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///microcred.db"
    secret_key: str = Field(
        default="dev-insecure-secret-change-me",
        description="Signs session cookies and CSRF tokens. Set it in production.",
    )
    master_key: str = Field(
        default="dev-insecure-master-key-change-me",
        description="Encrypts issuer signing keys at rest.",
    )
    base_url: str = "http://127.0.0.1:8000"
    shared_dir: Path = Field(default_factory=_default_shared_dir)
    help_url: str | None = None
    """Where people get help (your help desk's page, or a ``mailto:`` address): every page's
    footer links to it as *Help*, in the same place (WCAG 2.2, 3.2.6 Consistent Help)."""
    privacy_policy_url: str | None = None
    """The privacy policy the Open Badges 3.0 API's service description names
    (``x-imssf-privacyPolicyUrl``); by default this server's own /privacy page."""
    data_dir: Path = Path("var")
    certificate_fonts_dir: Path | None = None
    """A directory (subfolders too) searched first for the Noto fonts that PDF certificates set
    Chinese, Japanese, Korean, Arabic, Hebrew, Indic and Thai names in; then the Debian paths."""
    max_request_bytes: int = 2_000_000
    fetch_private_addresses: bool = False
    """Let verification fetch DID documents, keys and status lists from loopback, private and
    link-local addresses (issuers on your own network); off, so that whoever posts a credential
    cannot make the server reach into its own network."""
    webhooks_allow_private: bool = False
    """Let webhooks go to http:// URLs and to loopback, private and link-local addresses (an
    endpoint on your own network, tests); off, so that no issuer can aim the server inward."""
    webhooks_in_server: bool = True
    """Web workers deliver webhooks in a background thread; false where
    ``microcred webhooks deliver`` runs from cron instead."""
    reminders_in_server: bool = True
    """Web workers remind learners of credentials about to expire (hourly, in a background
    thread); false where ``microcred notifications remind`` runs from cron instead."""
    smtp_url: str | None = Field(default=None, repr=False)
    """Where to send e-mail: ``smtp://user:password@host:587?starttls=true``, ``smtps://…``
    (implicit TLS) or ``smtp://host:25``. A secret: never logged, shown masked. Unset, and no
    ``mail_dir`` either: this server sends no e-mail at all."""
    mail_from: str = "microcred <no-reply@localhost>"
    mail_dir: Path | None = None
    """Without ``smtp_url``: write each message as an ``.eml`` file here instead (development,
    the demo)."""
    mail_in_server: bool = True
    """Web workers send queued e-mail in a background thread; false where
    ``microcred mail send`` runs from cron instead."""
    mail_interval_seconds: float = 15
    smtp_timeout_seconds: float = 10
    require_two_factor_for_platform_admins: bool = False
    """Platform administrators must sign in with a second factor (an authenticator app); until
    they set it up they reach only the set-up page."""
    session_max_age_seconds: int = 14 * 24 * 3600
    secure_cookies: bool = False
    open_sign_up: bool = True
    """Anyone may create a learner account at /sign-up. Such an account's address is not
    proved, so it collects no credential by address: an issuer's invitation links it to what
    that issuer issued, or (with e-mail on) the confirmation link mailed to the address links
    everything issued to it. Off: accounts come from invitations only."""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
