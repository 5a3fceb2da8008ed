"""Mock Bybit (API v5, api.bybit.com), a unified trading account.

Authentication, as Bybit documents it:
  https://bybit-exchange.github.io/docs/v5/guide#authentication
  errors: https://bybit-exchange.github.io/docs/v5/error (10002, 10003, 10004; HTTP 401)
"""

import hashlib
import hmac
import json

from venues.base import Venue

SYMBOL = "BTCUSDT"

SPOT_INSTRUMENT = {
    "symbol": SYMBOL, "baseCoin": "BTC", "quoteCoin": "USDT", "innovation": "0", "status": "Trading",
    "marginTrading": "both", "stTag": "0",
    "lotSizeFilter": {"basePrecision": "0.000001", "quotePrecision": "0.00000001",
                      "minOrderQty": "0.000048", "maxOrderQty": "71.73956243",
                      "minOrderAmt": "1", "maxOrderAmt": "2000000"},
    "priceFilter": {"tickSize": "0.01"},
    "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
}

# A linear perpetual, listed only when asked for category=linear (record.py's futures rows).
LINEAR_INSTRUMENT = {
    "symbol": SYMBOL, "contractType": "LinearPerpetual", "status": "Trading", "baseCoin": "BTC",
    "quoteCoin": "USDT", "launchTime": "1585526400000", "deliveryTime": "0", "deliveryFeeRate": "",
    "priceScale": "2", "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
    "priceFilter": {"minPrice": "0.10", "maxPrice": "1999999.80", "tickSize": "0.10"},
    "lotSizeFilter": {"maxOrderQty": "1190.000", "minOrderQty": "0.001", "qtyStep": "0.001",
                      "postOnlyMaxOrderQty": "1190.000", "maxMktOrderQty": "119.000", "minNotionalValue": "5"},
    "unifiedMarginTrade": True, "fundingInterval": 480, "settleCoin": "USDT", "copyTrading": "both",
    "upperFundingRate": "0.00375", "lowerFundingRate": "-0.00375",
}

RECV_WINDOW_DEFAULT = 5000


def _envelope(ret_code, ret_msg, result, now_ms):
    return {"retCode": ret_code, "retMsg": ret_msg, "result": result, "retExtInfo": {}, "time": now_ms}


