#!/usr/bin/env python3
"""A trading bot the way a user writes one: unmodified ccxt (4.5.75), pointed at custody's
signing proxy with ``proxyUrl`` and a dummy secret, or (to check the mock itself) straight at
the mock with the real credentials.

    bot.py --exchange ID --proxy-url URL --api-key TOKEN [--secret DUMMY] [--password DUMMY]
    bot.py --exchange ID --env NAME          # NAME_API_KEY, NAME_API_SECRET, NAME_API_PASSPHRASE, NAME_PROXY_URL
    bot.py --exchange ID --direct PORT --ca CA.pem --creds CREDS.json
           [--scenario full|balance|withdraw|order] [--count N]

Proxy mode builds ``ccxt.<id>({'apiKey': TOKEN, 'secret': DUMMY, 'proxyUrl': URL})`` and
changes nothing else but options that only spare needless requests (CALL_SAVING below).
Without --secret the bot makes its own dummy: a throwaway P-256 PEM for coinbase (ccxt signs
a JWT with it), base64 for kraken (ccxt decodes it), "dummy" otherwise; likewise the OKX
password. Direct mode points every ccxt URL at https://127.0.0.1:PORT and trusts CA.pem.

--scenario balance --count N (N > 1) makes N fetch_balance calls with ccxt's client-side
throttle off (it would otherwise dominate: Kraken allows one request a second) and adds
latencies_ms, p50_ms, p99_ms, max_ms to the line.

Prints ONE JSON line; exits 0 when the scenario ran (withdraw refused included), 1 on any
other failure (the line then has "error" and "failed_step"), 2 on bad arguments.
"""

import sys

sys.dont_write_bytecode = True

import argparse  # noqa: E402
import base64  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402

import ccxt  # noqa: E402
import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402

EXCHANGES = ("binance", "binanceusdm", "okx", "bybit", "kraken", "coinbase")

# The one market each mock lists, in ccxt's unified form.
SYMBOL = {
    "binance": "BTC/USDT",
    "binanceusdm": "BTC/USDT:USDT",
    "okx": "BTC/USDT",
    "bybit": "BTC/USDT",
    "kraken": "BTC/USD",
    "coinbase": "BTC/USD",
}

# Options that only spare requests a bot does not need (docs/proxy-ccxt-endpoints.md,
# "Options that spare requests"): skip the currency lists (private on binance, okx, bybit)
# and the market types the bot does not trade; on Bybit, say the account is a unified
# trading account (every new Bybit account is) instead of asking /v5/user/query-api and
# /v5/account/info before the first private call.
CALL_SAVING = {
    "binance": {"options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False}},
    "binanceusdm": {"options": {"fetchMarkets": {"types": ["linear"]}, "fetchCurrencies": False, "fetchMargins": False}},
    "okx": {"options": {"fetchMarkets": {"types": ["spot"]}}, "has": {"fetchCurrencies": False}},
    "bybit": {"options": {"fetchMarkets": {"types": ["spot"]}, "enableUnifiedAccount": True, "enableUnifiedMargin": False},
              "has": {"fetchCurrencies": False}},
    "kraken": {"has": {"fetchCurrencies": False}},
    "coinbase": {"has": {"fetchCurrencies": False}},
}

# What the bot withdraws (the mock accepts it directly; through the proxy it must be refused).
WITHDRAW = {
    "binance": ("USDT", 10, "TMockWithdrawAddress000000000000001", {}),
    "binanceusdm": ("USDT", 10, "TMockWithdrawAddress000000000000001", {}),
    "okx": ("USDT", 10, "TMockWithdrawAddress000000000000001", {"fee": "1"}),
    "bybit": ("USDT", 10, "TMockWithdrawAddress000000000000001", {}),
    "kraken": ("USD", 10, None, {"key": "mock-withdrawal-key"}),
    "coinbase": ("BTC", 0.001, "bc1qmockwithdrawaddress0000000000000000000", {}),
}

# fetch_order parameters ccxt insists on: Bybit's fetchOrder only sees the last 500 orders
# and refuses to run until told the caller knows.
FETCH_ORDER_PARAMS = {"bybit": {"acknowledged": True}}

ORDER_AMOUNT = 0.001
ORDER_PRICE = 20000


class Failure(Exception):
    def __init__(self, step, error):
        super().__init__(step)
        self.step = step
        self.error = error


def dummy_secret(exchange):
    """A syntactically valid secret that signs nothing the exchange would accept."""
    if exchange == "coinbase":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        key = ec.generate_private_key(ec.SECP256R1())
        return key.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption()).decode()
    if exchange == "kraken":
        return base64.b64encode(b"dummy secret: the proxy holds the real one").decode()
    return "dummy"


