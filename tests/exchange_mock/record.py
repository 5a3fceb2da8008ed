#!/usr/bin/env python3
"""Records what ccxt actually sends through a proxyUrl, per exchange and per unified method.

    python3 record.py [--exchange ID ...] [--json OUT.json] [--markdown]

Starts a plain-HTTP recording server on 127.0.0.1 that stands where custody's signing proxy
stands: ccxt is built exactly as bot.py builds it in proxy mode (``proxyUrl`` =
``http://127.0.0.1:PORT/<token>/``, apiKey = the token, dummy secret), so every request
arrives as ``/<token>/<url_encoder_for_proxy_url(real url)>``. The server decodes the real
URL, hands the request to the mock venue of that host (venues/*.py, which checks the
signature with the dummy secret ccxt signed with) and records it: the request-target as
received, host, path, query, body, content type, authentication headers, whether signed.
Endpoints the mock does not implement get the exchange's empty success shape, so a method
that makes several requests goes on to the next one.

Output: a JSON document (--json) and/or markdown tables (--markdown) for
docs/proxy-ccxt-endpoints.md.
"""

import sys

sys.dont_write_bytecode = True

import argparse  # noqa: E402
import base64  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402
import urllib.parse  # noqa: E402

import ccxt  # noqa: E402

from bot import CALL_SAVING, FETCH_ORDER_PARAMS, SYMBOL, WITHDRAW, dummy_secret  # noqa: E402
from http_server import MockServer, Reply, Request, RequestLog  # noqa: E402
from venues import VENUES  # noqa: E402

TOKEN = "tok-record"

# Headers that carry authentication (by exchange); recorded by name, never by value.
AUTH_HEADERS = ("x-mbx-apikey", "ok-access-key", "ok-access-sign", "ok-access-timestamp",
                "ok-access-passphrase", "x-bapi-api-key", "x-bapi-sign", "x-bapi-timestamp",
                "x-bapi-recv-window", "x-bapi-sign-type", "api-key", "api-sign", "authorization",
                "cb-access-key", "cb-access-sign", "cb-access-timestamp")

# Futures markets the futures rows (fetch_positions, set_leverage) use, and the market types
# the instance for those rows loads (bot.py trades spot on okx and bybit).
FUTURES_SYMBOL = {"binanceusdm": "BTC/USDT:USDT", "okx": "BTC/USDT:USDT", "bybit": "BTC/USDT:USDT"}
FUTURES_TYPES = {"okx": ["spot", "swap"], "bybit": ["spot", "linear"]}

# Coinbase needs ids ccxt cannot find by itself for these (a portfolio, an account).
EXTRA_PARAMS = {
    "coinbase": {
        "fetch_positions": {"portfolio": "11111111-2222-4333-8444-555555555555"},
        "fetch_deposit_address": {"account_id": "9a7c3f4e-0000-4000-8000-00000000b7c0"},
    },
}

# transfer(code, amount, from, to) per exchange: the account names ccxt knows.
TRANSFER = {
    "binance": ("USDT", 10, "spot", "future"),
    "binanceusdm": ("USDT", 10, "future", "spot"),
    "okx": ("USDT", 10, "funding", "trading"),
    "bybit": ("USDT", 10, "fund", "unified"),
    "kraken": ("USD", 10, "spot", "future"),
    "coinbase": ("USD", 10, "spot", "future"),
}