class Bybit(Venue):
    HOSTS = ("api.bybit.com",)

    ROUTES = (
        ("GET", r"/v5/market/instruments-info", False, "instruments"),
        ("GET", r"/v5/user/query-api", True, "query_api"),
        ("GET", r"/v5/account/info", True, "account_info"),
        ("GET", r"/v5/account/wallet-balance", True, "wallet_balance"),
        ("POST", r"/v5/order/create", True, "create_order"),
        ("GET", r"/v5/order/realtime", True, "realtime"),
        ("POST", r"/v5/order/cancel", True, "cancel_order"),
        ("POST", r"/v5/asset/withdraw/create", True, "withdraw"),
    )

    def ok(self, result):
        return 200, _envelope(0, "OK", result, self.now_ms())

    def fail(self, code, msg, status=200):
        return status, _envelope(code, msg, {}, self.now_ms())

    # -- authentication -----------------------------------------------------------------
    def authenticate(self, request):
        # Authentication: X-BAPI-API-KEY, X-BAPI-TIMESTAMP (ms), X-BAPI-RECV-WINDOW (default
        # 5000) and X-BAPI-SIGN = hex HMAC-SHA256(secret, timestamp + api_key + recv_window +
        # (queryString for GET | jsonBodyString for POST)), the query or body exactly as sent.
        key = request.header("X-BAPI-API-KEY")
        ts = request.header("X-BAPI-TIMESTAMP")
        sign = request.header("X-BAPI-SIGN")
        recv_window = request.header("X-BAPI-RECV-WINDOW")
        now = self.now_ms()
        if not key or not ts or not sign:
            return self.reject(401, _envelope(10003, "API key is invalid.", {}, now),
                               "missing X-BAPI-API-KEY / -TIMESTAMP / -SIGN")
        if not hmac.compare_digest(key.encode(), self.cred("apiKey").encode()):
            return self.reject(401, _envelope(10003, "API key is invalid.", {}, now), "wrong API key")
        payload = request.query.encode() if request.method == "GET" else request.body
        prehash = ts.encode() + key.encode() + (recv_window or "").encode() + payload
        expected = hmac.new(self.cred("secret").encode(), prehash, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sign.lower().encode(), expected.encode()):
            return self.reject(401, _envelope(10004, "Error sign, please check your signature generation algorithm.", {}, now),
                               "bad signature")
        # Timing: the request is accepted iff
        # server_time - recv_window <= timestamp < server_time + 1000.
        try:
            ts_ms = int(ts)
            window = int(recv_window) if recv_window else RECV_WINDOW_DEFAULT
        except ValueError:
            return self.reject(401, _envelope(10002, "invalid request, please check your server timestamp or recv_window param", {}, now),
                               "timestamp or recv window not an integer")
        if not (now - window <= ts_ms < now + 1000):
            return self.reject(401, _envelope(10002, "invalid request, please check your server timestamp or recv_window param", {}, now),
                               "timestamp outside recv window")
        return None

    def not_found(self, request):
        return 404, _envelope(10001, "Route not found", {}, self.now_ms())

    def looks_private(self, request):
        return request.header("X-BAPI-SIGN") is not None

    def empty_success(self, request):
        return self.ok({"list": [], "nextPageCursor": "", "category": request.query_params().get("category", "")})

    def is_error(self, status, body):
        return status >= 400 or (isinstance(body, dict) and body.get("retCode") != 0)

    def error_reason(self, body):
        return "%s %s" % (body.get("retCode"), body.get("retMsg")) if isinstance(body, dict) else "error"

    # -- helpers ------------------------------------------------------------------------
    @staticmethod
    def _json_body(request):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    @staticmethod
    def _order_json(order):
        status = {"open": "New", "closed": "Filled", "canceled": "Cancelled"}[order.status]
        leaves = order.amount if order.status == "open" else "0"
        return {
            "orderId": order.id, "orderLinkId": order.client_id or "", "symbol": order.symbol,
            "price": order.price or "0", "qty": order.amount, "side": order.side.capitalize(),
            "orderStatus": status, "orderType": order.kind.capitalize(), "timeInForce": "GTC",
            "cumExecQty": order.filled, "cumExecValue": "0", "cumExecFee": "0", "avgPrice": "",
            "leavesQty": leaves, "leavesValue": "0", "isLeverage": "0", "positionIdx": 0,
            "reduceOnly": False, "createdTime": str(order.created_ms), "updatedTime": str(order.created_ms),
        }

    def _find(self, params):
        if params.get("orderId"):
            return self.orders.get(params["orderId"])
        if params.get("orderLinkId"):
            return self.orders.find_client_id(params["orderLinkId"])
        return None

    # -- handlers -----------------------------------------------------------------------
    def instruments(self, request):
        category = request.query_params().get("category")
        params = request.query_params()
        items = {"spot": [SPOT_INSTRUMENT], "linear": [LINEAR_INSTRUMENT] if "status" not in params else []}.get(category, [])
        return self.ok({"category": category or "", "list": items, "nextPageCursor": ""})

    def query_api(self, request):
        # Bybit returns the key's own record (with "secret": "") – the key, not the secret.
        return self.ok({"id": "1", "note": "mock", "apiKey": self.cred("apiKey"), "readOnly": 0, "secret": "",
                        "permissions": {"Spot": ["SpotTrade"], "Wallet": ["AccountTransfer", "Withdraw"]},
                        "ips": ["*"], "type": 1, "unified": 0, "uta": 1, "userID": 1, "isMaster": True})

    def account_info(self, request):
        return self.ok({"marginMode": "REGULAR_MARGIN", "updatedTime": str(self.now_ms()),
                        "unifiedMarginStatus": 6, "dcpStatus": "OFF", "timeWindow": 10, "smpGroup": 0,
                        "isMasterTrader": False, "spotHedgingStatus": "OFF"})

    def wallet_balance(self, request):
        coins = [
            {"coin": coin, "equity": amount, "walletBalance": amount, "locked": "0",
             "availableToWithdraw": amount, "usdValue": amount, "borrowAmount": "0",
             "totalOrderIM": "0", "totalPositionIM": "0", "unrealisedPnl": "0", "cumRealisedPnl": "0"}
            for coin, amount in (("BTC", "1"), ("USDT", "100000"))
        ]
        return self.ok({"list": [{"accountType": "UNIFIED", "totalEquity": "100000", "totalWalletBalance": "100000",
                                  "totalAvailableBalance": "100000", "coin": coins}]})

    def create_order(self, request):
        body = self._json_body(request)
        if body is None or body.get("category") != "spot" or body.get("symbol") != SYMBOL:
            return self.fail(10001, "params error: symbol invalid")
        kind = str(body.get("orderType", "")).lower()
        side = str(body.get("side", "")).lower()
        if kind not in ("limit", "market") or side not in ("buy", "sell") or not body.get("qty") \
                or (kind == "limit" and not body.get("price")):
            return self.fail(10001, "params error")
        order = self.orders.create(SYMBOL, side, kind, str(body["qty"]), body.get("price"), body.get("orderLinkId"))
        return self.ok({"orderId": order.id, "orderLinkId": order.client_id or ""})

    def realtime(self, request):
        params = request.query_params()
        order = self._find(params)
        if order is not None:
            items = [order]
        elif params.get("orderId") or params.get("orderLinkId"):
            items = []
        else:
            items = self.orders.open_orders()
        return self.ok({"category": params.get("category", "spot"), "list": [self._order_json(o) for o in items],
                        "nextPageCursor": ""})

    def cancel_order(self, request):
        body = self._json_body(request) or {}
        order = self._find(body)
        if order is None or self.orders.cancel(order.id) is None:
            return self.fail(170213, "Order does not exist.")
        return self.ok({"orderId": order.id, "orderLinkId": order.client_id or ""})

    def withdraw(self, request):
        body = self._json_body(request) or {}
        if not body.get("coin") or not body.get("amount") or not body.get("address"):
            return self.fail(10001, "params error")
        return self.ok({"id": self.withdrawals.add(body["coin"], body["amount"], body["address"], body.get("chain"))})
