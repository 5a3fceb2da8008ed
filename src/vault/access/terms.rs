//! What a rule lets its clients do through the agent's signing proxy beyond what their
//! credentials' scope allows: withdraw (never by default), how many orders a second and a
//! minute, which symbols, and the largest order notional. Part of the rule, so part of what a
//! quorum ratifies. Every value is checked when the terms are made.

use std::fmt;

use super::Notional;
use crate::wire;

/// Which decimal a [`TermsError::Decimal`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecimalField {
    /// A rule's maximum order notional.
    MaxNotional,
    /// An order's price.
    Price,
    /// An order's quantity.
    Quantity,
    /// An order's amount of the quote currency.
    QuoteAmount,
}

impl fmt::Display for DecimalField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecimalField::MaxNotional => "max notional",
            DecimalField::Price => "price",
            DecimalField::Quantity => "quantity",
            DecimalField::QuoteAmount => "quote amount",
        })
    }
}

/// Why proxy terms (or a decimal compared with them) are refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TermsError {
    /// A decimal that is not a plain non-negative decimal within the digit limits.
    Decimal {
        /// Which decimal.
        field: DecimalField,
        /// The text given (its first 64 characters).
        text: String,
        /// What is wrong with it, in words.
        problem: &'static str,
    },
    /// An orders-a-second limit outside 1 to [`wire::MAX_AGENT_ORDERS_PER_SECOND`].
    OrdersPerSecond(u64),
    /// An orders-a-minute limit outside 1 to [`wire::MAX_AGENT_ORDERS_PER_MINUTE`].
    OrdersPerMinute(u64),
    /// A symbol no exchange order can name.
    Symbol {
        /// The symbol as given.
        symbol: String,
        /// What is wrong with it, in words.
        problem: &'static str,
    },
    /// More distinct symbols than [`wire::MAX_AGENT_RULE_SYMBOLS`].
    TooManySymbols(usize),
}

impl fmt::Display for TermsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TermsError::Decimal {
                field,
                text,
                problem,
            } => write!(
                f,
                "the {field} `{text}` is not a plain decimal: {problem}; give it as digits with \
                 an optional point, such as 50000 or 1234.5678 (no sign, no exponent, at most \
                 18 digits before and after the point)"
            ),
            TermsError::OrdersPerSecond(n) => write!(
                f,
                "the limit of {n} orders a second is out of range: give 1 to {}",
                wire::MAX_AGENT_ORDERS_PER_SECOND
            ),
            TermsError::OrdersPerMinute(n) => write!(
                f,
                "the limit of {n} orders a minute is out of range: give 1 to {}",
                wire::MAX_AGENT_ORDERS_PER_MINUTE
            ),
            TermsError::Symbol { symbol, problem } => write!(
                f,
                "the symbol `{symbol}` cannot be allowed: {problem}; give the exchange's symbol \
                 as its order requests write it, such as BTCUSDT (Binance, Bybit), BTC-USDT \
                 (OKX), XBTUSDT (Kraken) or BTC-USD (Coinbase)"
            ),
            TermsError::TooManySymbols(n) => write!(
                f,
                "{n} symbols are listed; a rule allows at most {} (list none to allow any)",
                wire::MAX_AGENT_RULE_SYMBOLS
            ),
        }
    }
}

impl std::error::Error for TermsError {}

/// What a rule allows through the agent's signing proxy beyond its credentials' scope. The
/// default allows no withdrawal or transfer, any number of orders on any symbol, of any
/// notional: the credentials' scope and the rule's request rate are the only limits.
/// Symbols are kept upper-case, sorted by bytes and without repeats.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ProxyTerms {
    allow_withdraw: bool,
    orders_per_second: Option<u32>,
    orders_per_minute: Option<u32>,
    symbols: Vec<String>,
    max_notional: Option<Notional>,
}

impl ProxyTerms {
    /// These terms, allowing withdrawals and transfers (`true`) or not. The proxy forwards one
    /// only when the rule allows it *and* the credential's scope includes `withdraw`.
    pub fn with_withdraw(mut self, allow: bool) -> ProxyTerms {
        self.allow_withdraw = allow;
        self
    }

    /// These terms, with at most `n` orders a second (1 to
    /// [`wire::MAX_AGENT_ORDERS_PER_SECOND`]).
    pub fn with_orders_per_second(mut self, n: u64) -> Result<ProxyTerms, TermsError> {
        self.orders_per_second = Some(
            in_range(n, wire::MAX_AGENT_ORDERS_PER_SECOND).ok_or(TermsError::OrdersPerSecond(n))?,
        );
        Ok(self)
    }

    /// These terms, with at most `n` orders a minute (1 to
    /// [`wire::MAX_AGENT_ORDERS_PER_MINUTE`]).
    pub fn with_orders_per_minute(mut self, n: u64) -> Result<ProxyTerms, TermsError> {
        self.orders_per_minute = Some(
            in_range(n, wire::MAX_AGENT_ORDERS_PER_MINUTE).ok_or(TermsError::OrdersPerMinute(n))?,
        );
        Ok(self)
    }

