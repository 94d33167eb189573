"""The one place for encryption at rest.

`EncryptedString` is sqlalchemy-utils' StringEncryptedType with AesGcmEngine (random 96-bit IV,
authenticated). It encrypts under the newest key of CRM_ENCRYPTION_KEYS and reads values written
under any older key, so keys can be rotated (see crm.security.rotation).
"""
import base64
import hashlib
import hmac
import os
import struct
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from flask.globals import _cv_app
from sqlalchemy import Text
from sqlalchemy_utils import StringEncryptedType
from sqlalchemy_utils.types.encrypted.encrypted_type import AesGcmEngine, InvalidCiphertextError

from crm.common import utcnow


class CachedAesGcmEngine(AesGcmEngine):
    """sqlalchemy-utils' AesGcmEngine, same stored format (base64 of IV | tag | ciphertext), but
    with one AESGCM object per key instead of a new Cipher per value: about 4x faster, which
    matters on a page that shows 50 encrypted names. A test checks both engines read each other."""

    def _initialize_engine(self, parent_class_key):
        super()._initialize_engine(parent_class_key)
        self._aead = AESGCM(parent_class_key)

    def encrypt(self, value):
        iv = os.urandom(self.IV_BYTES_NEEDED)
        sealed = self._aead.encrypt(iv, str(value).encode(), None)  # ciphertext | tag
        tag, body = sealed[-self.TAG_SIZE_BYTES:], sealed[: -self.TAG_SIZE_BYTES]
        return base64.b64encode(iv + tag + body).decode()

    def decrypt(self, value):
        try:
            raw = base64.b64decode(value)
        except ValueError:
            raise InvalidCiphertextError() from None
        head = self.IV_BYTES_NEEDED + self.TAG_SIZE_BYTES
        if len(raw) < head:
            raise InvalidCiphertextError()
        iv, tag, body = raw[: self.IV_BYTES_NEEDED], raw[self.IV_BYTES_NEEDED : head], raw[head:]
        try:
            return self._aead.decrypt(iv, body + tag, None).decode()
        except (InvalidTag, UnicodeDecodeError):
            raise InvalidCiphertextError() from None


_engines: dict[str, CachedAesGcmEngine] = {}


def encryption_keys() -> list[str]:
    keys = current_app.config["CRM_ENCRYPTION_KEYS"]
    if not keys:
        raise RuntimeError("CRM_ENCRYPTION_KEYS is empty")
    return keys


def engine_for(key: str) -> CachedAesGcmEngine:
    """A cached engine per key (never mutated after creation, so safe across threads)."""
    engine = _engines.get(key)
    if engine is None:
        engine = CachedAesGcmEngine()
        engine._update_key(key)
        _engines[key] = engine
    return engine


def encrypt(value: str, key: str | None = None) -> str:
    return engine_for(key or encryption_keys()[0]).encrypt(value)


DECRYPTED_MAX = 1024  # values remembered by one app context (a request, a job, a command)


def decrypt(token: str) -> tuple[str, int]:
    """Plaintext and the index of the key that opened it (0 = newest).

    An app context (one request, job or command) remembers what it opened, up to
    DECRYPTED_MAX values: a ciphertext is random and written once, so the same text in the same
    request is the same stored value read again (a timeline entry's person, a list's owner,
    once a row), and only the request that read it can ask. Nothing outlives the context.
    """
    ctx = _cv_app.get(None)
    if ctx is None:
        return _decrypt(token, tuple(encryption_keys()))  # which raises: no app context
    keys = tuple(ctx.app.config["CRM_ENCRYPTION_KEYS"])
    opened = ctx.g.__dict__.get("_crm_decrypted")
    if opened is None or opened[0] != keys or len(opened[1]) >= DECRYPTED_MAX:
        opened = ctx.g._crm_decrypted = (keys, {})
    found = opened[1].get(token)
    if found is None:
        found = opened[1][token] = _decrypt(token, keys)
    return found


def _decrypt(token: str, keys) -> tuple[str, int]:
    if not keys:
        raise RuntimeError("CRM_ENCRYPTION_KEYS is empty")
    for index, key in enumerate(keys):
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
        super().__init__(Text, key=lambda: encryption_keys()[0], engine=CachedAesGcmEngine)
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
_SEAL_PURPOSE = b"crm:url-seal:v1"  # the key derivation (unchanged since v1)
SEAL_MAX_AGE = timedelta(hours=8)  # a working day: yesterday's URLs open as an empty search
SEAL_CLOCK_SKEW = timedelta(minutes=5)  # app servers' clocks may differ a little
_STAMP = struct.Struct(">q")  # seconds since 1970 when sealed, before the text


def _seal_key(key: str) -> bytes:
    return hmac.new(key.encode(), _SEAL_PURPOSE, hashlib.sha256).digest()


def _seal_aad(actor) -> bytes:
    """Associated data: the purpose and who sealed (actor kind and id), so a token opens only
    for the account that made it."""
    return b"crm:url-seal:v2|%s:%s" % (actor.kind.encode(), str(actor.id).encode())


def seal(text: str, *, actor) -> str:
    """Encrypt a short text for a URL (a search query), so URLs and logs never carry it.

    The token opens only for `actor` (crm.common.Actor; their kind and id are the AES-GCM
    associated data) and only for SEAL_MAX_AGE (8 hours) after sealing (the time is sealed
    with the text): a URL copied from a log, a proxy or someone's browser history shows
    another account nothing, nor its own account the next day."""
    nonce = os.urandom(12)
    stamp = _STAMP.pack(int(utcnow().timestamp()))
    sealed = AESGCM(_seal_key(encryption_keys()[0])).encrypt(
        nonce, stamp + text.encode(), _seal_aad(actor))
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def unseal(token: str, *, actor, max_length: int = 100) -> str | None:
    """The text sealed in `token`, or None when it is not ours (tampered, or its key retired),
    was sealed for another actor, or is older than SEAL_MAX_AGE."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    aad = _seal_aad(actor)
    for key in encryption_keys():
        try:
            opened = AESGCM(_seal_key(key)).decrypt(raw[:12], raw[12:], aad)
            text = opened[_STAMP.size:].decode()
        except (InvalidTag, ValueError):
            continue
        if len(opened) < _STAMP.size:
            return None
        (sealed_at,) = _STAMP.unpack(opened[:_STAMP.size])
        age = utcnow() - datetime.fromtimestamp(sealed_at, UTC)
        if not -SEAL_CLOCK_SKEW <= age <= SEAL_MAX_AGE:
            return None
        return text if len(text) <= max_length else None
    return None
