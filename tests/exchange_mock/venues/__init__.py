"""The mock exchanges, by the ccxt id each stands for, and the credential fields each needs."""

import base64
import binascii

from venues.binance import Binance
from venues.bybit import Bybit
from venues.coinbase import Coinbase
from venues.kraken import Kraken
from venues.okx import Okx

VENUES = {
    "binance": Binance,
    "binanceusdm": Binance,
    "okx": Okx,
    "bybit": Bybit,
    "kraken": Kraken,
    "coinbase": Coinbase,
}

REQUIRED_FIELDS = {
    "binance": ("apiKey", "secret"),
    "binanceusdm": ("apiKey", "secret"),
    "okx": ("apiKey", "secret", "password"),
    "bybit": ("apiKey", "secret"),
    "kraken": ("apiKey", "secret"),
    "coinbase": ("apiKey", "secret"),
}


def check_creds(creds):
    """None when `creds` is a usable credentials document, else what is wrong with it
    (naming the exchange and field; never quoting a value)."""
    if not isinstance(creds, dict) or not creds:
        return "expected a JSON object with at least one exchange, such as {\"binance\": {\"apiKey\": ..., \"secret\": ...}}"
    for name, entry in creds.items():
        if name not in VENUES:
            return "unknown exchange %r (the mock serves: %s)" % (name, ", ".join(sorted(VENUES)))
        if not isinstance(entry, dict):
            return "%s: expected an object with %s" % (name, ", ".join(REQUIRED_FIELDS[name]))
        for field in REQUIRED_FIELDS[name]:
            if not isinstance(entry.get(field), str) or not entry[field]:
                return "%s: field %r is missing or not a non-empty string" % (name, field)
        if name == "kraken":
            try:
                base64.b64decode(entry["secret"], validate=True)
            except (binascii.Error, ValueError):
                return "kraken: field 'secret' is not base64, as Kraken issues it"
        if name == "coinbase" and "-----BEGIN" not in entry["secret"]:
            return "coinbase: field 'secret' is not a PEM EC private key (-----BEGIN EC PRIVATE KEY-----)"
    return None