    /// These terms, allowing orders only on `symbols` (none: any symbol). Each is the
    /// exchange's own symbol as its order request writes it, 1 to
    /// [`wire::MAX_AGENT_SYMBOL_LEN`] ASCII characters of `A-Z 0-9 . _ : / -` once upper-cased;
    /// they are kept upper-case, sorted and without repeats, at most
    /// [`wire::MAX_AGENT_RULE_SYMBOLS`] of them.
    pub fn with_symbols<S: AsRef<str>>(
        mut self,
        symbols: impl IntoIterator<Item = S>,
    ) -> Result<ProxyTerms, TermsError> {
        let mut list = Vec::new();
        for s in symbols {
            list.push(check_symbol(s.as_ref())?);
        }
        list.sort();
        list.dedup();
        if list.len() > wire::MAX_AGENT_RULE_SYMBOLS {
            return Err(TermsError::TooManySymbols(list.len()));
        }
        self.symbols = list;
        Ok(self)
    }

    /// These terms, with orders of at most `max` notional (price × quantity, or the quote
    /// amount, in the quote currency).
    pub fn with_max_notional(mut self, max: Notional) -> ProxyTerms {
        self.max_notional = Some(max);
        self
    }

    /// Whether withdrawals and transfers may go through (never unless granted).
    pub fn allows_withdraw(&self) -> bool {
        self.allow_withdraw
    }

    /// The most orders a second, if limited.
    pub fn orders_per_second(&self) -> Option<u32> {
        self.orders_per_second
    }

    /// The most orders a minute, if limited.
    pub fn orders_per_minute(&self) -> Option<u32> {
        self.orders_per_minute
    }

    /// Whether an order on `symbol` (as the request writes it; compared ignoring ASCII case)
    /// may go through: always when the terms list no symbol.
    pub fn allows_symbol(&self, symbol: &str) -> bool {
        self.symbols.is_empty() || self.symbols.iter().any(|s| s.eq_ignore_ascii_case(symbol))
    }

    /// The symbols allowed, upper-case and sorted; empty: any.
    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    /// The largest order notional, if limited.
    pub fn max_notional(&self) -> Option<Notional> {
        self.max_notional
    }

    /// Whether these are the default terms (no withdrawal, no limit): a rule with them is
    /// written and signed exactly as before terms existed.
    pub fn is_default(&self) -> bool {
        *self == ProxyTerms::default()
    }

    /// The terms in words for listings: `withdraw allowed, 5 orders/s, 100 orders/min, symbols
    /// BTCUSDT ETHUSDT, max notional 50000` (what is set), or `no withdraw, no order limit, any
    /// symbol` for the defaults.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.allow_withdraw {
            parts.push("withdraw allowed".to_owned());
        }
        if let Some(n) = self.orders_per_second {
            parts.push(format!("{n} orders/s"));
        }
        if let Some(n) = self.orders_per_minute {
            parts.push(format!("{n} orders/min"));
        }
        if !self.symbols.is_empty() {
            parts.push(format!("symbols {}", self.symbols.join(" ")));
        }
        if let Some(n) = self.max_notional {
            parts.push(format!("max notional {n}"));
        }
        if parts.is_empty() {
            "no withdraw, no order limit, any symbol".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

fn in_range(n: u64, max: u32) -> Option<u32> {
    u32::try_from(n).ok().filter(|n| (1..=max).contains(n))
}

/// `symbol` upper-cased, if it can be an exchange's symbol.
fn check_symbol(symbol: &str) -> Result<String, TermsError> {
    let bad = |problem| {
        Err(TermsError::Symbol {
            symbol: symbol
                .chars()
                .take(wire::MAX_AGENT_SYMBOL_LEN + 8)
                .collect(),
            problem,
        })
    };
    if symbol.is_empty() {
        return bad("it is empty");
    }
    let upper = symbol.to_ascii_uppercase();
    if !upper
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"._:/-".contains(&b))
    {
        return bad("a symbol has only ASCII letters, digits and `._:/-`");
    }
    if upper.len() > wire::MAX_AGENT_SYMBOL_LEN {
        return bad("a symbol has at most 40 characters");
    }
    Ok(upper)
}

