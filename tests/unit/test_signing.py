from __future__ import annotations

from payments.signing import constant_time_equal, hmac_sha512_hex


def test_hmac_sha512_rfc4231_case_2() -> None:
    # RFC 4231, test case 2: an implementation that is not ours fixed this value.
    assert hmac_sha512_hex(b"Jefe", b"what do ya want for nothing?") == (
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
    )


def test_constant_time_equal() -> None:
    assert constant_time_equal("abc", "abc")
    assert constant_time_equal(b"abc", "abc")
    assert not constant_time_equal("abc", "abd")
    assert not constant_time_equal("abc", "ab")
    assert not constant_time_equal("abc", "ABC")
    assert not constant_time_equal("abc", "äbc")  # non-ASCII never matches, never raises
