"""The client's details are encrypted by the application (Fernet: AES-128-CBC with an HMAC), so a
database dump or backup alone reveals nothing. The key comes from settings; development
generates one (kept in a file beside the code), production refuses to start without it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.settings import Settings


class MissingKey(RuntimeError):
    """Production without ASSETMAP_REFERRAL_KEY (or development unable to keep one)."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(
            detail
            or "ASSETMAP_REFERRAL_KEY is not set: in production the referral key must come from "
            "settings (make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'), kept secret and backed up apart from the "
            "database"
        )


class BadKey(RuntimeError):
    """A key that is not a Fernet key (the message never repeats it)."""


class Unreadable(RuntimeError):
    """Details encrypted with a key that is no longer configured."""


def _development_key(path: Path) -> str:
    """The development key in `path`, generated once (atomically: several workers may race)."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as draft:
        draft.write(Fernet.generate_key().decode())
    os.chmod(draft.name, 0o600)
    try:
        with contextlib.suppress(FileExistsError):  # another worker won: use its key
            os.link(draft.name, path)
    finally:
        os.unlink(draft.name)
    return path.read_text().strip()


@dataclass(frozen=True)
class ClientCipher:
    fernet: MultiFernet

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientCipher:
        configured = settings.referral_key
        if not configured:
            if settings.environment == "production":
                raise MissingKey()
            try:
                configured = _development_key(settings.referral_key_file)
            except OSError as error:
                raise MissingKey(
                    f"cannot keep the development referral key in {settings.referral_key_file} "
                    f"({type(error).__name__}): set ASSETMAP_REFERRAL_KEY_FILE to a writable "
                    "place, or ASSETMAP_REFERRAL_KEY"
                ) from None
        try:
            keys = [Fernet(k.strip()) for k in configured.split(",") if k.strip()]
        except ValueError:
            raise BadKey(
                "ASSETMAP_REFERRAL_KEY is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
        if not keys:
            raise MissingKey()
        return cls(MultiFernet(keys))

    def seal(self, details: dict[str, Any]) -> bytes:
        return self.fernet.encrypt(orjson.dumps(details))

    def open(self, token: bytes) -> dict[str, Any]:
        try:
            opened: dict[str, Any] = orjson.loads(self.fernet.decrypt(token))
        except InvalidToken:
            raise Unreadable(
                "these client details were encrypted with a key that is no longer configured"
            ) from None
        return opened
