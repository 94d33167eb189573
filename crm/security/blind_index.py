"""Blind indexes: keyed HMACs of normalised values, for exact lookup and name search.

What they leak, by design: two rows with the same email (or phone) have the same index, and two
names that share a word prefix share a token, so someone holding the database (but not the
blind-index key) can see which records are equal or share a word start and how often tokens
recur, but not the values. Prefixes shorter than MIN_PREFIX are not stored.
"""
import hashlib
import hmac
import re
import unicodedata

from flask import current_app

MIN_PREFIX = 2
MAX_PREFIX = 10


def _mac(purpose: str, value: str) -> str:
    key = current_app.config["CRM_BLIND_INDEX_KEY"].encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_index(email: str) -> str:
    return _mac("email", normalise_email(email))


def phone_index(e164: str) -> str:
    """Index of a phone number already in E.164 form."""
    return _mac("phone", e164.strip())


INDEXERS = {"email": email_index, "phone": phone_index}


def blind_indexed(source: str, kind: str) -> dict:
    """`info` for a column holding the blind index of attribute `source` ("email" or "phone"
    normalisation): reindexing finds it there (crm.security.rotation.reindex)."""
    if kind not in INDEXERS:
        raise ValueError(f"no blind index of kind {kind!r}")
    return {"blind_index": (source, kind)}


def words(text: str) -> list[str]:
    """Lower-case, accent-free words of a name ("Café Ñandú" -> ["cafe", "nandu"])."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return [w for w in re.split(r"[^a-z0-9]+", folded.lower()) if w]


def name_tokens(text: str) -> set[str]:
    """Every stored word-prefix token of a name."""
    tokens = set()
    for word in words(text):
        for size in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1):
            tokens.add(_mac("name", word[:size]))
    return tokens


def query_tokens(query: str) -> set[str]:
    """Tokens a search must all match: one per typed word (words under MIN_PREFIX are ignored)."""
    return {_mac("name", w[:MAX_PREFIX]) for w in words(query) if len(w) >= MIN_PREFIX}
