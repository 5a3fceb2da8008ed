//! Text custody did not write, made safe to show on a terminal.
//!
//! Custodian names from a share file, paths an officer typed, and every field of a vault file or
//! audit log can carry characters a terminal acts on instead of showing: ESC sequences (OSC 52
//! clipboard writes, cursor moves, screen clears), carriage returns that overwrite a line, and
//! bidirectional or zero-width characters that make one name look like another. [`escape`]
//! writes each such character as a visible `\uXXXX` (four hex digits, as in JSON, so text that is
//! already JSON stays valid JSON) or `\u{XXXXX}` above U+FFFF. Newlines and tabs are kept.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as itself.
pub fn is_unsafe(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        // C0 controls, DEL and the C1 controls (which some terminals obey as ESC sequences).
        c if c.is_control() => true,
        // Bidirectional controls: embeddings, overrides, isolates, marks.
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => true,
        // Invisible and zero-width characters, line and paragraph separators.
        '\u{00AD}'
        | '\u{034F}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200D}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{2060}'..='\u{2064}'
        | '\u{3164}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}' => true,
        // Tag characters (invisible; used to smuggle text).
        '\u{E0000}'..='\u{E007F}' => true,
        _ => false,
    }
}

/// `text` with every [`is_unsafe`] character written as an escape; borrowed when there is none.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if (c as u32) <= 0xFFFF {
            out.push_str(&format!("\\u{:04X}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:X}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_invisible_characters_become_visible() {
        assert_eq!(escape("alice"), "alice");
        assert!(matches!(escape("plain line\n\tnext"), Cow::Borrowed(_)));
        assert_eq!(escape("\x1b]52;c;aGk=\x07"), "\\u001B]52;c;aGk=\\u0007");
        assert_eq!(escape("ok\rEVIL"), "ok\\u000DEVIL");
        assert_eq!(escape("\u{9b}2J"), "\\u009B2J");
        assert_eq!(escape("alice\u{202E}txt.exe"), "alice\\u202Etxt.exe");
        assert_eq!(escape("bob\u{200B}"), "bob\\u200B");
        assert_eq!(escape("x\u{E0041}"), "x\\u{E0041}");
        assert_eq!(escape("é — 東京"), "é — 東京");
    }

    #[test]
    fn escaped_json_stays_json() {
        let raw = serde_json::to_string(&serde_json::json!({"name": "a\u{202E}b\u{1b}"})).unwrap();
        let shown = escape(&raw);
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back["name"], "a\u{202E}b\u{1b}");
        assert!(!shown.contains('\u{202E}') && !shown.contains('\u{1b}'));
    }
}
