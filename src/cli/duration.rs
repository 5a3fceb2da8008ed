//! Durations on the command line: `90s`, `30m`, `8h`, `7d`, combined (`1h30m`), or a bare
//! number of seconds. Each flag sets its own bounds.

/// Seconds in `text` (case and surrounding spaces ignored); `None` if it is not a duration.
pub fn seconds(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    if text.is_empty() {
        return None;
    }
    if let Ok(n) = text.parse::<u64>() {
        return Some(n);
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let n: u64 = digits.parse().ok()?;
        digits.clear();
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v))?;
    }
    digits.is_empty().then_some(total)
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn units_combine_and_junk_is_refused() {
        assert_eq!(seconds("90"), Some(90));
        assert_eq!(seconds(" 1h30M "), Some(5400));
        assert_eq!(seconds("7d"), Some(604_800));
        for bad in ["", "m", "10x", "5m3", "-1m", "1.5h"] {
            assert_eq!(seconds(bad), None, "{bad}");
        }
    }
}
