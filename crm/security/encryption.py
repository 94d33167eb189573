"""The one place for encryption at rest.

`EncryptedString` is sqlalchemy-utils' StringEncryptedType with AesGcmEngine (random 96-bit IV,
authenticated). It encrypts under the newest key of CRM_ENCRYPTION_KEYS and reads values written
under any older key, so keys can be rotated (see crm.security.rotation).
"""
import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import Text
from sqlalchemy_utils import StringEncryptedType
from sqlalchemy_utils.types.encrypted.encrypted_type import AesGcmEngine, InvalidCiphertextError

_engines: dict[str, AesGcmEngine] = {}


def encryption_keys() -> list[str]:
    keys = current_app.config["CRM_ENCRYPTION_KEYS"]
    if not keys:
        raise RuntimeError("CRM_ENCRYPTION_KEYS is empty")
    return keys


def engine_for(key: str) -> AesGcmEngine:
    """A cached engine per key (never mutated after creation, so safe across threads)."""
    engine = _engines.get(key)
    if engine is None:
        engine = AesGcmEngine()
        engine._update_key(key)
        _engines[key] = engine
    return engine


def encrypt(value: str, key: str | None = None) -> str:
    return engine_for(key or encryption_keys()[0]).encrypt(value)


def decrypt(token: str) -> tuple[str, int]:
    """Plaintext and the index of the key that opened it (0 = newest)."""
    for index, key in enumerate(encryption_keys()):
        try:
            return engine_for(key).decrypt(token), index
        except InvalidCiphertextError:
            continue
    raise InvalidCiphertextError("no configured key decrypts this value")


class EncryptedString(StringEncryptedType):
    """An encrypted text column; the database sees only base64 ciphertext."""

    impl = Text
    cache_ok = True

    def __init__(self, length: int | None = None):
        # `length` is the plaintext limit enforced by forms; ciphertext is longer, hence Text.
        super().__init__(Text, key=lambda: encryption_keys()[0], engine=AesGcmEngine)
        self.plain_length = length

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt(str(value))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt(value)[0]

    def __repr__(self):
        return "EncryptedString()"


# URL seals use keys of their own (derived per encryption key) and bind the purpose as associated
# data, so a ciphertext copied out of the database can never be "unsealed" through a URL.
_SEAL_AAD = b"crm:url-seal:v1"


def _seal_key(key: str) -> bytes:
    return hmac.new(key.encode(), _SEAL_AAD, hashlib.sha256).digest()


def seal(text: str) -> str:
    """Encrypt a short text for a URL (a search query), so URLs and logs never carry it."""
    nonce = os.urandom(12)
    sealed = AESGCM(_seal_key(encryption_keys()[0])).encrypt(nonce, text.encode(), _SEAL_AAD)
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def unseal(token: str, max_length: int = 100) -> str | None:
    """The text sealed in `token`, or None when it is not ours (tampered, or its key retired)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    for key in encryption_keys():
        try:
            text = AESGCM(_seal_key(key)).decrypt(raw[:12], raw[12:], _SEAL_AAD).decode()
        except (InvalidTag, ValueError):
            continue
        return text if len(text) <= max_length else None
    return None