def env_prefix(name):
    """NAME as custody writes it into variable names (env_prefix in src/vault/credential.rs):
    ASCII letters and digits upper-cased, every other character `_`."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


class TrustCA(HTTPAdapter):
    """requests hands ccxt's verify=True to every send; this adapter replaces it with the
    mock's CA for the mock's origin only."""

    def __init__(self, ca_path):
        super().__init__()
        self._ca = ca_path

    def send(self, request, **kwargs):
        kwargs["verify"] = self._ca
        return super().send(request, **kwargs)


def point_at(tree, origin):
    """Every https://host[:port] in ccxt's urls['api'] tree → origin (paths kept)."""
    if isinstance(tree, dict):
        return {k: point_at(v, origin) for k, v in tree.items()}
    if isinstance(tree, str):
        return re.sub(r"^https://[^/]+", origin, tree)
    return tree


def build_exchange(args):
    config = json.loads(json.dumps(CALL_SAVING[args.exchange]))  # a deep copy
    if args.direct is not None:
        try:
            with open(args.creds, encoding="utf-8") as f:
                creds = json.load(f)[args.exchange]
        except (OSError, ValueError, KeyError) as e:
            raise SystemExit("bot.py: no credentials for %s in %s (%s)" % (args.exchange, args.creds, e))
        origin = "https://127.0.0.1:%d" % args.direct
        session = requests.Session()
        session.mount(origin, TrustCA(args.ca))
        config.update({k: creds[k] for k in ("apiKey", "secret", "password") if k in creds})
        config["session"] = session
        exchange = getattr(ccxt, args.exchange)(config)
        exchange.urls["api"] = point_at(exchange.urls["api"], origin)
        return exchange, "direct"
    if args.env is not None:
        prefix = env_prefix(args.env)
        missing = [v for v in (prefix + "_API_KEY", prefix + "_API_SECRET", prefix + "_PROXY_URL") if v not in os.environ]
        if missing:
            raise SystemExit("bot.py: --env %s: variables not set: %s" % (args.env, ", ".join(missing)))
        api_key = os.environ[prefix + "_API_KEY"]
        secret = os.environ[prefix + "_API_SECRET"]
        password = os.environ.get(prefix + "_API_PASSPHRASE")
        proxy_url = os.environ[prefix + "_PROXY_URL"]
        mode = "env"
    else:
        api_key, secret, password, proxy_url = args.api_key, args.secret, args.password, args.proxy_url
        mode = "proxy"
    config.update({"apiKey": api_key, "secret": secret if secret is not None else dummy_secret(args.exchange),
                   "proxyUrl": proxy_url})
    if args.exchange == "okx":
        config["password"] = password if password is not None else "dummy"
    elif password is not None:
        config["password"] = password
    return getattr(ccxt, args.exchange)(config), mode


