//! The rules for a new custodian or group name: stored in Unicode NFC, nothing invisible or
//! misleading in it, printable on every sheet, and not the same name as another once
//! composition and letter case are ignored. Names already in a vault or share file were written
//! under older rules and are read with the looser [`check_stored`]; custody compares them with
//! [`same`] (NFC) where it matches one name against another.

use std::fmt;

use unicase::UniCase;
use unicode_normalization::UnicodeNormalization;

use crate::sheet;
use crate::terminal_text;
use crate::wire;

/// The rule a name breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// The name is empty.
    Empty,
    /// The name is longer than [`wire::MAX_NAME_LEN`] bytes (in NFC).
    TooLong {
        /// Its length in bytes.
        bytes: usize,
    },
    /// The name has a `/`, which separates a group from a custodian (`Ops/alice`).
    Slash,
    /// A C0 or C1 control character or DEL.
    Control(char),
    /// A bidirectional control: embedding, override, isolate or mark.
    Bidi(char),
    /// An invisible character: zero-width, format, variation selector, tag, or any other
    /// default-ignorable code point.
    Invisible(char),
    /// Whitespace at either end, two spaces in a row, or a space other than U+0020.
    Spacing(Option<char>),
    /// Characters the sheets cannot print ([`sheet::can_draw`]).
    Unprintable(Vec<char>),
    /// No letter or digit a file name can carry ([`file_name_part`]): the sheet's file name
    /// could not say whose it is.
    NoLetterOrDigit,
}

impl fmt::Display for NameRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let one = |c: &char| code_points(&[*c]);
        match self {
            NameRule::Empty => write!(f, "it is empty; give a name"),
            NameRule::TooLong { bytes } => write!(
                f,
                "it is {bytes} bytes long; use at most {} (UTF-8, after NFC)",
                wire::MAX_NAME_LEN
            ),
            NameRule::Slash => write!(
                f,
                "it has a `/`, which separates a group from a custodian name; leave it out"
            ),
            NameRule::Control(c) => write!(
                f,
                "it has {}, a control character; retype the name without it",
                one(c)
            ),
            NameRule::Bidi(c) => write!(
                f,
                "it has {}, a bidirectional control that reorders how the name is shown; retype \
                 the name without it",
                one(c)
            ),
            NameRule::Invisible(c) => write!(
                f,
                "it has {}, an invisible character that makes two names look alike; retype the \
                 name without it",
                one(c)
            ),
            NameRule::Spacing(Some(c)) => write!(
                f,
                "it has {}, odd spacing; separate words with one plain space (U+0020)",
                one(c)
            ),
            NameRule::Spacing(None) => write!(
                f,
                "it has odd spacing (at either end, or two spaces in a row); separate words with \
                 one plain space"
            ),
            NameRule::Unprintable(chars) => write!(
                f,
                "the sheets cannot print {}, so a printed sheet would not show whose it is; \
                 give a printable label in Latin letters instead, for example a \
                 transliteration (`Li Wei` for 李伟)",
                code_points(chars)
            ),
            NameRule::NoLetterOrDigit => write!(
                f,
                "it has no letter or digit (A-Z, 0-9, or a letter with an accent), so the \
                 sheet's file name could not say whose it is; give a name with at least one"
            ),
        }
    }
}

