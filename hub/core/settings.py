"""Settings from the environment (prefix ``CASEHUB_``), read once at start-up."""

from __future__ import annotations

import secrets
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "placeholder", "dev"})


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASEHUB_", extra="ignore")

    env: Environment = Environment.development
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = Path("var")
    database_url: str = ""
    public_base_url: str = ""
    db_echo: bool = False
    db_pool_size: int = 10

    access_token_lifetime: Annotated[timedelta, Field(gt=timedelta(0))] = timedelta(minutes=15)
    signing_key_file: Path | None = None
    """PEM file with the current ES256 signing key; generated under var/ when absent."""
    previous_signing_key_files: list[Path] = []
    """Retired keys still published in the JWKS until the tokens they signed expire."""
    session_secret: str = ""
    """Signs console session cookies; generated under var/ when absent."""
    data_key_file: Path | None = None
    """Fernet key that encrypts stored secrets (IM robot URLs, signing secrets, SMTP passwords);
    generated under var/ when absent outside production."""
    previous_data_key_files: list[Path] = []
    """Retired data keys that still decrypt, until ``casehub notifiers reseal`` has re-sealed
    every stored secret with the current key."""

    max_body_bytes: int = 1_000_000
    attachment_max_bytes: int = 50_000_000
    import_max_bytes: int = 25_000_000
    """Largest spreadsheet an import accepts (bigger uploads answer 413)."""
    import_max_rows: int = 100_000
    log_level: str = "INFO"
    log_json: bool = True
    run_scheduler: bool = True

    webhook_allowed_hosts: Annotated[list[str], NoDecode] = []
    """Host names, addresses and CIDR networks webhooks may reach although they are not public
    (comma-separated); they may also use plain http. Tests list their loopback receivers here."""
    webhook_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 15.0
    """Whole-request deadline of one webhook attempt (connect, send, response)."""
    webhook_concurrency: Annotated[int, Field(ge=1, le=1000)] = 100
    """Webhook requests one worker process keeps in flight."""
    webhook_poll_seconds: Annotated[float, Field(gt=0, le=60)] = 0.5
    """How often a dispatcher looks for due messages when nothing woke it."""

    sla_sweep_seconds: Annotated[float, Field(gt=0, le=300)] = 5.0
    """How often each process sweeps for SLA warnings and breaches that fell due."""
    sla_sweep_batch: Annotated[int, Field(ge=1, le=10_000)] = 500
    """Clocks one sweep transaction claims at most (a sweep runs batches until none are due)."""

    notifier_allowed_hosts: Annotated[list[str], NoDecode] = []
    """Host names, addresses and CIDR networks IM robots and SMTP servers may be reached at
    although they are not public (comma-separated): an internal mail relay, a private WeCom
    deployment. Robot URLs on these hosts are accepted for every channel kind."""
    notifier_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10.0
    """Whole-exchange deadline of one IM or SMTP send."""
    notifier_concurrency: Annotated[int, Field(ge=1, le=1000)] = 50
    """Channels one worker process sends to at once (one message per channel at a time)."""
    notifier_poll_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    """How often a notifier dispatcher looks for due notices when nothing woke it."""

    buyer_link_ttl_after_close: Annotated[timedelta, Field(gt=timedelta(0))] = timedelta(days=30)
    """How long a buyer's status link keeps working after the case was closed or cancelled."""
    buyer_reopen_window: Annotated[timedelta, Field(ge=timedelta(0))] = timedelta(days=7)
    """How long after resolution or closure the buyer may say "not solved" (reopens the case)."""
    buyer_rate_per_ip: Annotated[int, Field(ge=1)] = 120
    """Buyer-page requests one client address may make per minute (per server process)."""
    buyer_rate_per_token: Annotated[int, Field(ge=1)] = 60
    """Requests per minute to one status link (per server process)."""
    buyer_view_log_interval: Annotated[timedelta, Field(ge=timedelta(0))] = timedelta(minutes=10)
    """Views of one link within this interval are coalesced into one ``case.status_viewed``."""
    buyer_factor_max_failures: Annotated[int, Field(ge=1)] = 5
    buyer_factor_lockout: Annotated[timedelta, Field(gt=timedelta(0))] = timedelta(minutes=15)
    """After that many wrong second-factor answers the link refuses more for this long."""
    buyer_photo_max_bytes: Annotated[int, Field(ge=1024)] = 10_000_000
    buyer_photos_max: Annotated[int, Field(ge=0, le=20)] = 6
    campaign_rate_per_ip: Annotated[int, Field(ge=1)] = 10
    """Campaign form submissions one client address may make per minute (per server process)."""

    @field_validator("webhook_allowed_hosts", "notifier_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'casehub.db'}"
        if not self.public_base_url:
            self.public_base_url = f"http://{self.host}:{self.port}"
        self.public_base_url = self.public_base_url.rstrip("/")
        if self.signing_key_file is None:
            self.signing_key_file = self.var_dir / "signing-key.pem"
        if self.data_key_file is None:
            self.data_key_file = self.var_dir / "data-key"
        production = self.env == Environment.production
        if production and self.session_secret.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("CASEHUB_SESSION_SECRET must be set to a real secret in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def issuer(self) -> str:
        return self.public_base_url

    @property
    def audience(self) -> str:
        return f"{self.public_base_url}/v1"

    def ensure_session_secret(self) -> str:
        """Return the cookie-signing secret, generating one into var/ in development."""
        if self.session_secret:
            return self.session_secret
        path = self.var_dir / "session-secret"
        if path.exists():
            self.session_secret = path.read_text().strip()
        else:
            self.var_dir.mkdir(parents=True, exist_ok=True)
            self.session_secret = secrets.token_urlsafe(48)
            path.write_text(self.session_secret)
            path.chmod(0o600)
        return self.session_secret
