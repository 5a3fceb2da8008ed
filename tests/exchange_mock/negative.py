#!/usr/bin/env python3
"""Checks that the mock refuses what the real exchange refuses: genuine ccxt requests signed
with the wrong secret, sent under the wrong key, or stamped with a stale time (and, on
Kraken, a reused nonce), each answered in the exchange's own error style and logged as
authenticated false with the reason; and that requests.jsonl never holds a secret or a
signature.

    python3 negative.py --ports DIR/ports.json --ca DIR/ca.pem --creds CREDS.json --log DIR/requests.jsonl

Prints one line per check; exits 1 if any check fails. selftest.sh runs it.
"""

import sys

sys.dont_write_bytecode = True

import argparse  # noqa: E402
import base64  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

import ccxt  # noqa: E402
import requests  # noqa: E402

from bot import CALL_SAVING, TrustCA, dummy_secret, point_at  # noqa: E402

# What the mock's log says for each refusal (venues/*.py, reject(..., reason)).
EXPECTED = {
    "wrong secret": "bad signature",
    "wrong key": "wrong API key",
    "stale time": {"binance": "timestamp outside recvWindow", "binanceusdm": "timestamp outside recvWindow",
                   "okx": "timestamp more than 30 s off", "bybit": "timestamp outside recv window",
                   "coinbase": "JWT expired"},
    "reused nonce": "nonce not above the last one",
}


def build(exchange_id, creds, port, ca, mutate=None):
    config = json.loads(json.dumps(CALL_SAVING[exchange_id]))
    config.update({k: v for k, v in creds.items() if k in ("apiKey", "secret", "password")})
    config["enableRateLimit"] = False
    if mutate:
        mutate(config)
    origin = "https://127.0.0.1:%d" % port
    session = requests.Session()
    session.mount(origin, TrustCA(ca))
    config["session"] = session
    ex = getattr(ccxt, exchange_id)(config)
    ex.urls["api"] = point_at(ex.urls["api"], origin)
    return ex


def log_lines_since(path, offset):
    with open(path, "rb") as f:
        f.seek(offset)
        return [json.loads(line) for line in f.read().decode().splitlines() if line.strip()]


def other_secret(exchange_id, secret):
    if exchange_id == "coinbase":
        return dummy_secret("coinbase")
    if exchange_id == "kraken":
        raw = bytearray(base64.b64decode(secret))
        raw[0] ^= 1
        return base64.b64encode(bytes(raw)).decode()
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


def check(name, exchange_id, ex, call, expected_reason, log_path, results):
    """Runs `call(ex)`; passes when ccxt raises and the mock logged the expected refusal."""
    offset = os.path.getsize(log_path)
    try:
        call(ex)
        raised = None
    except ccxt.BaseError as e:
        raised = type(e).__name__
    lines = [line for line in log_lines_since(log_path, offset) if line.get("exchange") == exchange_id]
    refused = [line for line in lines if line["authenticated"] is False and line["verdict"] == "rejected"]
    ok = raised is not None and refused and refused[-1]["reason"] == expected_reason
    detail = "ccxt raised %s; mock logged %r" % (raised, refused[-1]["reason"] if refused else None)
    results.append(ok)
    print("%-5s %-12s %-13s %s" % ("ok" if ok else "FAIL", exchange_id, name, detail), flush=True)


def main():
    parser = argparse.ArgumentParser(description="Negative checks of the mock exchanges.")
    parser.add_argument("--ports", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--creds", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    with open(args.ports) as f:
        ports = json.load(f)
    with open(args.creds) as f:
        all_creds = json.load(f)

    results = []
    for exchange_id, port in sorted(ports.items()):
        creds = all_creds[exchange_id]
        # Markets are public: load them once, outside the checks, and reuse them.
        markets = build(exchange_id, creds, port, args.ca).load_markets()

        def fresh(mutate=None):
            ex = build(exchange_id, creds, port, args.ca, mutate)
            ex.set_markets(markets)
            return ex

        def fetch_balance(ex):
            return ex.fetch_balance()

        check("wrong secret", exchange_id,
              fresh(lambda c: c.update(secret=other_secret(exchange_id, creds["secret"]))),
              fetch_balance, EXPECTED["wrong secret"], args.log, results)
        wrong_key = creds["apiKey"][:-1] + ("x" if creds["apiKey"][-1] != "x" else "y")
        # Coinbase's key name is inside the JWT (kid, sub): the mock names that "kid".
        check("wrong key", exchange_id, fresh(lambda c: c.update(apiKey=wrong_key)), fetch_balance,
              "JWT kid is not the key name" if exchange_id == "coinbase" else EXPECTED["wrong key"],
              args.log, results)
        if exchange_id == "kraken":
            ex = fresh()
            fixed = ex.milliseconds()
            ex.nonce = lambda: fixed
            ex.fetch_balance()  # first use of the nonce: accepted
            check("reused nonce", exchange_id, ex, fetch_balance, EXPECTED["reused nonce"], args.log, results)
        else:
            ex = fresh()
            real_ms, real_s = ex.milliseconds, ex.seconds
            ex.milliseconds = lambda: real_ms() - 120_000
            ex.seconds = lambda: real_s() - 300
            check("stale time", exchange_id, ex, fetch_balance, EXPECTED["stale time"][exchange_id], args.log, results)

    # The log never holds a secret (nor, for Binance, a signature parameter's value).
    with open(args.log, encoding="utf-8") as f:
        text = f.read()
    leaked = [name for name, c in all_creds.items() if name in ports
              for field in ("secret", "password") if c.get(field) and c[field] in text]
    sig_values = [line for line in text.splitlines() if "signature=" in line and "signature=<redacted>" not in line]
    ok = not leaked and not sig_values
    results.append(ok)
    print("%-5s %-12s %-13s %s" % ("ok" if ok else "FAIL", "log", "no secrets",
                                   "secrets found for %s; %d signature values" % (leaked, len(sig_values))
                                   if not ok else "requests.jsonl holds no secret and no signature"))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
