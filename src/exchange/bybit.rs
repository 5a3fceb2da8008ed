//! Bybit v5 with an HMAC key: `X-BAPI-SIGN` = hex(HMAC-SHA256(secret, timestamp + apiKey +
//! recvWindow + payload)), where payload is the query string for GET and the JSON body for
//! POST, exactly as sent, timestamp is `X-BAPI-TIMESTAMP` (milliseconds) and recvWindow
//! `X-BAPI-RECV-WINDOW` (Bybit V5 API documentation, "Integration Guidance", authentication).
//! The key goes in `X-BAPI-API-KEY`.

use crate::keys::hex;

/// The headers Bybit authenticates by.
pub const HEADERS: [&str; 4] = [
    "X-BAPI-API-KEY",
    "X-BAPI-TIMESTAMP",
    "X-BAPI-RECV-WINDOW",
    "X-BAPI-SIGN",
];

/// `X-BAPI-SIGN` for one request (`payload`: the query string without `?`, or the body).
pub fn signature(
    secret: &[u8],
    timestamp_ms: u64,
    api_key: &str,
    recv_window_ms: u64,
    payload: &[u8],
) -> String {
    hex(&super::hmac_sha256(
        secret,
        &[
            timestamp_ms.to_string().as_bytes(),
            api_key.as_bytes(),
            recv_window_ms.to_string().as_bytes(),
            payload,
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::signature;

    /// Values computed with Python's `hmac` module on the documented prehash, for the
    /// documentation's GET and POST examples (its placeholder key and secret).
    #[test]
    fn known_answers() {
        let secret = b"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";
        assert_eq!(
            signature(
                secret,
                1_658_384_314_791,
                "XXXXXXXXXX",
                5000,
                b"category=option&symbol=BTC-29JUL22-25000-C"
            ),
            "c4b59ee6add568ccee37372eb5cf6a54d02349863cc43102522c0e9d2654ce78"
        );
        assert_eq!(
            signature(
                secret,
                1_658_385_579_423,
                "XXXXXXXXXX",
                5000,
                br#"{"category":"option"}"#
            ),
            "acdec67a45d7ea44b8d1346ee5615bb0453b86208aa793eafb88d1165e11240d"
        );
    }
}
