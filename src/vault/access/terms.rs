//! TEMPORARY (replaced by the policy branch at merge): what a rule allows through the proxy.
#![allow(missing_docs)]

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyTerms {
    allow_withdraw: bool,
    orders_per_second: Option<u32>,
    orders_per_minute: Option<u32>,
    symbols: Vec<String>,
    max_notional: Option<Notional>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notional(String);

#[derive(Debug)]
pub struct TermsError(String);
impl std::fmt::Display for TermsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Notional {
    pub fn admits_order(&self, _price: &str, _quantity: &str) -> Result<bool, TermsError> {
        Ok(true)
    }
    pub fn admits_amount(&self, _quote: &str) -> Result<bool, TermsError> {
        Ok(true)
    }
}
impl std::fmt::Display for Notional {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl ProxyTerms {
    pub fn allows_withdraw(&self) -> bool {
        self.allow_withdraw
    }
    pub fn orders_per_second(&self) -> Option<u32> {
        self.orders_per_second
    }
    pub fn orders_per_minute(&self) -> Option<u32> {
        self.orders_per_minute
    }
    pub fn allows_symbol(&self, s: &str) -> bool {
        self.symbols.is_empty() || self.symbols.iter().any(|x| x.eq_ignore_ascii_case(s))
    }
    pub fn max_notional(&self) -> Option<&Notional> {
        self.max_notional.as_ref()
    }
}
