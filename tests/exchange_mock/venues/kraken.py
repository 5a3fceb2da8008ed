"""Mock Kraken spot REST (api.kraken.com /0/public, /0/private).

Authentication, as Kraken documents it:
  https://docs.kraken.com/api/docs/guides/spot-rest-auth
  errors: https://docs.kraken.com/api/docs/guides/spot-errors (EAPI:Invalid key,
  EAPI:Invalid signature, EAPI:Invalid nonce; Kraken answers them with HTTP 200 and an
  "error" array, as it does every API error).
"""

import base64
import binascii
import hashlib
import hmac
import json
import threading
import urllib.parse

from venues.base import Venue

PAIR = "XXBTZUSD"
ALTNAME = "XBTUSD"

ASSET_PAIRS = {
    PAIR: {
        "altname": ALTNAME, "wsname": "XBT/USD", "aclass_base": "currency", "base": "XXBT",
        "aclass_quote": "currency", "quote": "ZUSD", "lot": "unit", "cost_decimals": 5,
        "pair_decimals": 1, "lot_decimals": 8, "lot_multiplier": 1, "leverage_buy": [2, 3, 4, 5],
        "leverage_sell": [2, 3, 4, 5], "fees": [[0, 0.4]], "fees_maker": [[0, 0.25]],
        "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40, "ordermin": "0.0001",
        "costmin": "0.5", "tick_size": "0.1", "status": "online",
    }
}

ASSETS = {
    "XXBT": {"aclass": "currency", "altname": "XBT", "decimals": 10, "display_decimals": 5, "status": "enabled"},
    "ZUSD": {"aclass": "currency", "altname": "USD", "decimals": 4, "display_decimals": 2, "status": "enabled"},
}


def _error(*messages):
    return {"error": list(messages), "result": {}}


def _ok(result):
    return {"error": [], "result": result}


