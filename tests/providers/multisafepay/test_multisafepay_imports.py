"""MultiSafepay signs with HMAC only: its adapter and the HMAC and MD5 helpers never load `cryptography`
(payments.signing imports it inside its RSA functions only)."""

from __future__ import annotations

import subprocess
import sys


def test_hmac_path_never_loads_cryptography() -> None:
    code = (
        "import sys; from payments.signing import hmac_sha512_hex, md5_hex, constant_time_equal;"
        "import payments.providers.multisafepay.adapter; hmac_sha512_hex(b'k', b'm'); md5_hex('x');"
        "print('cryptography' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": "layers/payments"},
    )
    assert out.stdout.strip() == "False"