def methods(ex_id):
    """(label, callable(exchange, state)) in the order they run; state carries the order id."""
    sym = SYMBOL[ex_id]
    fsym = FUTURES_SYMBOL.get(ex_id, sym)
    fo_params = FETCH_ORDER_PARAMS.get(ex_id, {})
    w_code, w_amount, w_address, w_params = WITHDRAW[ex_id]
    t_code, t_amount, t_from, t_to = TRANSFER[ex_id]

    def create_limit(ex, st):
        o = ex.create_order(sym, "limit", "buy", 0.001, 20000)
        st["order_id"] = o["id"]
        return o

    def order_id(st):
        return st.get("order_id") or "1001"

    extra = EXTRA_PARAMS.get(ex_id, {})

    def positions(ex, st):
        fut = st["futures"]
        return fut.fetch_positions([fsym], dict(extra.get("fetch_positions", {}))) if ex_id in FUTURES_SYMBOL \
            else fut.fetch_positions(None, dict(extra.get("fetch_positions", {})))

    return [
        ("fetch_balance", lambda ex, st: ex.fetch_balance()),
        ("create_order limit buy 0.001 @ 20000", create_limit),
        ("fetch_order", lambda ex, st: ex.fetch_order(order_id(st), sym, dict(fo_params))),
        ("fetch_open_orders", lambda ex, st: ex.fetch_open_orders(sym)),
        ("cancel_order", lambda ex, st: ex.cancel_order(order_id(st), sym)),
        ("create_order market buy 0.001 px 20000", lambda ex, st: ex.create_order(sym, "market", "buy", 0.001, 20000)),
        ("create_order market sell 0.001", lambda ex, st: ex.create_order(sym, "market", "sell", 0.001)),
        ("fetch_closed_orders", lambda ex, st: ex.fetch_closed_orders(sym)),
        ("fetch_my_trades", lambda ex, st: ex.fetch_my_trades(sym)),
        ("fetch_ticker", lambda ex, st: ex.fetch_ticker(sym)),
        ("fetch_tickers [symbol]", lambda ex, st: ex.fetch_tickers([sym])),
        ("fetch_order_book", lambda ex, st: ex.fetch_order_book(sym)),
        ("fetch_ohlcv 1h", lambda ex, st: ex.fetch_ohlcv(sym, "1h")),
        ("fetch_positions" + (" [%s]" % fsym if ex_id in FUTURES_SYMBOL else ""), positions),
        ("set_leverage 5 %s" % fsym, lambda ex, st: st["futures"].set_leverage(5, fsym, {"marginMode": "cross"} if ex_id == "okx" else {})),
        ("withdraw", lambda ex, st: ex.withdraw(w_code, w_amount, w_address, None, dict(w_params))),
        ("withdraw (no fee param)" if ex_id == "okx" else None,
         lambda ex, st: ex.withdraw(w_code, w_amount, w_address, None, {})),
        ("transfer %s %s→%s" % (t_code, t_from, t_to), lambda ex, st: ex.transfer(t_code, t_amount, t_from, t_to)),
        ("fetch_deposit_address", lambda ex, st: ex.fetch_deposit_address(w_code, dict(extra.get("fetch_deposit_address", {})))),
        ("fetch_deposits", lambda ex, st: ex.fetch_deposits(w_code)),
        ("fetch_withdrawals", lambda ex, st: ex.fetch_withdrawals(w_code)),
    ]


# How custody's proxy could refuse a request so that ccxt raises PermissionDenied with the
# proxy's words in the message: per exchange, the exchange's own error shape with a code (or,
# for Binance, a message) ccxt 4.5.75 maps to PermissionDenied; plus a naive generic answer
# for comparison. record.py checks each against ccxt's withdraw.
REFUSAL_TEXT = "custody signing proxy: withdraw is not allowed for this credential"
GENERIC_REFUSAL = (403, {"error": REFUSAL_TEXT})
REFUSALS = {
    "binance": (403, {"code": -1002, "msg": REFUSAL_TEXT + " (this key has no operation privilege for it)"}),
    "binanceusdm": (403, {"code": -1002, "msg": REFUSAL_TEXT + " (this key has no operation privilege for it)"}),
    "okx": (403, {"code": "50027", "msg": REFUSAL_TEXT, "data": []}),
    "bybit": (403, {"retCode": 10024, "retMsg": REFUSAL_TEXT, "result": {}, "retExtInfo": {}, "time": 0}),
    "kraken": (403, {"error": ["EGeneral:Permission denied", REFUSAL_TEXT], "result": {}}),
    "coinbase": (403, {"error": "PERMISSION_DENIED", "error_details": REFUSAL_TEXT, "message": REFUSAL_TEXT}),
}


class FixedAnswer:
    """A stand-in venue that answers every request with one fixed reply (the refusal probe)."""

    name = "refusal-probe"

    def __init__(self, status, body):
        self._reply = Reply(status, body, False, "rejected", "refusal probe")

    def handle(self, request):
        return self._reply


