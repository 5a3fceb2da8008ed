//! A JSON document that carries secret values (`creds show --reveal --json`). The public part
//! is an ordinary `serde_json` object; the secret values never enter a `String` or a
//! `serde_json::Value`: they are escaped straight from the [`SecretFields`] into one buffer
//! that zeroizes on drop, sized up front so that it never moves (leaving a copy behind). The
//! whole document is printable ASCII (everything else written as `\uXXXX`, by
//! [`custody::zeroizing_json`]), so the terminal escaping ([`super::escaping`]) passes it on
//! unchanged and uncopied.

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use custody::vault::seal::SecretFields;
use custody::zeroizing_json::{MAX_ESCAPED_PER_BYTE, push_ascii, push_string_in as push_string};

/// `public` (an object) with one more member, `key`, an object of the present `fields` in
/// canonical order, then a newline: in a buffer that zeroizes on drop.
pub fn document_with_secrets(
    public: &Map<String, Value>,
    key: &str,
    fields: &SecretFields,
) -> Zeroizing<Vec<u8>> {
    let head = Value::Object(public.clone()).to_string();
    let present = fields.present();
    let secret_len: usize = present
        .iter()
        .map(|&n| fields.get(n).map_or(0, str::len) + n.as_str().len() + 6)
        .sum();
    let mut buf = Zeroizing::new(Vec::with_capacity(
        (head.len() + key.len() + secret_len + 8) * MAX_ESCAPED_PER_BYTE,
    ));
    let cap = buf.capacity();
    // `head` is `{...}`: all but its closing brace, then the secrets' member.
    let open = head.strip_suffix('}').unwrap_or(&head);
    push_ascii(&mut buf, open);
    if !public.is_empty() {
        buf.push(b',');
    }
    push_string(&mut buf, key);
    buf.extend_from_slice(b":{");
    for (i, n) in present.into_iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        push_string(&mut buf, n.as_str());
        buf.push(b':');
        push_string(&mut buf, fields.get(n).unwrap_or_default());
    }
    buf.extend_from_slice(b"}}\n");
    debug_assert!(buf.capacity() == cap, "the buffer moved");
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody::vault::credential::FieldName;

    #[test]
    fn secrets_round_trip_exactly_in_printable_ascii() {
        let mut fields = SecretFields::default();
        let odd = "a\"b\\c\nd\te\u{1}f é g \u{202E} h 😀 \u{7f}";
        fields.set(FieldName::ApiKey, "KEY".into());
        fields.set(FieldName::PrivateKeyPem, odd.into());
        let mut public = Map::new();
        public.insert("name".into(), "bot ü".into());
        public.insert("n".into(), 1.into());
        let doc = document_with_secrets(&public, "secrets", &fields);
        assert!(doc.ends_with(b"}\n"));
        assert!(
            doc[..doc.len() - 1]
                .iter()
                .all(|b| (b' '..=b'~').contains(b)),
            "{}",
            String::from_utf8_lossy(&doc)
        );
        let v: Value = serde_json::from_slice(&doc).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "name": "bot ü",
                "n": 1,
                "secrets": { "api_key": "KEY", "private_key_pem": odd },
            })
        );
        let empty = document_with_secrets(&Map::new(), "secrets", &SecretFields::default());
        assert_eq!(&empty[..], b"{\"secrets\":{}}\n");
    }
}