/// Whether `c` is a bidirectional control (UAX #9: ALM, LRM, RLM, the embeddings and overrides
/// LRE..RLO with PDF, the isolates LRI..PDI).
fn is_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Whether `c` is a default-ignorable code point (Unicode 16, DerivedCoreProperties.txt,
/// `Default_Ignorable_Code_Point`): drawn as nothing. The bidi controls among them are
/// [`is_bidi`] and tested first.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The NFC form of `name`, if it meets every rule for a new name; else the first rule it
/// breaks. Checked in this order: empty, control, bidirectional, invisible, spacing, `/`,
/// length, printable, a letter or digit ([`file_name_part`]).
pub fn admit(name: &str) -> Result<String, NameRule> {
    let nfc: String = name.nfc().collect();
    if nfc.is_empty() {
        return Err(NameRule::Empty);
    }
    for c in nfc.chars() {
        if c.is_control() {
            return Err(NameRule::Control(c));
        }
        if is_bidi(c) {
            return Err(NameRule::Bidi(c));
        }
        if is_default_ignorable(c) || (terminal_text::is_unsafe(c) && !c.is_whitespace()) {
            return Err(NameRule::Invisible(c));
        }
        if c.is_whitespace() && c != ' ' {
            return Err(NameRule::Spacing(Some(c)));
        }
    }
    if nfc.trim() != nfc || nfc.contains("  ") {
        return Err(NameRule::Spacing(None));
    }
    if nfc.contains('/') {
        return Err(NameRule::Slash);
    }
    if nfc.len() > wire::MAX_NAME_LEN {
        return Err(NameRule::TooLong { bytes: nfc.len() });
    }
    let unprintable = sheet::undrawable(&nfc);
    if !unprintable.is_empty() {
        return Err(NameRule::Unprintable(unprintable));
    }
    if file_name_part(&nfc).is_none() {
        return Err(NameRule::NoLetterOrDigit);
    }
    Ok(nfc)
}

/// The part of a sheet's file name that says whose it is: lower-case ASCII letters and
/// digits, `-` between runs; `None` if the name has no letter or digit to give. Letters lose
/// their accents (`Zoë` -> `zoe`, `Šárka` -> `sarka`: compatibility decomposition, combining
/// marks dropped) and the other Latin letters a sheet can print are spelled out (`æ` -> `ae`,
/// `ø` -> `o`, `ß` -> `ss`, `þ` -> `th`).
pub fn file_name_part(name: &str) -> Option<String> {
    use unicode_normalization::char::is_combining_mark;

    let mut out = String::new();
    for c in name.nfkd().flat_map(char::to_lowercase) {
        let spelled = match c {
            'æ' => "ae",
            'ø' => "o",
            'ß' => "ss",
            'ð' | 'đ' => "d",
            'þ' => "th",
            'œ' => "oe",
            'ƒ' => "f",
            'ł' => "l",
            'µ' | 'μ' => "u",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            c if is_combining_mark(c) => continue,
            _ => "-",
        };
        if spelled != "-" {
            out.push_str(spelled);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let t = out.trim_matches('-');
    (!t.is_empty()).then(|| t.to_owned())
}

/// The placeholder a rebuilt vault ([`crate::ops::rebuild`]) gives a custodian no presented
/// token names: `unknown-G.M`, group number G and member number M counted from 1. It meets the
/// rules for a new name; a vault holding it accepts that member's share under the name its
/// signed token carries, until the next reshare names everyone.
pub fn unknown_custodian(group_number: usize, member_number: usize) -> String {
    format!("{UNKNOWN_PREFIX}{group_number}.{member_number}")
}

/// The placeholder for a group no presented token names: `unknown-group-G`.
pub fn unknown_group(group_number: usize) -> String {
    format!("{UNKNOWN_PREFIX}group-{group_number}")
}

const UNKNOWN_PREFIX: &str = "unknown-";

/// Whether `name` is a placeholder of [`unknown_custodian`] or [`unknown_group`] form.
pub fn is_placeholder(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match name.strip_prefix(UNKNOWN_PREFIX) {
        Some(rest) => match rest.strip_prefix("group-") {
            Some(g) => digits(g),
            None => rest
                .split_once('.')
                .is_some_and(|(g, m)| digits(g) && digits(m)),
        },
        None => false,
    }
}

/// The rule for a name already stored in a vault (written by an older custody, perhaps): 1 to
/// [`wire::MAX_NAME_LEN`] bytes, no control character, no `/`, no whitespace at either end.
pub fn check_stored(name: &str) -> Result<(), NameRule> {
    if name.is_empty() {
        return Err(NameRule::Empty);
    }
    if name.len() > wire::MAX_NAME_LEN {
        return Err(NameRule::TooLong { bytes: name.len() });
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(NameRule::Control(c));
    }
    if name.contains('/') {
        return Err(NameRule::Slash);
    }
    if name.trim() != name {
        return Err(NameRule::Spacing(None));
    }
    Ok(())
}

/// What two names are compared by to be the same name: canonical caseless matching (Unicode
/// 16, D145): NFD, full case folding (`ß` ~ `ss`), NFD again.
pub fn collision_key(name: &str) -> String {
    let nfd: String = name.nfd().collect();
    UniCase::unicode(nfd).to_folded_case().nfd().collect()
}

/// Whether two stored names are one name once both are in NFC (how custody matches a name in a
/// share file or token against the vault's, so that a file re-saved in NFC still matches).
pub fn same(a: &str, b: &str) -> bool {
    a == b || a.nfc().eq(b.nfc())
}

/// `U+674E 李, U+4F1F 伟`: each character's code point, then the character itself unless it
/// is a control, invisible or a space.
pub fn code_points(chars: &[char]) -> String {
    chars
        .iter()
        .map(|&c| {
            if terminal_text::is_unsafe(c) || c.is_control() || c.is_whitespace() {
                format!("U+{:04X}", c as u32)
            } else {
                format!("U+{:04X} {c}", c as u32)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `name` as shown in an error: escaped, and followed by its code points when it is not ASCII
/// (so that `é` and `e` + U+0301 can be told apart).
pub fn spelled(name: &str) -> String {
    let shown = terminal_text::escape(name);
    if name.is_ascii() {
        format!("`{shown}`")
    } else {
        let cps: Vec<String> = name
            .chars()
            .map(|c| format!("U+{:04X}", c as u32))
            .collect();
        format!("`{shown}` ({})", cps.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_names_are_nfc_and_refused_by_the_first_rule_they_break() {
        assert_eq!(admit("e\u{301}mile").unwrap(), "\u{E9}mile");
        assert_eq!(admit("Zoë O'Neil-Šárka").unwrap(), "Zoë O'Neil-Šárka");
        assert_eq!(admit(""), Err(NameRule::Empty));
        assert_eq!(admit("a\u{1b}b"), Err(NameRule::Control('\u{1b}')));
        assert_eq!(admit("a\u{9b}b"), Err(NameRule::Control('\u{9b}')));
        assert_eq!(admit("a\u{202E}b"), Err(NameRule::Bidi('\u{202E}')));
        assert_eq!(admit("a\u{2067}b"), Err(NameRule::Bidi('\u{2067}')));
        assert_eq!(admit("bob\u{200B}"), Err(NameRule::Invisible('\u{200B}')));
        assert_eq!(admit("a\u{FE0F}"), Err(NameRule::Invisible('\u{FE0F}')));
        assert_eq!(admit("x\u{E0041}"), Err(NameRule::Invisible('\u{E0041}')));
        assert_eq!(admit("a\u{AD}b"), Err(NameRule::Invisible('\u{AD}')));
        assert_eq!(admit("a\u{A0}b"), Err(NameRule::Spacing(Some('\u{A0}'))));
        assert_eq!(
            admit("a\u{3000}b"),
            Err(NameRule::Spacing(Some('\u{3000}')))
        );
        assert_eq!(
            admit("a\u{2028}b"),
            Err(NameRule::Spacing(Some('\u{2028}')))
        );
        assert_eq!(admit(" a"), Err(NameRule::Spacing(None)));
        assert_eq!(admit("a  b"), Err(NameRule::Spacing(None)));
        assert_eq!(admit("a/b"), Err(NameRule::Slash));
        assert_eq!(admit(&"é".repeat(33)), Err(NameRule::TooLong { bytes: 66 }));
        assert_eq!(admit("李伟"), Err(NameRule::Unprintable(vec!['李', '伟'])));
        assert_eq!(
            admit("q\u{301}"),
            Err(NameRule::Unprintable(vec!['\u{301}']))
        );
        assert_eq!(
            admit("Σοφία"),
            Err(NameRule::Unprintable(vec!['Σ', 'ο', 'φ', 'ί', 'α']))
        );
        assert_eq!(admit("dan😀"), Err(NameRule::Unprintable(vec!['😀'])));
        assert_eq!(admit("---"), Err(NameRule::NoLetterOrDigit));
        assert_eq!(admit("ˆ˜"), Err(NameRule::NoLetterOrDigit));
        assert_eq!(admit("ª"), Ok("ª".into()));
    }

    #[test]
    fn names_collide_after_nfc_and_case_folding() {
        assert_eq!(collision_key("Bob"), collision_key("bob"));
        assert_eq!(collision_key("\u{E9}"), collision_key("E\u{301}"));
        assert_eq!(collision_key("straße"), collision_key("STRASSE"));
        assert_ne!(collision_key("zoe"), collision_key("zoë"));
        assert!(same("e\u{301}", "\u{E9}") && !same("e", "\u{E9}"));
    }

    #[test]
    fn stored_names_keep_the_old_rule() {
        assert!(check_stored("李伟").is_ok());
        assert!(check_stored("e\u{301}").is_ok());
        assert!(check_stored("bob\u{200B}").is_ok());
        assert_eq!(check_stored("a/b"), Err(NameRule::Slash));
        assert_eq!(check_stored("a\rb"), Err(NameRule::Control('\r')));
    }

    #[test]
    fn errors_spell_out_look_alike_names() {
        assert_eq!(spelled("bob"), "`bob`");
        assert_eq!(spelled("e\u{301}"), "`e\u{301}` (U+0065 U+0301)");
        assert_eq!(
            spelled("bob\u{200B}"),
            "`bob\\u200B` (U+0062 U+006F U+0062 U+200B)"
        );
        let m = NameRule::Unprintable(vec!['李']).to_string();
        assert!(
            m.contains("U+674E 李") && m.contains("transliteration"),
            "{m}"
        );
        let m = NameRule::Bidi('\u{202E}').to_string();
        assert!(m.contains("U+202E,") && !m.contains('\u{202E}'), "{m}");
    }
}
