//! Secret text written as JSON into buffers that zeroize on drop, without leaving copies
//! behind: a buffer grows only by moving into a new zeroizing buffer (the old one is wiped when
//! it is dropped), and strings are escaped straight into it, in printable ASCII (every other
//! character as `\uXXXX`, upper-case hex as [`crate::terminal_text`] writes it), so the text
//! passes a terminal's escaping unchanged. Used for the secret-bearing JSON custody writes:
//! `creds show --reveal --json`, an agent unlock request, the agent's answers.

use zeroize::Zeroizing;

/// Most bytes one input byte can become: a control character is `\u00XX` (6); a character of
/// 2 to 4 bytes is one or two `\uXXXX` (at most 3 per byte).
pub const MAX_ESCAPED_PER_BYTE: usize = 6;

/// Make room for `additional` more bytes in `buf` without a reallocation that would leave a
/// copy of its contents in freed memory: if it is too small, its contents move into a new
/// zeroizing buffer of at least twice the size needed, and the old one is wiped.
pub fn reserve(buf: &mut Zeroizing<Vec<u8>>, additional: usize) {
    let needed = buf.len() + additional;
    if buf.capacity() < needed {
        let mut bigger = Zeroizing::new(Vec::with_capacity(needed * 2));
        bigger.extend_from_slice(buf);
        *buf = bigger;
    }
}

/// `bytes` appended to `buf`, room made first with [`reserve`].
pub fn push_raw(buf: &mut Zeroizing<Vec<u8>>, bytes: &[u8]) {
    reserve(buf, bytes.len());
    buf.extend_from_slice(bytes);
}

/// `s` as a JSON string in printable ASCII, appended to `buf`, room made first.
pub fn push_string(buf: &mut Zeroizing<Vec<u8>>, s: &str) {
    reserve(buf, s.len() * MAX_ESCAPED_PER_BYTE + 2);
    push_string_in(buf, s);
}

/// [`push_string`] into a buffer the caller has already sized (it must not move).
pub fn push_string_in(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    for c in s.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            ' '..='~' => buf.push(c as u8),
            _ => push_escaped_char(buf, c),
        }
    }
    buf.push(b'"');
}

/// Serialised JSON text, its non-ASCII characters (which only occur inside strings) written as
/// `\uXXXX`: the same JSON, in ASCII. The caller sizes `buf`.
pub fn push_ascii(buf: &mut Vec<u8>, json: &str) {
    for c in json.chars() {
        if c.is_ascii() {
            buf.push(c as u8);
        } else {
            push_escaped_char(buf, c);
        }
    }
}

/// `c` as one `\uXXXX`, or two (a UTF-16 surrogate pair) above U+FFFF.
fn push_escaped_char(buf: &mut Vec<u8>, c: char) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut units = [0u16; 2];
    for &u in c.encode_utf16(&mut units).iter() {
        buf.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            buf.push(HEX[usize::from((u >> shift) & 0xF)]);
        }
    }
    units.fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_in_printable_ascii_and_the_buffer_grows_without_moving_twice() {
        let odd = "a\"b\\c\nd\te\u{1}f é g \u{202E} h 😀 \u{7f}";
        let mut buf = Zeroizing::new(Vec::new());
        push_string(&mut buf, odd);
        assert!(buf.iter().all(|b| (b' '..=b'~').contains(b)));
        let back: String = serde_json::from_slice(&buf).unwrap();
        assert_eq!(back, odd);
        let mut small = Zeroizing::new(Vec::with_capacity(2));
        small.extend_from_slice(b"ab");
        reserve(&mut small, 10);
        assert!(small.capacity() >= 12);
        assert_eq!(&small[..], b"ab");
    }
}
