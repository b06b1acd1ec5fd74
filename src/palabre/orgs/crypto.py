"""Encryption at rest for channel credentials.

Keys are derived from the secret key (HKDF), so nothing else needs to be kept; each
ciphertext names the key it was made with (its id), so old secret keys listed in
PALABRE_SECRET_KEY_FALLBACKS still decrypt until `palabre rotate-keys` re-encrypts.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

FORMAT = "fernet1"


class CredentialsUnreadable(Exception):
    """No configured key can decrypt these credentials (the secret key changed without fallback)."""


@dataclass(frozen=True)
class CredentialKey:
    key_id: str
    fernet: Fernet


@lru_cache(maxsize=16)
def _derive(secret: str) -> CredentialKey:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"palabre-channel-credentials", info=b"v1").derive(
        secret.encode()
    )
    key_id = hashlib.sha256(raw).hexdigest()[:12]
    return CredentialKey(key_id, Fernet(base64.urlsafe_b64encode(raw)))


def current_key() -> CredentialKey:
    return _derive(settings.SECRET_KEY)


def known_keys() -> dict[str, CredentialKey]:
    keys = [_derive(secret) for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]]
    return {key.key_id: key for key in keys}


def encrypt_json(value: dict) -> str:
    key = current_key()
    token = key.fernet.encrypt(json.dumps(value, sort_keys=True).encode()).decode()
    return f"{FORMAT}:{key.key_id}:{token}"


def key_id_of(ciphertext: str) -> str:
    return ciphertext.split(":", 2)[1] if ciphertext.startswith(FORMAT + ":") else ""


def decrypt_json(ciphertext: str) -> dict:
    if not ciphertext:
        return {}
    try:
        fmt, key_id, token = ciphertext.split(":", 2)
    except ValueError as error:
        raise CredentialsUnreadable("malformed ciphertext") from error
    key = known_keys().get(key_id)
    if fmt != FORMAT or key is None:
        raise CredentialsUnreadable(f"no configured key with id {key_id}")
    try:
        return json.loads(key.fernet.decrypt(token.encode()))
    except InvalidToken as error:
        raise CredentialsUnreadable("ciphertext does not match its key") from error
