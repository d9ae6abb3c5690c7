"""Secrets Manager GetRandomPassword: every option, the limits, and that the passwords look random."""
import string
from collections import Counter

import pytest
from botocore.exceptions import ClientError

from helpers import sm_client, sm_error

PUNCTUATION = set(string.punctuation)  # !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
LOWER, UPPER, DIGITS = set(string.ascii_lowercase), set(string.ascii_uppercase), set(string.digits)
ALL = LOWER | UPPER | DIGITS | PUNCTUATION


@pytest.fixture(scope="module")
def sm(endpoint):
    return sm_client(endpoint)


def _pw(sm, **kw):
    out = sm.get_random_password(**kw)
    assert set(out) - {"ResponseMetadata"} == {"RandomPassword"}
    return out["RandomPassword"]


def test_default_password(sm):
    pw = _pw(sm)
    assert len(pw) == 32
    chars = set(pw)
    assert chars <= ALL  # no space by default
    # RequireEachIncludedType is on by default.
    for kind in (LOWER, UPPER, DIGITS, PUNCTUATION):
        assert chars & kind, pw


def test_longest_password_uses_the_whole_alphabet(sm):
    pw = _pw(sm, PasswordLength=4096)
    assert len(pw) == 4096
    # 94 characters, 4096 draws: a character missing has probability < 1e-15.
    assert set(pw) == ALL
    # Roughly uniform: each character about 4096/94 = 43.6 times.
    counts = Counter(pw)
    assert min(counts.values()) >= 10 and max(counts.values()) <= 100, counts.most_common(3)


def test_passwords_differ(sm):
    seen = {_pw(sm, PasswordLength=20) for _ in range(30)}
    assert len(seen) == 30


@pytest.mark.parametrize("option, excluded", [
    ("ExcludeNumbers", DIGITS),
    ("ExcludePunctuation", PUNCTUATION),
    ("ExcludeUppercase", UPPER),
    ("ExcludeLowercase", LOWER),
])
def test_exclude_each_type(sm, option, excluded):
    pw = _pw(sm, PasswordLength=2000, **{option: True})
    assert len(pw) == 2000
    assert set(pw) == ALL - excluded


def test_exclude_characters(sm):
    excluded = "xyzDje@?!.\"'\\/` "
    pw = _pw(sm, PasswordLength=3000, ExcludeCharacters=excluded)
    assert len(pw) == 3000
    assert set(pw) == ALL - set(excluded)


def test_include_space(sm):
    pw = _pw(sm, PasswordLength=300, IncludeSpace=True)
    assert " " in pw
    assert set(pw) <= ALL | {" "}
    # With RequireEachIncludedType, even a short password holds a space.
    for _ in range(10):
        assert " " in _pw(sm, PasswordLength=5, IncludeSpace=True, RequireEachIncludedType=True)


def test_require_each_included_type_in_short_passwords(sm):
    for _ in range(20):
        pw = _pw(sm, PasswordLength=4, RequireEachIncludedType=True)
        assert len(pw) == 4
        assert all(set(pw) & kind for kind in (LOWER, UPPER, DIGITS, PUNCTUATION)), pw
    for _ in range(10):
        pw = _pw(sm, PasswordLength=2, ExcludePunctuation=True, ExcludeNumbers=True)
        assert set(pw) & LOWER and set(pw) & UPPER, pw


def test_only_digits(sm):
    pw = _pw(sm, PasswordLength=64, ExcludePunctuation=True, ExcludeUppercase=True, ExcludeLowercase=True)
    assert pw.isdigit() and len(pw) == 64


def test_without_required_types_any_mix(sm):
    pw = _pw(sm, PasswordLength=1, RequireEachIncludedType=False)
    assert len(pw) == 1 and pw in ALL


def test_too_long(sm):
    with pytest.raises(ClientError) as e:
        sm.get_random_password(PasswordLength=4097)
    assert sm_error(e) == ("ValidationException", 400,
                           "1 validation error detected: Value '4097' at 'passwordLength' failed to satisfy "
                           "constraint: Member must have value less than or equal to 4096")


def test_too_short_for_the_required_types(sm):
    with pytest.raises(ClientError) as e:
        sm.get_random_password(PasswordLength=3)
    assert sm_error(e) == ("InvalidParameterException", 400,
                           "Password length is too short based on the required types.")


def test_nothing_left_to_choose_from(sm):
    with pytest.raises(ClientError) as e:
        sm.get_random_password(ExcludeNumbers=True, ExcludePunctuation=True, ExcludeUppercase=True,
                               ExcludeLowercase=True)
    code, status, _ = sm_error(e)
    assert (code, status) == ("InvalidParameterException", 400)
