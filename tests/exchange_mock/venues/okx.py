"""Mock OKX (API v5, www.okx.com).

Authentication, as OKX documents it:
  https://www.okx.com/docs-v5/en/#overview-rest-authentication-making-requests
  https://www.okx.com/docs-v5/en/#overview-rest-authentication-signature
  errors: https://www.okx.com/docs-v5/en/#error-code-rest-api-public (50101-50113, HTTP 401)
"""

import base64
import datetime
import hashlib
import hmac
import json

from venues.base import Venue

INST_ID = "BTC-USDT"

SPOT_INSTRUMENT = {
    "instType": "SPOT", "instId": INST_ID, "uly": "", "instFamily": "", "baseCcy": "BTC",
    "quoteCcy": "USDT", "settleCcy": "", "ctVal": "", "ctMult": "", "ctValCcy": "", "optType": "",
    "stk": "", "listTime": "1606468572000", "expTime": "", "lever": "10", "tickSz": "0.1",
    "lotSz": "0.00000001", "minSz": "0.00001", "ctType": "", "alias": "", "state": "live",
    "maxLmtSz": "9999999999", "maxMktSz": "1000000", "ruleType": "normal",
}

# A linear perpetual, listed only when asked for instType=SWAP (record.py's futures rows).
SWAP_INSTRUMENT = {
    "instType": "SWAP", "instId": "BTC-USDT-SWAP", "uly": "BTC-USDT", "instFamily": "BTC-USDT",
    "baseCcy": "", "quoteCcy": "", "settleCcy": "USDT", "ctVal": "0.01", "ctMult": "1",
    "ctValCcy": "BTC", "optType": "", "stk": "", "listTime": "1611916828000", "expTime": "",
    "lever": "100", "tickSz": "0.1", "lotSz": "0.01", "minSz": "0.01", "ctType": "linear",
    "alias": "", "state": "live", "maxLmtSz": "100000", "maxMktSz": "12000", "ruleType": "normal",
}

# "Request timestamp expired" beyond 30 seconds from server time.
TIMESTAMP_TOLERANCE_MS = 30_000


def _error(code, msg):
    return {"code": code, "msg": msg, "data": []}


def _ok(data):
    return {"code": "0", "msg": "", "data": data}


def _parse_iso_ms(text):
    """OK-ACCESS-TIMESTAMP is ISO 8601 with milliseconds in UTC, e.g. 2020-12-08T09:08:57.715Z."""
    if not text.endswith("Z"):
        raise ValueError("not UTC")
    dt = datetime.datetime.strptime(text[:-1], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp() * 1000)


