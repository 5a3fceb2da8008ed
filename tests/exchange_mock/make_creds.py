#!/usr/bin/env python3
"""Prints a CREDS.json of throwaway credentials, shaped as each exchange issues them, for
mock.py and bot.py --direct (and for tests that seal them into a vault):

    python3 make_creds.py [ID ...] > creds.json

Binance/Bybit: alphanumeric key and secret; OKX: key, secret and passphrase; Kraken: key and
a base64 secret of 64 bytes; Coinbase: a CDP key name and a P-256 "EC PRIVATE KEY" PEM.
Without IDs, all six exchanges.
"""

import base64
import json
import secrets
import string
import sys
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ALNUM = string.ascii_letters + string.digits


def _alnum(n):
    return "".join(secrets.choice(ALNUM) for _ in range(n))


def make(exchange):
    if exchange in ("binance", "binanceusdm"):
        return {"apiKey": _alnum(64), "secret": _alnum(64)}
    if exchange == "okx":
        return {"apiKey": "%s-%s-%s-%s-%s" % (secrets.token_hex(4), secrets.token_hex(2), secrets.token_hex(2),
                                              secrets.token_hex(2), secrets.token_hex(6)),
                "secret": secrets.token_hex(16).upper(), "password": "Mock-" + _alnum(12)}
    if exchange == "bybit":
        return {"apiKey": _alnum(18), "secret": _alnum(36)}
    if exchange == "kraken":
        return {"apiKey": base64.b64encode(secrets.token_bytes(42)).decode(),
                "secret": base64.b64encode(secrets.token_bytes(64)).decode()}
    if exchange == "coinbase":
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
        return {"apiKey": "organizations/%s/apiKeys/%s" % (uuid.uuid4(), uuid.uuid4()), "secret": pem}
    raise SystemExit("make_creds.py: unknown exchange %r" % exchange)


def main():
    names = sys.argv[1:] or ["binance", "binanceusdm", "okx", "bybit", "kraken", "coinbase"]
    json.dump({name: make(name) for name in names}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
