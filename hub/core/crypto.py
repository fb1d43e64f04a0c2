"""Encryption at rest for secrets CaseHub must use again in the clear (robot URLs, SMTP passwords).

Secrets are sealed with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under the data
key of ``CASEHUB_DATA_KEY_FILE``; retired keys listed in ``CASEHUB_PREVIOUS_DATA_KEY_FILES`` still
open what they sealed, so a key can be rotated without downtime and the rows re-sealed at leisure.
A database dump alone therefore reveals no robot URL or password; the key file lives apart from
the database (``var/`` in development, a secret mount in production).
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hub.core.settings import Environment, Settings


class SecretUnreadable(Exception):
    """A sealed value that no configured key opens (wrong or missing key, or tampering)."""


class SecretBox:
    """Seals and opens short secrets; the first key seals, every key opens."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("a SecretBox needs at least one key")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @classmethod
    def generate(cls) -> SecretBox:
        return cls([Fernet.generate_key()])

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, ValueError) as exc:
            raise SecretUnreadable("no configured data key opens this secret") from exc

    def reseal(self, sealed: str) -> str:
        """The same secret sealed under the current key (after a rotation)."""
        try:
            return self._fernet.rotate(sealed.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError) as exc:
            raise SecretUnreadable("no configured data key opens this secret") from exc


def _read_key(path: Path) -> bytes:
    key = path.read_bytes().strip()
    Fernet(key)  # refuses a malformed key at start-up rather than at the first send
    return key


def load_secret_box(settings: Settings) -> SecretBox:
    """The data key from settings, generated under var/ (mode 0600) on first start outside
    production; production refuses to start without it."""
    assert settings.data_key_file is not None
    path = settings.data_key_file
    if path.exists():
        current = _read_key(path)
    elif settings.env == Environment.production:
        raise FileNotFoundError(f"data key {path} is missing; production never generates one")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        current = Fernet.generate_key()
        try:  # exclusive: two processes starting at once must not each write their own key
            with path.open("xb") as handle:
                path.chmod(0o600)
                handle.write(current)
        except FileExistsError:
            current = _read_key(path)
    return SecretBox([current, *(_read_key(p) for p in settings.previous_data_key_files)])
