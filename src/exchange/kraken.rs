//! Kraken spot REST: `API-Sign` = base64(HMAC-SHA512(base64-decode(secret), URI path +
//! SHA-256(nonce + POST data))), where the nonce is also the first POST parameter and must
//! increase with every request of the key (Kraken API documentation, "Spot REST
//! Authentication"). The key goes in `API-Key`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The headers Kraken authenticates by.
pub const HEADERS: [&str; 2] = ["API-Key", "API-Sign"];

/// The secret as Kraken issues it is base64 text; it does not decode.
#[derive(Debug, PartialEq, Eq)]
pub struct NotBase64;

impl fmt::Display for NotBase64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Kraken API secret is not base64 text, as Kraken issues it")
    }
}

impl std::error::Error for NotBase64 {}

/// The HMAC key: the secret's base64 decoded, in a buffer that zeroizes on drop.
pub fn decode_secret(secret_text: &str) -> Result<Zeroizing<Vec<u8>>, NotBase64> {
    let mut out = Zeroizing::new(vec![0u8; secret_text.len()]);
    let n = STANDARD
        .decode_slice(secret_text.trim().as_bytes(), &mut out)
        .map_err(|_| NotBase64)?;
    out.truncate(n);
    Ok(out)
}

/// `API-Sign` for a request to `uri_path` (`/0/private/AddOrder`) with `nonce` and the POST
/// data as sent (which carries the same nonce).
pub fn signature(key: &[u8], uri_path: &str, nonce: &str, post_data: &[u8]) -> String {
    let mut inner = Sha256::new();
    inner.update(nonce.as_bytes());
    inner.update(post_data);
    let digest = inner.finalize();
    STANDARD.encode(super::hmac_sha512(key, &[uri_path.as_bytes(), &digest]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kraken's own example (Spot REST Authentication, "Example").
    #[test]
    fn the_documented_example() {
        let key = decode_secret(
            "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
        )
        .unwrap();
        assert_eq!(
            signature(
                &key,
                "/0/private/AddOrder",
                "1616492376594",
                b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
            ),
            "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
        );
        assert_eq!(decode_secret("not base64!"), Err(NotBase64));
    }
}