const _: () = assert!(wire::MAX_AGENT_SYMBOL_LEN == 40);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_allows_no_withdrawal_and_sets_no_limit() {
        let t = ProxyTerms::default();
        assert!(t.is_default());
        assert!(!t.allows_withdraw());
        assert_eq!(t.orders_per_second(), None);
        assert_eq!(t.orders_per_minute(), None);
        assert!(t.allows_symbol("BTCUSDT"));
        assert!(t.allows_symbol("anything at all"));
        assert!(t.symbols().is_empty());
        assert_eq!(t.max_notional(), None);
        assert_eq!(t.describe(), "no withdraw, no order limit, any symbol");
        // Setting something back to its default is the default again.
        let t = t
            .with_withdraw(true)
            .with_withdraw(false)
            .with_symbols([""; 0])
            .unwrap();
        assert!(t.is_default());
    }

    #[test]
    fn every_term_reads_back_and_is_described() {
        let t = ProxyTerms::default()
            .with_withdraw(true)
            .with_orders_per_second(5)
            .unwrap()
            .with_orders_per_minute(100)
            .unwrap()
            .with_symbols(["ethusdt", "BTCUSDT", "EthUsdt"])
            .unwrap()
            .with_max_notional(Notional::parse("50000").unwrap());
        assert!(!t.is_default());
        assert!(t.allows_withdraw());
        assert_eq!(t.orders_per_second(), Some(5));
        assert_eq!(t.orders_per_minute(), Some(100));
        assert_eq!(t.symbols(), ["BTCUSDT", "ETHUSDT"]);
        assert_eq!(t.max_notional().unwrap().to_string(), "50000");
        assert_eq!(
            t.describe(),
            "withdraw allowed, 5 orders/s, 100 orders/min, symbols BTCUSDT ETHUSDT, max \
             notional 50000"
        );
        let only = ProxyTerms::default().with_symbols(["BTC-USDT"]).unwrap();
        assert_eq!(only.describe(), "symbols BTC-USDT");
    }

    #[test]
    fn symbols_are_compared_ignoring_case_and_only_listed_ones_pass() {
        let t = ProxyTerms::default()
            .with_symbols([
                "BTCUSDT", "btc-usdt", "XBT/USD", "BTC-USD", "BTC_USDT", "A.B:C",
            ])
            .unwrap();
        assert_eq!(
            t.symbols(),
            [
                "A.B:C", "BTC-USD", "BTC-USDT", "BTCUSDT", "BTC_USDT", "XBT/USD"
            ]
        );
        for yes in ["BTCUSDT", "btcusdt", "BtC-uSdT", "xbt/usd", "a.b:c"] {
            assert!(t.allows_symbol(yes), "{yes}");
        }
        for no in [
            "ETHUSDT",
            "BTCUSD",
            "BTCUSDT ",
            "",
            "BTC-USDT\0",
            "ＢTCUSDT",
        ] {
            assert!(!t.allows_symbol(no), "{no:?}");
        }
    }

    #[test]
    fn bad_symbols_and_counts_are_refused_by_name() {
        for (bad, want) in [
            ("", "it is empty"),
            ("BTC USDT", "only ASCII letters"),
            ("BTC\nUSDT", "only ASCII letters"),
            ("BTC,USDT", "only ASCII letters"),
            ("ＢTC", "only ASCII letters"),
            ("BTC*", "only ASCII letters"),
        ] {
            match ProxyTerms::default().with_symbols([bad]) {
                Err(TermsError::Symbol { symbol, problem }) => {
                    assert!(problem.contains(want), "{bad:?}: {problem}");
                    assert_eq!(symbol, bad);
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        let long = "A".repeat(41);
        assert!(matches!(
            ProxyTerms::default().with_symbols([&long]),
            Err(TermsError::Symbol { problem, .. }) if problem.contains("at most 40")
        ));
        assert!(ProxyTerms::default().with_symbols(["A".repeat(40)]).is_ok());
        let e = ProxyTerms::default()
            .with_symbols(["BTC USDT"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("`BTC USDT`"), "{e}");
        assert!(e.contains("BTC-USDT (OKX)"), "{e}");

        let many: Vec<String> = (0..=wire::MAX_AGENT_RULE_SYMBOLS)
            .map(|i| format!("S{i}"))
            .collect();
        assert_eq!(
            ProxyTerms::default().with_symbols(&many),
            Err(TermsError::TooManySymbols(wire::MAX_AGENT_RULE_SYMBOLS + 1))
        );
        // Repeats do not count.
        let mut repeated = many[..wire::MAX_AGENT_RULE_SYMBOLS].to_vec();
        repeated.push("s0".into());
        assert_eq!(
            ProxyTerms::default()
                .with_symbols(&repeated)
                .unwrap()
                .symbols()
                .len(),
            wire::MAX_AGENT_RULE_SYMBOLS
        );
    }

    #[test]
    fn order_limits_are_within_their_caps() {
        let t = ProxyTerms::default();
        assert_eq!(
            t.clone().with_orders_per_second(0),
            Err(TermsError::OrdersPerSecond(0))
        );
        assert_eq!(
            t.clone().with_orders_per_second(10_001),
            Err(TermsError::OrdersPerSecond(10_001))
        );
        assert_eq!(
            t.clone().with_orders_per_second(u64::MAX),
            Err(TermsError::OrdersPerSecond(u64::MAX))
        );
        assert!(t.clone().with_orders_per_second(10_000).is_ok());
        assert_eq!(
            t.clone().with_orders_per_minute(0),
            Err(TermsError::OrdersPerMinute(0))
        );
        assert_eq!(
            t.clone().with_orders_per_minute(600_001),
            Err(TermsError::OrdersPerMinute(600_001))
        );
        assert!(t.clone().with_orders_per_minute(600_000).is_ok());
        let e = t.with_orders_per_second(0).unwrap_err().to_string();
        assert!(e.contains("1 to 10000"), "{e}");
    }
}
