//! Binance spot (`api.binance.com`) and USD-M futures (`fapi.binance.com`): "SIGNED" endpoints
//! take `signature` = hex(HMAC-SHA256(secretKey, totalParams)), where totalParams is the query
//! string concatenated with the request body, exactly as sent (Binance API documentation,
//! "SIGNED (TRADE, USER_DATA, AND MARGIN) Endpoint security"). The API key goes in the
//! `X-MBX-APIKEY` header; `timestamp` (and `recvWindow`) are parameters inside totalParams.

use crate::keys::hex;

/// The header that carries the API key.
pub const API_KEY_HEADER: &str = "X-MBX-APIKEY";

/// The `signature` parameter for `query` (without `?`) followed by `body`, as sent.
pub fn signature(secret: &[u8], query: &[u8], body: &[u8]) -> String {
    hex(&super::hmac_sha256(secret, &[query, body]))
}

#[cfg(test)]
mod tests {
    use super::signature;

    /// Binance's own example (API documentation, "SIGNED Endpoint Examples for POST
    /// /api/v3/order", HMAC keys): the same parameters as a query string, or as the body.
    #[test]
    fn the_documented_example() {
        let secret = b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
        let params = b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        let want = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
        assert_eq!(signature(secret, params, b""), want);
        assert_eq!(signature(secret, b"", params), want);
        // Split between query and body: the signature covers the concatenation.
        assert_eq!(signature(secret, &params[..50], &params[50..]), want);
    }
}
