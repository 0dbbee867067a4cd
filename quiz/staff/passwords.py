"""Staff passwords: the length rule, the common-password check, scrypt hashes.

NIST SP 800-63B and OWASP: at least 8 characters, long passphrases allowed, no
composition rules (they push people to `Password1!`), and refuse the passwords
attackers try first. The list of those is zxcvbn's 30,000 most common
passwords (from leaked password corpora), shipped inside the zxcvbn package,
so the check needs no network. Hashes are Werkzeug's scrypt with OWASP's
parameters (`STAFF_PASSWORD_METHOD`, N=2**17, r=8, p=1); the parameters are
stored in each hash, so raising them later keeps old hashes verifiable.
"""

from __future__ import annotations

from functools import cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

# Checked as well as the common list: what someone setting up this app might try.
_CONTEXT_WORDS = ("relaxorfill", "relax or fill", "medspa", "med spa", "staff", "password")


class PasswordRejected(ValueError):
    """The password breaks a rule; the message says which, in plain words."""


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords, lower-cased (loaded on first use)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def check_password(password: str, *, email: str = "", spa_name: str = "") -> None:
    """Raise PasswordRejected unless the password may be used."""
    config = current_app.config
    low, high = config["STAFF_PASSWORD_MIN_LENGTH"], config["STAFF_PASSWORD_MAX_LENGTH"]
    if len(password) < low:
        raise PasswordRejected(f"The password must be at least {low} characters long.")
    if len(password) > high:
        raise PasswordRejected(f"The password must be at most {high} characters long.")
    folded = password.strip().lower()
    if folded in common_passwords():
        raise PasswordRejected(
            "That password is one of the most common passwords; attackers try those first. "
            "A few unrelated words make a strong one that is easy to remember."
        )
    if len(set(folded)) < 3:
        raise PasswordRejected("The password repeats too few different characters.")
    local = email.lower().split("@", 1)[0]
    context = {w for w in (*_CONTEXT_WORDS, email.lower(), local, spa_name.lower()) if w}
    squeezed = folded.replace(" ", "")
    if folded in context or squeezed in {w.replace(" ", "") for w in context}:
        raise PasswordRejected("The password must not be your email address or the spa's name.")


def hash_password(password: str) -> str:
    """An scrypt hash of the password with the configured parameters."""
    return generate_password_hash(password, method=current_app.config["STAFF_PASSWORD_METHOD"])


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash."""
    return check_password_hash(password_hash, password)


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not-a-real-password", method=method)


def burn_verification_time(password: str) -> None:
    """Spend as long as a real check, so timing does not tell which accounts exist."""
    check_password_hash(_dummy_hash(current_app.config["STAFF_PASSWORD_METHOD"]), password)