def step(name, fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported, by class and message
        raise Failure(name, e)


def small_balance(balance):
    return {code: balance[code].get("free") for code in ("BTC", "USDT", "USD")
            if isinstance(balance.get(code), dict) and balance[code].get("free") is not None}


def run_order(exchange, symbol, out):
    order = step("create_order", lambda: exchange.create_order(symbol, "limit", "buy", ORDER_AMOUNT, ORDER_PRICE))
    out["order_id"] = order["id"]
    if exchange.has.get("fetchOrder"):
        fetched = step("fetch_order", lambda: exchange.fetch_order(order["id"], symbol, dict(FETCH_ORDER_PARAMS.get(exchange.id, {}))))
        out["fetched_status"] = fetched.get("status")
    else:
        open_orders = step("fetch_open_orders", lambda: exchange.fetch_open_orders(symbol))
        out["fetched_status"] = "open" if any(o["id"] == order["id"] for o in open_orders) else "missing"
    step("cancel_order", lambda: exchange.cancel_order(order["id"], symbol))
    out["cancelled"] = True


def run_withdraw(exchange, name, out):
    code, amount, address, params = WITHDRAW[name]
    try:
        result = exchange.withdraw(code, amount, address, None, dict(params))
        out["withdraw"] = {"ok": True, "id": result.get("id")}
    except ccxt.BaseError as e:  # refused (expected through the proxy): report, carry on
        out["withdraw"] = {"ok": False, "error": type(e).__name__, "message": str(e)[:500]}
    except Exception as e:  # noqa: BLE001 - anything else is a failure of the run
        raise Failure("withdraw", e)


def main():
    parser = argparse.ArgumentParser(description="A ccxt bot for the signing proxy's tests.")
    parser.add_argument("--exchange", required=True, choices=EXCHANGES)
    parser.add_argument("--proxy-url")
    parser.add_argument("--api-key")
    parser.add_argument("--secret")
    parser.add_argument("--password")
    parser.add_argument("--env", metavar="NAME")
    parser.add_argument("--direct", type=int, metavar="PORT")
    parser.add_argument("--ca")
    parser.add_argument("--creds")
    parser.add_argument("--scenario", choices=("full", "balance", "withdraw", "order"), default="full")
    parser.add_argument("--count", type=int, default=1)
    args = parser.parse_args()
    modes = [args.proxy_url is not None, args.env is not None, args.direct is not None]
    if sum(modes) != 1:
        parser.error("give exactly one of --proxy-url (with --api-key), --env NAME, --direct PORT (with --ca, --creds)")
    if args.proxy_url is not None and args.api_key is None:
        parser.error("--proxy-url needs --api-key (the token)")
    if args.direct is not None and (args.ca is None or args.creds is None):
        parser.error("--direct needs --ca and --creds")
    if args.count < 1:
        parser.error("--count must be at least 1")

    exchange, mode = build_exchange(args)
    symbol = SYMBOL[args.exchange]
    out = {"exchange": args.exchange, "mode": mode, "scenario": args.scenario}
    if args.scenario == "balance" and args.count > 1:
        # The benchmark measures round trips: ccxt's client-side throttle (Kraken: one
        # request a second) would measure itself instead. Requests are unchanged.
        exchange.enableRateLimit = False
        out["client_throttle"] = False
    try:
        step("load_markets", exchange.load_markets)
        if symbol not in exchange.markets:
            raise Failure("load_markets", KeyError("market %s not listed" % symbol))
        if args.scenario in ("full", "balance"):
            latencies = []
            for _ in range(args.count):
                t0 = time.perf_counter()
                balance = step("fetch_balance", exchange.fetch_balance)
                latencies.append(round((time.perf_counter() - t0) * 1000, 3))
            out["balance"] = small_balance(balance)
            if args.scenario == "balance" and args.count > 1:
                ordered = sorted(latencies)
                out["latencies_ms"] = latencies
                out["p50_ms"] = ordered[len(ordered) // 2]
                out["p99_ms"] = ordered[min(len(ordered) - 1, (len(ordered) * 99) // 100)]
                out["max_ms"] = ordered[-1]
        if args.scenario in ("full", "order"):
            run_order(exchange, symbol, out)
        if args.scenario in ("full", "withdraw"):
            run_withdraw(exchange, args.exchange, out)
    except Failure as f:
        out.update({"ok": False, "failed_step": f.step,
                    "error": type(f.error).__name__, "message": str(f.error)[:500]})
        print(json.dumps(out, separators=(",", ":")), flush=True)
        return 1
    out["ok"] = True
    print(json.dumps(out, separators=(",", ":")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