class Recorder:
    """The recording server: decodes proxy-form URLs and dispatches them to the venues."""

    def __init__(self, venues_by_host):
        self._venues_by_host = venues_by_host
        self._lock = threading.Lock()
        self.current = None  # list the next records go to
        self.fixed = None    # a FixedAnswer that answers everything, when set

    def venue_for(self, request):
        raw_target = request.path + ("?" + request.query if request.had_question_mark else "")
        prefix = "/" + TOKEN + "/"
        if not raw_target.startswith(prefix):
            return None, request
        target = raw_target[len(prefix):]
        encoded = not target.startswith("https://")
        url = urllib.parse.unquote(target) if encoded else target
        parts = urllib.parse.urlsplit(url)
        headers = request.headers
        real = Request(request.method, parts.path + ("?" + parts.query if "?" in url else ""), headers, request.body)
        real.host = parts.netloc
        real.proxy_target = raw_target
        real.target_encoded = encoded
        if self.fixed is not None:
            return self.fixed, real
        return self._venues_by_host.get(parts.netloc), real

    @staticmethod
    def auth_sample(request):
        """The authentication headers with their values, signatures elided; a JWT shown as
        its decoded header and claims (nothing in them is secret)."""
        out = {}
        for k, v in request.headers.items():
            lk = k.lower()
            if lk not in AUTH_HEADERS:
                continue
            if lk.endswith("sign"):
                out[k] = "<signature>"
            elif lk == "authorization" and v.startswith("Bearer "):
                head, claims, _ = v[len("Bearer "):].split(".")
                pad = lambda t: base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))  # noqa: E731
                out[k] = {"jwt_header": json.loads(pad(head)), "jwt_claims": json.loads(pad(claims))}
            else:
                out[k] = v
        return out

    def observe(self, request, reply):
        header_names = sorted({k for k in request.headers.keys() if k.lower() in AUTH_HEADERS})
        record = {
            "method": request.method,
            "proxy_target": getattr(request, "proxy_target", request.path),
            "target_form": "percent-encoded" if getattr(request, "target_encoded", False) else "raw",
            "host": request.host,
            "path": request.path,
            "query": request.query,
            "empty_query_mark": request.had_question_mark and not request.query,
            "content_type": request.headers.get("Content-Type"),
            "body": request.body.decode("utf-8", "replace"),
            "auth_headers": header_names,
            "origin_header": request.headers.get("Origin") is not None,
            "auth_sample": self.auth_sample(request) if header_names else {},
            "signed": reply.authenticated is True,
            "verdict": reply.verdict,
            "reason": reply.reason,
            "mock_answer": "empty" if reply.reason.startswith("unknown endpoint") else "implemented",
        }
        with self._lock:
            if self.current is not None:
                self.current.append(record)


def build(ex_id, port, saving=True, futures=False):
    config = json.loads(json.dumps(CALL_SAVING[ex_id])) if saving else {}
    if futures and ex_id in FUTURES_TYPES:
        config["options"]["fetchMarkets"] = {"types": FUTURES_TYPES[ex_id]}
    # No client-side throttling: it changes no request, only the time the recording takes.
    config["enableRateLimit"] = False
    config.update({"apiKey": TOKEN, "secret": DUMMIES[ex_id]["secret"],
                   "proxyUrl": "http://127.0.0.1:%d/%s/" % (port, TOKEN)})
    if "password" in DUMMIES[ex_id]:
        config["password"] = DUMMIES[ex_id]["password"]
    return getattr(ccxt, ex_id)(config)


DUMMIES = {}


def record_exchange(ex_id, recorder, port):
    results = []

    def run(label, fn, ex, st):
        recorder.current = []
        outcome = "ok"
        try:
            fn(ex, st)
        except Exception as e:  # noqa: BLE001 - recorded, by class and message
            outcome = "%s: %s" % (type(e).__name__, str(e).split("\n")[0][:300])
        results.append({"method": label, "outcome": outcome, "requests": recorder.current})
        recorder.current = None

    # load_markets twice: with ccxt's defaults, then with bot.py's call-saving options.
    defaults = build(ex_id, port, saving=False)
    run("load_markets (ccxt defaults)", lambda ex, st: ex.load_markets(), defaults, {})
    run("fetch_balance (ccxt defaults)", lambda ex, st: ex.fetch_balance(), defaults, {})
    ex = build(ex_id, port)
    run("load_markets (bot.py options)", lambda ex, st: ex.load_markets(), ex, {})
    # The instance for the futures rows loads its markets unrecorded.
    futures = build(ex_id, port, futures=True)
    futures.load_markets()
    state = {"futures": futures}
    for label, fn in methods(ex_id):
        if label is None:
            continue
        run(label, fn, ex, state)
    return results


