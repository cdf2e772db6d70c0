"""What every form of the live site leans on: the site's secret, signed cookies, CSRF tokens, a keyed
hash of the client's address, rate limits and a small proof of work.

Shared by the vote routes and the newsletter routes. Nothing here stores or logs a raw address: the
limits are keyed by `AddressHasher.key(ip)`, an HMAC under the site's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

SECRET_FILE = "serve-secret"
SECRET_BYTES = 32
CSRF_COOKIE = "panel_csrf"
CSRF_FIELD = "csrf"
CSRF_MAX_AGE_S = 24 * 3600
# Tokens and cookies are short strings; anything longer is not one of ours.
MAX_TOKEN = 512


def site_secret(home: Path) -> bytes:
    """The data home's serving secret: 32 random bytes made once, in a file of mode 0600.

    Created with O_EXCL so two servers starting together agree on one secret.
    """
    path = home / SECRET_FILE
    home.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        data = path.read_bytes()
        if len(data) < SECRET_BYTES:
            raise ValueError(f"{path}: too short to be a serving secret; delete it") from None
        return data
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(SECRET_BYTES))
        fh.flush()
        os.fsync(fh.fileno())
    return path.read_bytes()


def subkey(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose, so a cookie signature is never valid as a CSRF token or a hash."""
    return hmac.new(secret, f"panel-serve:{purpose}".encode(), hashlib.sha256).digest()


class SignedValue:
    """A value signed (and timestamped) under the site's secret: a cookie a reader cannot forge."""

    def __init__(self, secret: bytes, purpose: str, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(subkey(secret, purpose), salt=purpose)
        self.max_age_s = max_age_s

    def dumps(self, value: str) -> str:
        return str(self._serializer.dumps(value))

    def loads(self, token: str | None) -> str | None:
        """The signed value, or None when the token is missing, forged, too long or expired."""
        if not token or len(token) > MAX_TOKEN:
            return None
        try:
            value = self._serializer.loads(token, max_age=self.max_age_s)
        except (BadSignature, SignatureExpired):
            return None
        return value if isinstance(value, str) else None


class Csrf:
    """Double-submit CSRF: a signed random token in a cookie and the same token in the form.

    The token is signed, so a cookie planted by someone else (a sibling subdomain) is refused too.
    """

    def __init__(self, secret: bytes, max_age_s: int = CSRF_MAX_AGE_S) -> None:
        self._signed = SignedValue(secret, "csrf", max_age_s)

    def new(self) -> str:
        return self._signed.dumps(secrets.token_urlsafe(16))

    def valid(self, token: str | None) -> bool:
        return self._signed.loads(token) is not None

    def current(self, cookie: str | None) -> tuple[str, bool]:
        """The token a page's form carries: the reader's cookie while it is ours and unexpired,
        else a new one; True when it is new (the response must set it)."""
        return (str(cookie), False) if self.valid(cookie) else (self.new(), True)

    def check(self, cookie: str | None, field: str | None) -> bool:
        """True when the form's token is the cookie's and both are ours."""
        if not cookie or not field or len(field) > MAX_TOKEN:
            return False
        return hmac.compare_digest(cookie.encode(), field.encode()) and self.valid(cookie)


class AddressHasher:
    """An address as the limits see it: HMAC-SHA256 under the site's secret, never the address."""

    def __init__(self, secret: bytes) -> None:
        self._key = subkey(secret, "address")

    def key(self, address: str) -> str:
        return hmac.new(self._key, address.encode(), hashlib.sha256).hexdigest()[:32]


class RateLimiter:
    """Named limits (`"30/minute;300/hour"` strings) over hashed addresses, by the `limits` library.

    A moving window in memory: one server process counts its own readers.
    """

    def __init__(self, rules: dict[str, str]) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._rules: dict[str, list[RateLimitItem]] = {n: parse_many(r) for n, r in rules.items()}

    def hit(self, rule: str, key: str) -> bool:
        """Count one event for `key` under `rule`; False (and not counted) when over a limit."""
        items = self._rules[rule]
        if not all(self._limiter.test(item, rule, key) for item in items):
            return False
        return all([self._limiter.hit(item, rule, key) for item in items])


@dataclass(frozen=True)
class Challenge:
    """A proof-of-work puzzle: find `nonce` so that sha256(`token` + ":" + nonce) starts with
    `bits` zero bits. `token` is signed, so the server keeps no state until one is spent."""

    token: str
    bits: int


class ProofOfWork:
    """Hashcash for forms: cheap for one reader's browser, costly for a bot casting thousands.

    A solved token is spent once: replaying it is refused until it would have expired anyway.
    """

    def __init__(self, secret: bytes, bits: int, max_age_s: int = 600) -> None:
        self.bits = bits
        self.max_age_s = max_age_s
        self._signed = SignedValue(secret, "pow", max_age_s)
        self._spent: OrderedDict[str, float] = OrderedDict()
        self._lock = Lock()

    def challenge(self) -> Challenge:
        return Challenge(self._signed.dumps(f"{self.bits}.{secrets.token_urlsafe(12)}"), self.bits)

    def verify(self, token: str | None, nonce: str | None) -> bool:
        """A token we issued, not expired, not spent, and `nonce` solves it; spends it."""
        value = self._signed.loads(token)
        if value is None or not nonce or len(nonce) > 32 or not nonce.isdigit():
            return False
        bits = int(value.partition(".")[0])
        assert token is not None
        if not solves(token, nonce, bits):
            return False
        return self._spend(token)

    def _spend(self, token: str) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._spent and next(iter(self._spent.values())) < now:
                self._spent.popitem(last=False)
            if token in self._spent:
                return False
            self._spent[token] = now + self.max_age_s
        return True


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def solves(token: str, nonce: str, bits: int) -> bool:
    return leading_zero_bits(hashlib.sha256(f"{token}:{nonce}".encode()).digest()) >= bits


def solve(token: str, bits: int) -> str:
    """A nonce for `token` (what the page's script does; tests and the benchmark use it)."""
    nonce = 0
    while not solves(token, str(nonce), bits):
        nonce += 1
    return str(nonce)


# Rate limits by name (the `limits` notation); the benchmark and tests pass their own.
DEFAULT_LIMITS: dict[str, str] = {
    "vote": "20/minute;200/hour",  # votes from one address, any reader
    "vote_nojs": "5/hour",  # votes without the proof of work (a browser without JavaScript)
    "new_reader": "10/hour",  # new readers (cookies) one address may start
    "subscribe": "5/minute;30/hour",  # newsletter sign-ups: a retried typo fits, a script does not
}
# Leading zero bits of the proof of work: ~16,000 hashes, well under a second in a browser.
DEFAULT_POW_BITS = 14
READER_COOKIE = "panel_reader"
READER_MAX_AGE_S = 400 * 24 * 3600


@dataclass
class Security:
    """Everything a form handler checks, made once per server from the data home's secret.

    One instance per process: the rate limiter and the spent proofs live in it.
    """

    csrf: Csrf
    addresses: AddressHasher
    limiter: RateLimiter
    pow: ProofOfWork
    reader: SignedValue

    @classmethod
    def from_secret(
        cls,
        secret: bytes,
        limits: dict[str, str] | None = None,
        pow_bits: int = DEFAULT_POW_BITS,
    ) -> Security:
        return cls(
            csrf=Csrf(secret),
            addresses=AddressHasher(secret),
            limiter=RateLimiter(DEFAULT_LIMITS | (limits or {})),
            pow=ProofOfWork(secret, pow_bits),
            reader=SignedValue(secret, "reader", READER_MAX_AGE_S),
        )
