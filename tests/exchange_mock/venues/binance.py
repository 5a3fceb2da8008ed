"""Mock Binance: spot (api.binance.com /api, /sapi) and USD-M futures (fapi.binance.com /fapi).

One class serves both: mock.py starts it once as "binance" (spot credentials) and once as
"binanceusdm" (futures credentials); either answers every path, because ccxt's binanceusdm
sends its wallet calls (withdraw, deposit address, ...) to api.binance.com/sapi too.

Authentication, as Binance documents it:
  spot:  https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security
         (SIGNED endpoint security, timing security)
  USD-M: https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info
         (endpoint security type, SIGNED endpoint security, timing security)
  errors: https://developers.binance.com/docs/binance-spot-api-docs/errors
"""

import hashlib
import hmac
import urllib.parse

from venues.base import Venue

SYMBOL = "BTCUSDT"

SPOT_MARKET = {
    "symbol": SYMBOL, "status": "TRADING", "baseAsset": "BTC", "baseAssetPrecision": 8,
    "quoteAsset": "USDT", "quotePrecision": 8, "quoteAssetPrecision": 8,
    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
    "icebergAllowed": True, "ocoAllowed": True, "isSpotTradingAllowed": True,
    "isMarginTradingAllowed": False, "permissions": [], "permissionSets": [["SPOT"]],
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000.00", "tickSize": "0.01"},
        {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000.00000", "stepSize": "0.00001"},
        {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000", "maxQty": "100.00000", "stepSize": "0.00000"},
        {"filterType": "NOTIONAL", "minNotional": "5.00", "applyMinToMarket": True,
         "maxNotional": "9000000.00", "applyMaxToMarket": False, "avgPriceMins": 5},
    ],
}

FUTURES_MARKET = {
    "symbol": SYMBOL, "pair": SYMBOL, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
    "onboardDate": 1569398400000, "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT",
    "marginAsset": "USDT", "pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8,
    "quotePrecision": 8, "underlyingType": "COIN", "triggerProtect": "0.0500",
    "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
    "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "556.80", "maxPrice": "4529764", "tickSize": "0.10"},
        {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
        {"filterType": "MARKET_LOT_SIZE", "minQty": "0.001", "maxQty": "120", "stepSize": "0.001"},
        {"filterType": "MAX_NUM_ORDERS", "limit": 200},
        {"filterType": "MIN_NOTIONAL", "notional": "5"},
        {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500",
         "multiplierDecimal": "4"},
    ],
}

# Binance's documented limit on recvWindow (ms) and its default when absent.
RECV_WINDOW_DEFAULT = 5000
RECV_WINDOW_MAX = 60000


def _error(code, msg):
    return {"code": code, "msg": msg}


def _split_signature(raw):
    """Splits "a=1&b=2&signature=ff" into ("a=1&b=2", "ff"); (raw, None) when the part does
    not end with a signature parameter."""
    if raw.startswith("signature="):
        return "", raw[len("signature="):]
    head, sep, sig = raw.rpartition("&signature=")
    if sep and "&" not in sig:
        return head, sig
    return raw, None


def _params(text):
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


class Binance(Venue):
    HOSTS = ("api.binance.com", "fapi.binance.com", "dapi.binance.com", "eapi.binance.com", "papi.binance.com")

    ROUTES = (
        ("GET", r"/api/v3/exchangeInfo", False, "exchange_info"),
        ("GET", r"/api/v3/account", True, "spot_account"),
        ("POST", r"/api/v3/order", True, "create_order"),
        ("GET", r"/api/v3/order", True, "get_order"),
        ("DELETE", r"/api/v3/order", True, "cancel_order"),
        ("GET", r"/api/v3/openOrders", True, "open_orders"),
        ("POST", r"/sapi/v1/capital/withdraw/apply", True, "withdraw"),
        ("GET", r"/fapi/v1/exchangeInfo", False, "futures_exchange_info"),
        ("GET", r"/fapi/v3/account", True, "futures_account"),
        ("GET", r"/fapi/v2/account", True, "futures_account"),
        ("GET", r"/fapi/v3/balance", True, "futures_balance"),
        ("GET", r"/fapi/v2/balance", True, "futures_balance"),
        ("POST", r"/fapi/v1/order", True, "create_order"),
        ("GET", r"/fapi/v1/order", True, "get_order"),
        ("DELETE", r"/fapi/v1/order", True, "cancel_order"),
        ("GET", r"/fapi/v1/openOrders", True, "open_orders"),
    )

    # -- authentication -----------------------------------------------------------------
    def authenticate(self, request):
        # The API key goes in the X-MBX-APIKEY header (endpoint security type).
        key = request.header("X-MBX-APIKEY")
        if key is None:
            return self.reject(401, _error(-2014, "API-key format invalid."), "missing X-MBX-APIKEY")
        if not hmac.compare_digest(key.encode(), self.cred("apiKey").encode()):
            return self.reject(401, _error(-2015, "Invalid API-key, IP, or permissions for action."),
                               "wrong API key")
        # SIGNED endpoint security: `signature` (in the query string or the body) is the hex
        # HMAC-SHA256, under the secret, of totalParams = the query string concatenated with
        # the request body (no separator), the signature parameter itself excluded; the
        # signature is not case sensitive. ccxt puts it last; so do we require it.
        query = request.query
        body = request.body.decode("utf-8", "replace")
        q_rest, q_sig = _split_signature(query)
        b_rest, b_sig = _split_signature(body)
        if (q_sig is None) == (b_sig is None):
            return self.reject(400, _error(-1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."),
                               "signature missing (or in both query and body)")
        signed = (q_rest + body) if q_sig is not None else (query + b_rest)
        given = (q_sig if q_sig is not None else b_sig).lower()
        expected = hmac.new(self.cred("secret").encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return self.reject(400, _error(-1022, "Signature for this request is not valid."), "bad signature")
        # Timing security: timestamp (ms) is required; recvWindow defaults to 5000 and may
        # not exceed 60000; the request is accepted iff
        # timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow.
        params = _params(q_rest if q_sig is not None else query)
        params.update(_params(b_rest if b_sig is not None else body))
        try:
            timestamp = int(params["timestamp"])
        except (KeyError, ValueError):
            return self.reject(400, _error(-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."),
                               "timestamp missing")
        try:
            recv_window = int(params.get("recvWindow", RECV_WINDOW_DEFAULT))
        except ValueError:
            return self.reject(400, _error(-1100, "Illegal characters found in parameter 'recvWindow'."),
                               "recvWindow malformed")
        if recv_window > RECV_WINDOW_MAX:
            return self.reject(400, _error(-1131, "recvWindow must be less than 60000"), "recvWindow too large")
        server_time = self.now_ms()
        if not (timestamp < server_time + 1000 and server_time - timestamp <= recv_window):
            return self.reject(400, _error(-1021, "Timestamp for this request is outside of the recvWindow."),
                               "timestamp outside recvWindow")
        return None

    def not_found(self, request):
        return 404, _error(-5000, "Path %s, Method %s is invalid" % (request.path, request.method))

    def looks_private(self, request):
        return "signature=" in request.query or b"signature=" in request.body

    def empty_success(self, request):
        return 200, ([] if request.method == "GET" else {})

    def loggable_query(self, request):
        rest, sig = _split_signature(request.query)
        return request.query if sig is None else (rest + "&signature=<redacted>" if rest else "signature=<redacted>")

    def error_reason(self, body):
        return body.get("msg", "error") if isinstance(body, dict) else "error"

    # -- helpers ------------------------------------------------------------------------
    @staticmethod
    def _all_params(request):
        params = _params(request.query)
        params.update(_params(request.body.decode("utf-8", "replace")))
        params.pop("signature", None)
        return params

    def _order_json(self, order, futures):
        status = {"open": "NEW", "closed": "FILLED", "canceled": "CANCELED"}[order.status]
        price = order.price or "0"
        out = {
            "symbol": order.symbol, "orderId": int(order.id), "clientOrderId": order.client_id or ("mock%s" % order.id),
            "price": price, "origQty": order.amount, "executedQty": order.filled,
            "status": status, "timeInForce": "GTC", "type": order.kind.upper(), "side": order.side.upper(),
        }
        if futures:
            out.update({"avgPrice": "0", "cumQuote": "0", "reduceOnly": False, "positionSide": "BOTH",
                        "closePosition": False, "stopPrice": "0", "workingType": "CONTRACT_PRICE",
                        "origType": order.kind.upper(), "updateTime": order.created_ms, "time": order.created_ms})
        else:
            out.update({"orderListId": -1, "cummulativeQuoteQty": "0", "time": order.created_ms,
                        "updateTime": order.created_ms, "isWorking": True, "workingTime": order.created_ms})
        return out

    # -- handlers -----------------------------------------------------------------------
    def exchange_info(self, request):
        return 200, {"timezone": "UTC", "serverTime": self.now_ms(), "rateLimits": [],
                     "exchangeFilters": [], "symbols": [SPOT_MARKET]}

    def futures_exchange_info(self, request):
        return 200, {"timezone": "UTC", "serverTime": self.now_ms(), "rateLimits": [],
                     "exchangeFilters": [], "assets": [], "symbols": [FUTURES_MARKET]}

    def spot_account(self, request):
        return 200, {
            "makerCommission": 10, "takerCommission": 10, "canTrade": True, "canWithdraw": True,
            "canDeposit": True, "updateTime": self.now_ms(), "accountType": "SPOT", "permissions": ["SPOT"],
            "balances": [{"asset": "BTC", "free": "1.00000000", "locked": "0.00000000"},
                         {"asset": "USDT", "free": "100000.00000000", "locked": "0.00000000"}],
        }

    def futures_account(self, request):
        asset = {"asset": "USDT", "walletBalance": "100000.00000000", "unrealizedProfit": "0.00000000",
                 "marginBalance": "100000.00000000", "maintMargin": "0.00000000", "initialMargin": "0.00000000",
                 "positionInitialMargin": "0.00000000", "openOrderInitialMargin": "0.00000000",
                 "crossWalletBalance": "100000.00000000", "crossUnPnl": "0.00000000",
                 "availableBalance": "100000.00000000", "maxWithdrawAmount": "100000.00000000",
                 "updateTime": self.now_ms()}
        return 200, {"totalWalletBalance": "100000.00000000", "availableBalance": "100000.00000000",
                     "assets": [asset], "positions": []}

    def futures_balance(self, request):
        return 200, [{"accountAlias": "mock", "asset": "USDT", "balance": "100000.00000000",
                      "crossWalletBalance": "100000.00000000", "crossUnPnl": "0.00000000",
                      "availableBalance": "100000.00000000", "maxWithdrawAmount": "100000.00000000",
                      "marginAvailable": True, "updateTime": self.now_ms()}]

    def create_order(self, request):
        p = self._all_params(request)
        futures = request.path.startswith("/fapi/")
        if p.get("symbol") != SYMBOL:
            return 400, _error(-1121, "Invalid symbol.")
        kind = p.get("type", "").lower()
        side = p.get("side", "").lower()
        if kind not in ("limit", "market") or side not in ("buy", "sell"):
            return 400, _error(-1116, "Invalid orderType.")
        amount = p.get("quantity")
        if amount is None and kind == "market":
            amount = p.get("quoteOrderQty")
        if amount is None or (kind == "limit" and "price" not in p):
            return 400, _error(-1102, "Mandatory parameter was not sent, was empty/null, or malformed.")
        order = self.orders.create(SYMBOL, side, kind, amount, p.get("price"), p.get("newClientOrderId"))
        return 200, self._order_json(order, futures)

    def _lookup(self, p):
        if "orderId" in p:
            return self.orders.get(p["orderId"])
        if "origClientOrderId" in p:
            return self.orders.find_client_id(p["origClientOrderId"])
        return None

    def get_order(self, request):
        p = self._all_params(request)
        order = self._lookup(p)
        if order is None:
            return 400, _error(-2013, "Order does not exist.")
        return 200, self._order_json(order, request.path.startswith("/fapi/"))

    def cancel_order(self, request):
        p = self._all_params(request)
        order = self._lookup(p)
        if order is None or self.orders.cancel(order.id) is None:
            return 400, _error(-2011, "Unknown order sent.")
        return 200, self._order_json(order, request.path.startswith("/fapi/"))

    def open_orders(self, request):
        futures = request.path.startswith("/fapi/")
        return 200, [self._order_json(o, futures) for o in self.orders.open_orders()]

    def withdraw(self, request):
        p = self._all_params(request)
        if not p.get("coin") or not p.get("address") or not p.get("amount"):
            return 400, _error(-1102, "Mandatory parameter was not sent, was empty/null, or malformed.")
        return 200, {"id": self.withdrawals.add(p["coin"], p["amount"], p["address"], p.get("network"))}