def probe_refusals(ex_id, recorder, port):
    """withdraw through the proxy URL answered by each candidate refusal: what ccxt raises."""
    ex = build(ex_id, port)
    ex.load_markets()
    if ex_id == "coinbase":
        ex.load_accounts()  # withdraw looks the account up first; keep the probe to the POST
    code, amount, address, params = WITHDRAW[ex_id]
    out = []
    for label, (status, body) in (("recommended", REFUSALS[ex_id]), ("generic", GENERIC_REFUSAL)):
        recorder.fixed = FixedAnswer(status, body)
        try:
            ex.withdraw(code, amount, address, None, dict(params))
            raised, message = None, ""
        except ccxt.BaseError as e:
            raised, message = type(e).__name__, str(e)
        finally:
            recorder.fixed = None
        out.append({"answer": label, "status": status, "body": body, "ccxt_raises": raised,
                    "message_has_proxy_text": REFUSAL_TEXT in message})
    return out


def refusal_markdown(document):
    out = ["| exchange | answer | HTTP | body | ccxt raises | proxy's text in the message |",
           "|---|---|---|---|---|---|"]
    for ex_id, probes in document["refusals"].items():
        for p in probes:
            out.append("| %s | %s | %d | `%s` | %s | %s |" % (
                ex_id, p["answer"], p["status"], json.dumps(p["body"], separators=(",", ":")).replace("|", "\\|"),
                p["ccxt_raises"], "yes" if p["message_has_proxy_text"] else "no"))
    return "\n".join(out)


# Ids in paths, shown as what they are.
PATH_IDS = (
    (re.compile(r"(/accounts/)[0-9a-f-]{36}"), r"\1{account_id}"),
    (re.compile(r"(/historical/)[0-9a-f-]{36}"), r"\1{order_id}"),
    (re.compile(r"(/positions/)[0-9a-f-]{36}"), r"\1{portfolio_uuid}"),
    (re.compile(r"(/products/)BTC-USD(/)"), r"\1{product_id}\2"),
)


def template_path(path):
    for pattern, repl in PATH_IDS:
        path = pattern.sub(repl, path)
    return path


def _names(pairs_text):
    return [k for k, _ in urllib.parse.parse_qsl(pairs_text, keep_blank_values=True)]


def _body_shape(q):
    ctype = (q["content_type"] or "").split(";")[0]
    if ctype == "application/json":
        try:
            body = json.loads(q["body"])
        except ValueError:
            return "JSON body (unparsed)"
        if isinstance(body, list):
            keys = sorted({k for item in body if isinstance(item, dict) for k in item})
            return "JSON array body [{%s}]" % ", ".join(keys)
        if isinstance(body, dict):
            return "JSON body {%s}" % ", ".join(body.keys())
        return "JSON body"
    if ctype == "application/x-www-form-urlencoded":
        return "form body: %s" % ", ".join(_names(q["body"]))
    return "body (%s)" % (ctype or "no Content-Type")


def params_in(q):
    where = []
    if q["query"]:
        where.append("query: %s" % ", ".join(_names(q["query"])))
    elif q["empty_query_mark"]:
        where.append("query: (none, but the URL ends in `?`)")
    if q["body"]:
        where.append(_body_shape(q))
    return "; ".join(where) or "—"


REDACT = {"signature": "<signature>", "timestamp": "<ms>", "nonce": "<nonce>"}
SAMPLED = ("create_order", "cancel_order", "withdraw", "transfer", "set_leverage", "fetch_tickers")


def _redact_pairs(text):
    pairs = []
    for pair in text.split("&") if text else []:
        k, sep, v = pair.partition("=")
        pairs.append(k + sep + (REDACT[k] if k in REDACT else v))
    return "&".join(pairs)


def _redact_json(text):
    try:
        body = json.loads(text)
    except ValueError:
        return text
    if isinstance(body, dict):
        body = {k: (REDACT[k] if k in REDACT else v) for k, v in body.items()}
    return json.dumps(body, separators=(",", ":"))