class Kraken(Venue):
    HOSTS = ("api.kraken.com",)

    ROUTES = (
        ("GET", r"/0/public/AssetPairs", False, "asset_pairs"),
        ("GET", r"/0/public/Assets", False, "assets"),
        ("POST", r"/0/private/BalanceEx", True, "balance_ex"),
        ("POST", r"/0/private/Balance", True, "balance"),
        ("POST", r"/0/private/AddOrder", True, "add_order"),
        ("POST", r"/0/private/QueryOrders", True, "query_orders"),
        ("POST", r"/0/private/OpenOrders", True, "open_orders"),
        ("POST", r"/0/private/CancelOrder", True, "cancel_order"),
        ("POST", r"/0/private/Withdraw", True, "withdraw"),
    )

    def __init__(self, name, creds, **kw):
        super().__init__(name, creds, **kw)
        self._nonce_lock = threading.Lock()
        self._last_nonce = None

    # -- authentication -----------------------------------------------------------------
    @staticmethod
    def _body_params(request):
        """POST data as a dict: form-encoded, or JSON for the calls ccxt sends as JSON
        (AddOrderBatch, CancelOrderBatch, trigger orders priced in percent)."""
        ctype = (request.header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                return None
            return body if isinstance(body, dict) else None
        return dict(urllib.parse.parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))

    def authenticate(self, request):
        # The key goes in the API-Key header; API-Sign = base64(HMAC-SHA512(key =
        # base64-decode(secret), message = URI path + SHA-256(nonce + POST data))), the URI
        # path being e.g. "/0/private/AddOrder" and the POST data exactly as sent (it holds
        # the same nonce).
        key = request.header("API-Key")
        sign = request.header("API-Sign")
        if not key or not sign:
            return self.reject(200, _error("EAPI:Invalid key"), "missing API-Key / API-Sign")
        if not hmac.compare_digest(key.encode(), self.cred("apiKey").encode()):
            return self.reject(200, _error("EAPI:Invalid key"), "wrong API key")
        params = self._body_params(request)
        if params is None or "nonce" not in params:
            return self.reject(200, _error("EAPI:Invalid nonce"), "no nonce in the POST data")
        nonce = str(params["nonce"])
        secret = base64.b64decode(self.cred("secret"))
        message = request.path.encode() + hashlib.sha256(nonce.encode() + request.body).digest()
        expected = base64.b64encode(hmac.new(secret, message, hashlib.sha512).digest())
        try:
            given = base64.b64encode(base64.b64decode(sign, validate=True))
        except (binascii.Error, ValueError):
            given = b""
        if not hmac.compare_digest(given, expected):
            return self.reject(200, _error("EAPI:Invalid signature"), "bad signature")
        # Nonce: "must be an always increasing, unsigned 64-bit integer, for each request
        # made with a particular API key"; a nonce not above the last one is refused.
        try:
            value = int(nonce)
        except ValueError:
            return self.reject(200, _error("EAPI:Invalid nonce"), "nonce not an integer")
        with self._nonce_lock:
            if self._last_nonce is not None and value <= self._last_nonce:
                return self.reject(200, _error("EAPI:Invalid nonce"), "nonce not above the last one")
            self._last_nonce = value
        return None

    def not_found(self, request):
        return 404, _error("EGeneral:Unknown method")

    def looks_private(self, request):
        return request.header("API-Sign") is not None

    def empty_success(self, request):
        return 200, _ok({})

    def is_error(self, status, body):
        return status >= 400 or (isinstance(body, dict) and bool(body.get("error")))

    def error_reason(self, body):
        return ",".join(body.get("error", [])) if isinstance(body, dict) else "error"

    # -- helpers ------------------------------------------------------------------------
    @staticmethod
    def _txid(n):
        return "O%05d-MOCKK-%06d" % (n % 100000, n)

    def _order_json(self, order):
        status = {"open": "open", "closed": "closed", "canceled": "canceled"}[order.status]
        price = order.price or "0"
        return {
            "refid": None, "userref": 0, "status": status, "opentm": order.created_ms / 1000.0,
            "starttm": 0, "expiretm": 0,
            "descr": {"pair": ALTNAME, "type": order.side, "ordertype": order.kind, "price": price,
                      "price2": "0", "leverage": "none",
                      "order": "%s %s %s @ %s %s" % (order.side, order.amount, ALTNAME, order.kind, price),
                      "close": ""},
            "vol": order.amount, "vol_exec": order.filled, "cost": "0.00000", "fee": "0.00000",
            "price": "0.00000", "stopprice": "0", "limitprice": "0", "misc": "", "oflags": "fciq",
        }

    # -- handlers -----------------------------------------------------------------------
    def asset_pairs(self, request):
        return 200, _ok(ASSET_PAIRS)

    def assets(self, request):
        return 200, _ok(ASSETS)

    def balance_ex(self, request):
        return 200, _ok({"XXBT": {"balance": "1.0000000000", "hold_trade": "0.0000000000"},
                         "ZUSD": {"balance": "100000.0000", "hold_trade": "0.0000"}})

    def balance(self, request):
        return 200, _ok({"XXBT": "1.0000000000", "ZUSD": "100000.0000"})

    def add_order(self, request):
        p = self._body_params(request) or {}
        if p.get("pair") not in (PAIR, ALTNAME):
            return 200, _error("EQuery:Unknown asset pair")
        kind, side = p.get("ordertype"), p.get("type")
        if kind not in ("limit", "market") or side not in ("buy", "sell") or not p.get("volume") \
                or (kind == "limit" and not p.get("price")):
            return 200, _error("EGeneral:Invalid arguments")
        order = self.orders.create(PAIR, side, kind, str(p["volume"]), p.get("price"),
                                   p.get("cl_ord_id"), id_format=self._txid)
        return 200, _ok({"descr": {"order": self._order_json(order)["descr"]["order"]}, "txid": [order.id]})

    def query_orders(self, request):
        p = self._body_params(request) or {}
        found = {}
        for txid in str(p.get("txid", "")).split(","):
            order = self.orders.get(txid)
            if order is not None:
                found[txid] = self._order_json(order)
        if not found:
            return 200, _error("EOrder:Invalid order")
        return 200, _ok(found)

    def open_orders(self, request):
        return 200, _ok({"open": {o.id: self._order_json(o) for o in self.orders.open_orders()}})

    def cancel_order(self, request):
        p = self._body_params(request) or {}
        if self.orders.cancel(str(p.get("txid", ""))) is None:
            return 200, _error("EOrder:Unknown order")
        return 200, _ok({"count": 1})

    def withdraw(self, request):
        p = self._body_params(request) or {}
        if not p.get("asset") or not p.get("key") or not p.get("amount"):
            return 200, _error("EGeneral:Invalid arguments")
        return 200, _ok({"refid": self.withdrawals.add(p["asset"], p["amount"], p.get("address") or p["key"])})
