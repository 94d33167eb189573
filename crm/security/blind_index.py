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
TYPO_MIN = 4  # a typed word of this many letters may also be tried one letter shorter


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


def typed_prefixes(query: str, *, shorter: bool = False) -> list[str]:
    """The word prefixes a search looks for, one per typed word (words under MIN_PREFIX are
    ignored, at most MAX_PREFIX letters each). Plaintext: hashed by query_tokens, never stored.

    `shorter` is the typo allowance: each word of TYPO_MIN letters or more is tried one letter
    shorter ("reyez" finds "Reyes", "margueritte" finds "Marguerite"). Those prefixes are
    stored anyway, so the allowance reveals nothing more to someone holding the database.
    """
    prefixes = []
    for word in words(query):
        if len(word) < MIN_PREFIX:
            continue
        size = min(len(word), MAX_PREFIX)
        if shorter and size >= TYPO_MIN:
            size -= 1
        prefixes.append(word[:size])
    return prefixes


def query_tokens(query: str, *, shorter: bool = False) -> set[str]:
    """Tokens a search must all match: one per typed word (typed_prefixes)."""
    return {_mac("name", prefix) for prefix in typed_prefixes(query, shorter=shorter)}


def has_prefixes(text: str, query: str, *, shorter: bool = False) -> bool:
    """Whether a name already decrypted has every typed word prefix: what its tokens would
    answer (e.g. to say why a record matched, without asking the database again)."""
    prefixes = typed_prefixes(query, shorter=shorter)
    found = words(text)
    return bool(prefixes) and all(any(w.startswith(p) for w in found) for p in prefixes)


def can_shorten(query: str) -> bool:
    """Whether query_tokens(query, shorter=True) tries anything query_tokens(query) does not."""
    return any(len(word) >= TYPO_MIN for word in words(query))
