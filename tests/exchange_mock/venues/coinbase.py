"""Mock Coinbase: Advanced Trade (api.coinbase.com /api/v3/brokerage) and the Coinbase App
v2 API ccxt uses for balances and withdrawals (/v2/accounts...), both authenticated by a CDP
API key's ES256 JWT.

Authentication, as Coinbase documents it:
  https://docs.cdp.coinbase.com/coinbase-app/authentication-authorization/api-key-authentication
  https://docs.cdp.coinbase.com/get-started/authentication/jwt-authentication
  Authorization: Bearer <JWT>; the JWT is ES256-signed with the key's EC (P-256) private
  key; header: alg ES256, kid = key name ("organizations/{org}/apiKeys/{key}"), nonce
  (random); claims: sub = key name, iss, nbf, exp (the JWT "expires after 2 minutes"),
  uri = "<METHOD> <host><path>" without the query, e.g. "GET api.coinbase.com/api/v3/brokerage/accounts".
  The docs' examples put iss "cdp" (and no aud); ccxt 4.5.75 puts iss "coinbase-cloud" and
  aud ["retail_rest_api_proxy"] (the older CDP key format, which Coinbase still accepts).
  The mock accepts either issuer and ignores aud.
"""

import base64
import binascii
import json
import time
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from venues.base import Venue

PRODUCT_ID = "BTC-USD"
REAL_HOST = "api.coinbase.com"
ISSUERS = ("cdp", "coinbase-cloud")
MAX_LIFETIME_S = 120

PRODUCT = {
    "product_id": PRODUCT_ID, "price": "20500", "price_percentage_change_24h": "0",
    "volume_24h": "1000", "volume_percentage_change_24h": "0", "base_increment": "0.00000001",
    "quote_increment": "0.01", "quote_min_size": "1", "quote_max_size": "150000000",
    "base_min_size": "0.00000001", "base_max_size": "3400", "base_name": "Bitcoin",
    "quote_name": "US Dollar", "watched": False, "is_disabled": False, "new": False,
    "status": "online", "cancel_only": False, "limit_only": False, "post_only": False,
    "trading_disabled": False, "auction_mode": False, "product_type": "SPOT",
    "quote_currency_id": "USD", "base_currency_id": "BTC", "fcm_trading_session_details": None,
    "mid_market_price": "", "alias": "", "alias_to": [], "base_display_symbol": "BTC",
    "quote_display_symbol": "USD", "view_only": False, "price_increment": "0.01",
    "display_name": "BTC-USD", "product_venue": "CBE",
}

# Fixed account ids, one per currency, as Coinbase gives each wallet a UUID.
ACCOUNTS = {
    "BTC": ("9a7c3f4e-0000-4000-8000-00000000b7c0", "1.00000000", "Bitcoin"),
    "USD": ("9a7c3f4e-0000-4000-8000-0000000000d0", "100000.00", "US Dollar"),
}


def _b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + "Z"