def sample(q):
    line = "%s %s%s%s" % (q["method"], q["host"], q["path"], "?" + _redact_pairs(q["query"]) if q["query"] else "")
    if q["body"]:
        ctype = (q["content_type"] or "").split(";")[0]
        line += "  body: " + (_redact_json(q["body"]) if ctype == "application/json" else _redact_pairs(q["body"]))
    return line


def markdown(ex_id, results):
    out = ["### %s" % ex_id, "",
           "| ccxt method | HTTP | host | path | params | signed | notes |",
           "|---|---|---|---|---|---|---|"]
    for r in results:
        outcome = r["outcome"].replace("|", "\\|")
        if not r["requests"]:
            out.append("| %s | — | — | — | — | — | no request; %s |" % (
                r["method"], "returned" if outcome == "ok" else "ccxt raised " + outcome[:200]))
            continue
        for i, q in enumerate(r["requests"]):
            notes = []
            if q["mock_answer"] == "empty":
                notes.append("mock: empty answer")
            if q["verdict"] != "ok":
                notes.append("mock rejected: %s" % q["reason"])
            if i == len(r["requests"]) - 1 and r["outcome"] != "ok":
                notes.append("then ccxt raised %s" % outcome[:200])
            out.append("| %s | %s | %s | `%s` | %s | %s | %s |" % (
                r["method"] if i == 0 else "〃", q["method"], q["host"], template_path(q["path"]),
                params_in(q).replace("|", "\\|"), "yes" if q["signed"] else "no", "; ".join(notes)))
    seen_auth = sorted({h for r in results for q in r["requests"] if q["signed"] for h in q["auth_headers"]})
    raw = next((q for r in results for q in r["requests"] if q["target_form"] == "raw"), None)
    enc = next((q for r in results for q in r["requests"] if q["target_form"] != "raw"), None)
    out.append("")
    out.append("Authentication headers on signed requests: %s." % (", ".join("`%s`" % h for h in seen_auth) or "none"))
    signed = next((q for r in results for q in r["requests"] if q["signed"]), None)
    if signed:
        out.append("Their values on `%s %s`: `%s`." % (signed["method"], signed["path"],
                                                     json.dumps(signed["auth_sample"], separators=(",", ":"))))
    if raw:
        out.append("Request-target without a query (raw): `%s`." % raw["proxy_target"])
    if enc:
        out.append("Request-target with a query (percent-encoded): `%s`." % enc["proxy_target"][:300])
    samples = [(r["method"], q) for r in results if r["method"].startswith(SAMPLED) for q in r["requests"]]
    if samples:
        out.append("")
        out.append("Samples (dummy values; signatures, timestamps, nonces elided):")
        out.append("")
        out.append("```")
        for label, q in samples:
            out.append("%-38s %s" % (label, sample(q)))
        out.append("```")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description="Record what ccxt sends through proxyUrl.")
    parser.add_argument("--exchange", action="append", choices=sorted(VENUES))
    parser.add_argument("--json", metavar="OUT")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    exchanges = args.exchange or ["binance", "binanceusdm", "okx", "bybit", "kraken", "coinbase"]

    venues_by_host = {}
    for ex_id in exchanges:
        creds = {"apiKey": TOKEN, "secret": dummy_secret(ex_id)}
        if ex_id == "okx":
            creds["password"] = "dummy"
        DUMMIES[ex_id] = creds
    recorder = Recorder(venues_by_host)
    server = MockServer(recorder.venue_for, RequestLog(None), tls_context=None, observer=recorder.observe)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    document = {"ccxt": ccxt.__version__, "exchanges": {}, "refusals": {}}
    for ex_id in exchanges:
        # A fresh venue per exchange (binance and binanceusdm share hosts).
        venue = VENUES[ex_id](ex_id, DUMMIES[ex_id])
        venue.answer_unknown = True
        venues_by_host.clear()
        for host in venue.HOSTS:
            venues_by_host[host] = venue
        try:
            document["exchanges"][ex_id] = record_exchange(ex_id, recorder, server.port)
            document["refusals"][ex_id] = probe_refusals(ex_id, recorder, server.port)
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            return 1
    server.shutdown()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(document, f, indent=1)
    if args.markdown or not args.json:
        print("Recorded with ccxt %s.\n" % ccxt.__version__)
        for ex_id, results in document["exchanges"].items():
            print(markdown(ex_id, results))
            print()
        print("### Refusals\n")
        print(refusal_markdown(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