class Okx(Venue):
    HOSTS = ("www.okx.com",)

    ROUTES = (
        ("GET", r"/api/v5/public/instruments", False, "instruments"),
        ("GET", r"/api/v5/account/balance", True, "balance"),
        ("POST", r"/api/v5/trade/batch-orders", True, "batch_orders"),
        ("POST", r"/api/v5/trade/order", True, "place_order"),
        ("GET", r"/api/v5/trade/order", True, "get_order"),
        ("POST", r"/api/v5/trade/cancel-order", True, "cancel_order"),
        ("POST", r"/api/v5/trade/cancel-batch-orders", True, "cancel_batch_orders"),
        ("GET", r"/api/v5/trade/orders-pending", True, "orders_pending"),
        ("POST", r"/api/v5/asset/withdrawal", True, "withdrawal"),
    )

    # -- authentication -----------------------------------------------------------------
    def authenticate(self, request):
        # Making requests: all private REST requests carry OK-ACCESS-KEY, OK-ACCESS-SIGN,
        # OK-ACCESS-TIMESTAMP and OK-ACCESS-PASSPHRASE (the passphrase chosen with the key).
        key = request.header("OK-ACCESS-KEY")
        sign = request.header("OK-ACCESS-SIGN")
        ts = request.header("OK-ACCESS-TIMESTAMP")
        passphrase = request.header("OK-ACCESS-PASSPHRASE")
        if not key:
            return self.reject(401, _error("50103", "Request header OK-ACCESS-KEY cannot be empty."), "missing OK-ACCESS-KEY")
        if not passphrase:
            return self.reject(401, _error("50104", "Request header OK-ACCESS-PASSPHRASE cannot be empty."), "missing OK-ACCESS-PASSPHRASE")
        if not sign:
            return self.reject(401, _error("50106", "Request header OK-ACCESS-SIGN cannot be empty."), "missing OK-ACCESS-SIGN")
        if not ts:
            return self.reject(401, _error("50107", "Request header OK-ACCESS-TIMESTAMP cannot be empty."), "missing OK-ACCESS-TIMESTAMP")
        if not hmac.compare_digest(key.encode(), self.cred("apiKey").encode()):
            return self.reject(401, _error("50111", "Invalid OK-ACCESS-KEY."), "wrong API key")
        if not hmac.compare_digest(passphrase.encode(), self.cred("password").encode()):
            return self.reject(401, _error("50105", "Invalid OK-ACCESS-PASSPHRASE."), "wrong passphrase")
        try:
            ts_ms = _parse_iso_ms(ts)
        except ValueError:
            return self.reject(401, _error("50112", "Invalid OK-ACCESS-TIMESTAMP."), "timestamp not ISO 8601 UTC with ms")
        # Signature: OK-ACCESS-SIGN = Base64(HMAC-SHA256(secret, timestamp + method +
        # requestPath + body)); requestPath includes the query string ("?a=b") for GET; the
        # method is upper case; body is the JSON body as sent ("" for GET).
        request_path = request.path + ("?" + request.query if request.query else "")
        prehash = ts.encode() + request.method.upper().encode() + request_path.encode() + request.body
        expected = base64.b64encode(hmac.new(self.cred("secret").encode(), prehash, hashlib.sha256).digest())
        if not hmac.compare_digest(sign.encode(), expected):
            return self.reject(401, _error("50113", "Invalid Sign"), "bad signature")
        # "The request will expire 30 seconds after the timestamp" (50102).
        if abs(self.now_ms() - ts_ms) > TIMESTAMP_TOLERANCE_MS:
            return self.reject(401, _error("50102", "Timestamp request expired"), "timestamp more than 30 s off")
        return None

    def not_found(self, request):
        return 404, {"msg": "", "code": "404"}

    def looks_private(self, request):
        return request.header("OK-ACCESS-SIGN") is not None

    def empty_success(self, request):
        return 200, _ok([])

    def is_error(self, status, body):
        return status >= 400 or (isinstance(body, dict) and body.get("code") != "0")

    def error_reason(self, body):
        return "%s %s" % (body.get("code"), body.get("msg")) if isinstance(body, dict) else "error"

    # -- helpers ------------------------------------------------------------------------
    @staticmethod
    def _json_body(request):
        try:
            return json.loads(request.body or b"{}")
        except ValueError:
            return None

    @staticmethod
    def _order_json(order):
        state = {"open": "live", "closed": "filled", "canceled": "canceled"}[order.status]
        return {
            "instType": "SPOT", "instId": order.symbol, "ordId": order.id, "clOrdId": order.client_id or "",
            "tag": "", "px": order.price or "", "sz": order.amount, "ordType": order.kind, "side": order.side,
            "posSide": "net", "tdMode": "cash", "accFillSz": order.filled, "fillPx": "", "avgPx": "",
            "state": state, "fee": "0", "feeCcy": "BTC", "rebate": "0", "rebateCcy": "USDT",
            "cTime": str(order.created_ms), "uTime": str(order.created_ms),
        }

    def _place(self, item):
        if not isinstance(item, dict) or item.get("instId") != INST_ID:
            return {"clOrdId": "", "ordId": "", "tag": "", "sCode": "51001", "sMsg": "Instrument ID does not exist"}
        kind = item.get("ordType")
        side = item.get("side")
        if kind not in ("limit", "market") or side not in ("buy", "sell") or not item.get("sz") \
                or (kind == "limit" and not item.get("px")):
            return {"clOrdId": "", "ordId": "", "tag": "", "sCode": "51000", "sMsg": "Parameter error"}
        order = self.orders.create(INST_ID, side, kind, item["sz"], item.get("px"), item.get("clOrdId") or None)
        return {"clOrdId": item.get("clOrdId", ""), "ordId": order.id, "tag": item.get("tag", ""),
                "sCode": "0", "sMsg": "Order placed"}

    def _find(self, params):
        if params.get("ordId"):
            return self.orders.get(params["ordId"])
        if params.get("clOrdId"):
            return self.orders.find_client_id(params["clOrdId"])
        return None

    def _cancel(self, item):
        order = self._find(item) if isinstance(item, dict) else None
        if order is None or self.orders.cancel(order.id) is None:
            return {"clOrdId": "", "ordId": (item or {}).get("ordId", ""), "sCode": "51400",
                    "sMsg": "Cancellation failed as the order has been filled, canceled or does not exist"}
        return {"clOrdId": order.client_id or "", "ordId": order.id, "sCode": "0", "sMsg": ""}

    @staticmethod
    def _batch(results):
        failed = [r for r in results if r["sCode"] != "0"]
        if not failed:
            return 200, _ok(results)
        code = "1" if len(failed) == len(results) else "2"
        msg = "All operations failed" if code == "1" else "Batch operation partially succeeded"
        return 200, {"code": code, "msg": msg, "data": results}

    # -- handlers -----------------------------------------------------------------------
    def instruments(self, request):
        inst_type = request.query_params().get("instType")
        return 200, _ok({"SPOT": [SPOT_INSTRUMENT], "SWAP": [SWAP_INSTRUMENT]}.get(inst_type, []))

    def balance(self, request):
        now = str(self.now_ms())
        details = [
            {"ccy": ccy, "eq": amount, "cashBal": amount, "availBal": amount, "availEq": amount,
             "frozenBal": "0", "ordFrozen": "0", "uTime": now}
            for ccy, amount in (("BTC", "1"), ("USDT", "100000"))
        ]
        return 200, _ok([{"totalEq": "100000", "uTime": now, "details": details}])

    def batch_orders(self, request):
        items = self._json_body(request)
        if not isinstance(items, list) or not items:
            return 200, _error("50014", "Parameter body can not be empty.")
        return self._batch([self._place(item) for item in items])

    def place_order(self, request):
        return self._batch([self._place(self._json_body(request))])

    def get_order(self, request):
        order = self._find(request.query_params())
        if order is None:
            return 200, _error("51603", "Order does not exist")
        return 200, _ok([self._order_json(order)])

    def cancel_order(self, request):
        return self._batch([self._cancel(self._json_body(request))])

    def cancel_batch_orders(self, request):
        items = self._json_body(request)
        if not isinstance(items, list) or not items:
            return 200, _error("50014", "Parameter body can not be empty.")
        return self._batch([self._cancel(item) for item in items])

    def orders_pending(self, request):
        return 200, _ok([self._order_json(o) for o in self.orders.open_orders()])

    def withdrawal(self, request):
        body = self._json_body(request)
        if not isinstance(body, dict) or not body.get("ccy") or not body.get("amt") or not body.get("toAddr"):
            return 200, _error("51000", "Parameter error")
        wid = self.withdrawals.add(body["ccy"], body["amt"], body["toAddr"], body.get("chain"))
        return 200, _ok([{"amt": body["amt"], "wdId": wid, "ccy": body["ccy"], "clientId": "", "chain": body.get("chain", "")}])