class Coinbase(Venue):
    HOSTS = ("api.coinbase.com",)

    ROUTES = (
        ("GET", r"/api/v3/brokerage/market/products", False, "market_products"),
        ("GET", r"/api/v3/brokerage/transaction_summary", True, "transaction_summary"),
        ("GET", r"/api/v3/brokerage/accounts", True, "v3_accounts"),
        ("GET", r"/v2/accounts", True, "v2_accounts"),
        ("POST", r"/api/v3/brokerage/orders", True, "create_order"),
        ("GET", r"/api/v3/brokerage/orders/historical/batch", True, "list_orders"),
        ("GET", r"/api/v3/brokerage/orders/historical/fills", True, "list_fills"),
        ("GET", r"/api/v3/brokerage/orders/historical/(?P<order_id>[^/]+)", True, "get_order"),
        ("POST", r"/api/v3/brokerage/orders/batch_cancel", True, "batch_cancel"),
        ("POST", r"/v2/accounts/(?P<account_id>[^/]+)/transactions", True, "send"),
    )

    def __init__(self, name, creds, **kw):
        super().__init__(name, creds, **kw)
        try:
            key = serialization.load_pem_private_key(self.cred("secret").encode(), password=None)
        except (ValueError, TypeError):
            key = None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("field 'secret' is not an unencrypted P-256 EC private key PEM, as Coinbase issues it")
        # Only the public half is kept: verifying needs nothing else.
        self._public_key = key.public_key()
        del key

    # -- authentication -----------------------------------------------------------------
    def _unauthorized(self, request, reason):
        if request.path.startswith("/v2/"):
            body = {"errors": [{"id": "authentication_error", "message": "invalid api key or token"}]}
        else:
            body = {"error": "UNAUTHENTICATED", "error_details": "", "message": "Unauthorized"}
        return self.reject(401, body, reason)

    def authenticate(self, request):
        auth = request.header("Authorization") or ""
        if not auth.startswith("Bearer "):
            return self._unauthorized(request, "no Bearer token")
        token = auth[len("Bearer "):].strip()
        parts = token.split(".")
        if len(parts) != 3:
            return self._unauthorized(request, "token is not a JWT")
        try:
            header = json.loads(_b64url_decode(parts[0]))
            claims = json.loads(_b64url_decode(parts[1]))
            signature = _b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            return self._unauthorized(request, "JWT does not decode")
        if not isinstance(header, dict) or not isinstance(claims, dict):
            return self._unauthorized(request, "JWT header or claims not objects")
        key_name = self.cred("apiKey")
        # Header: ES256, kid = the key name, a nonce.
        if header.get("alg") != "ES256":
            return self._unauthorized(request, "JWT alg is not ES256")
        if header.get("kid") != key_name:
            return self._unauthorized(request, "JWT kid is not the key name")
        if not header.get("nonce"):
            return self._unauthorized(request, "JWT header has no nonce")
        # Signature: ES256 = ECDSA P-256 SHA-256 over "header.claims", r||s (64 bytes).
        if len(signature) != 64:
            return self._unauthorized(request, "JWT signature is not 64 bytes")
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            self._public_key.verify(der, (parts[0] + "." + parts[1]).encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return self._unauthorized(request, "bad signature")
        # Claims.
        if claims.get("sub") != key_name:
            return self._unauthorized(request, "JWT sub is not the key name")
        if claims.get("iss") not in ISSUERS:
            return self._unauthorized(request, "JWT iss is not cdp")
        nbf, exp = claims.get("nbf"), claims.get("exp")
        if not isinstance(nbf, int) or not isinstance(exp, int):
            return self._unauthorized(request, "JWT nbf/exp missing")
        if exp - nbf > MAX_LIFETIME_S or exp <= nbf:
            return self._unauthorized(request, "JWT lifetime over 120 s")
        now = int(self.clock())
        if now < nbf:
            return self._unauthorized(request, "JWT not yet valid (nbf)")
        if now >= exp:
            return self._unauthorized(request, "JWT expired")
        # uri: "<METHOD> <host><path>", the host being api.coinbase.com; the mock also takes
        # the Host it was reached at (ccxt pointed straight at the mock signs that host).
        uri = claims.get("uri")
        if uri is None and isinstance(claims.get("uris"), list) and len(claims["uris"]) == 1:
            uri = claims["uris"][0]
        allowed = {"%s %s%s" % (request.method, host, request.path) for host in (REAL_HOST, request.host) if host}
        if uri not in allowed:
            return self._unauthorized(request, "JWT uri is not this request's method, host and path")
        return None

    def not_found(self, request):
        if request.path.startswith("/v2/"):
            return 404, {"errors": [{"id": "not_found", "message": "Not found"}]}
        return 404, {"error": "NOT_FOUND", "error_details": "", "message": "Not Found"}

    def looks_private(self, request):
        return (request.header("Authorization") or "").startswith("Bearer ")

    def empty_success(self, request):
        if request.path.startswith("/v2/"):
            return 200, {"pagination": {"next_uri": None, "next_starting_after": None}, "data": []}
        return 200, {}

    def error_reason(self, body):
        if isinstance(body, dict):
            if "errors" in body:
                return body["errors"][0].get("id", "error")
            return body.get("error", "error")
        return "error"

    # -- helpers ------------------------------------------------------------------------
    def _order_json(self, order):
        status = {"open": "OPEN", "closed": "FILLED", "canceled": "CANCELLED"}[order.status]
        if order.kind == "limit":
            config = {"limit_limit_gtc": {"base_size": order.amount, "limit_price": order.price, "post_only": False}}
        else:
            config = {"market_market_ioc": {"base_size": order.amount}}
        return {
            "order_id": order.id, "product_id": PRODUCT_ID, "user_id": "mock-user",
            "order_configuration": config, "side": order.side.upper(), "client_order_id": order.client_id or "",
            "status": status, "time_in_force": "GOOD_UNTIL_CANCELLED", "created_time": _iso(order.created_ms),
            "completion_percentage": "100" if order.status == "closed" else "0",
            "filled_size": order.filled, "average_filled_price": "0", "fee": "", "number_of_fills": "0",
            "filled_value": "0", "pending_cancel": False, "size_in_quote": False, "total_fees": "0",
            "size_inclusive_of_fees": False, "total_value_after_fees": "0",
            "trigger_status": "INVALID_ORDER_TYPE", "order_type": order.kind.upper(), "reject_reason": "",
            "settled": False, "product_type": "SPOT", "reject_message": "", "cancel_message": "",
        }

    @staticmethod
    def _json_body(request):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    # -- handlers -----------------------------------------------------------------------
    def market_products(self, request):
        product_type = request.query_params().get("product_type", "SPOT")
        items = [PRODUCT] if product_type == "SPOT" else []
        return 200, {"products": items, "num_products": len(items)}

    def transaction_summary(self, request):
        return 200, {"total_volume": 0, "total_fees": 0,
                     "fee_tier": {"pricing_tier": "Advanced 1", "usd_from": "0", "usd_to": "10000",
                                  "taker_fee_rate": "0.006", "maker_fee_rate": "0.004"},
                     "margin_rate": None, "goods_and_services_tax": None, "advanced_trade_only_volume": 0,
                     "advanced_trade_only_fees": 0, "coinbase_pro_volume": 0, "coinbase_pro_fees": 0}

    def v3_accounts(self, request):
        accounts = [{
            "uuid": account_id, "name": "%s Wallet" % code, "currency": code,
            "available_balance": {"value": amount, "currency": code}, "default": True, "active": True,
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z", "deleted_at": None,
            "type": "ACCOUNT_TYPE_FIAT" if code == "USD" else "ACCOUNT_TYPE_CRYPTO", "ready": True,
            "hold": {"value": "0", "currency": code},
        } for code, (account_id, amount, _) in ACCOUNTS.items()]
        return 200, {"accounts": accounts, "has_next": False, "cursor": "", "size": len(accounts)}

    def v2_accounts(self, request):
        data = [{
            "id": account_id, "name": "%s Wallet" % code, "primary": True,
            "type": "fiat" if code == "USD" else "wallet",
            "currency": {"code": code, "name": name, "type": "fiat" if code == "USD" else "crypto"},
            "balance": {"amount": amount, "currency": code},
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
            "resource": "account", "resource_path": "/v2/accounts/%s" % account_id,
        } for code, (account_id, amount, name) in ACCOUNTS.items()]
        return 200, {"pagination": {"ending_before": None, "starting_after": None, "limit": 250, "order": "desc",
                                    "previous_uri": None, "next_uri": None}, "data": data}

    def create_order(self, request):
        body = self._json_body(request)
        fail = {"success": False, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": "",
                "error_response": {"error": "INVALID_PRODUCT_ID", "message": "", "error_details": ""}}
        if body is None or body.get("product_id") != PRODUCT_ID:
            return 200, fail
        side = str(body.get("side", "")).lower()
        config = body.get("order_configuration") or {}
        if "limit_limit_gtc" in config:
            kind, c = "limit", config["limit_limit_gtc"]
        elif "market_market_ioc" in config:
            kind, c = "market", config["market_market_ioc"]
        else:
            kind, c = None, {}
        amount = c.get("base_size") or c.get("quote_size")
        if kind is None or side not in ("buy", "sell") or not amount or (kind == "limit" and not c.get("limit_price")):
            fail["error_response"]["error"] = "INVALID_ORDER_CONFIGURATION"
            return 200, fail
        order = self.orders.create(PRODUCT_ID, side, kind, str(amount), c.get("limit_price"),
                                   body.get("client_order_id"), id_format=lambda n: str(uuid.UUID(int=n)))
        return 200, {"success": True, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": order.id,
                     "success_response": {"order_id": order.id, "product_id": PRODUCT_ID,
                                          "side": side.upper(), "client_order_id": order.client_id or ""},
                     "order_configuration": config}

    def get_order(self, request, order_id):
        order = self.orders.get(order_id)
        if order is None:
            return 404, {"error": "NOT_FOUND", "error_details": "order not found", "message": "order not found"}
        return 200, {"order": self._order_json(order)}

    def list_orders(self, request):
        wanted = request.query_params().get("order_status")
        orders = self.orders.all_orders()
        if wanted == "OPEN":
            orders = [o for o in orders if o.status == "open"]
        return 200, {"orders": [self._order_json(o) for o in orders], "sequence": "0", "has_next": False, "cursor": ""}

    def list_fills(self, request):
        return 200, {"fills": [], "cursor": ""}

    def batch_cancel(self, request):
        body = self._json_body(request) or {}
        results = []
        for order_id in body.get("order_ids") or []:
            ok = self.orders.cancel(str(order_id)) is not None
            results.append({"success": ok, "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON" if ok else "UNKNOWN_CANCEL_ORDER",
                            "order_id": order_id})
        return 200, {"results": results}

    def send(self, request, account_id):
        body = self._json_body(request) or {}
        code = next((c for c, (aid, _, _) in ACCOUNTS.items() if aid == account_id), None)
        if code is None:
            return 404, {"errors": [{"id": "not_found", "message": "Account not found"}]}
        if body.get("type") != "send" or not body.get("to") or not body.get("amount"):
            return 400, {"errors": [{"id": "validation_error", "message": "Invalid request"}]}
        wid = self.withdrawals.add(body.get("currency", code), body["amount"], body["to"], body.get("network"))
        now = _iso(self.now_ms())
        return 201, {"data": {
            "id": wid, "type": "send", "status": "pending",
            "amount": {"amount": "-" + str(body["amount"]), "currency": code},
            "native_amount": {"amount": "-1.00", "currency": "USD"}, "description": None,
            "created_at": now, "updated_at": now, "resource": "transaction",
            "resource_path": "/v2/accounts/%s/transactions/%s" % (account_id, wid),
            "network": {"status": "unconfirmed", "hash": None, "name": "bitcoin"},
            "to": {"resource": "bitcoin_address", "address": body["to"]},
            "details": {"title": "Sent Bitcoin", "subtitle": "to %s" % body["to"]},
        }}
