//! What an endpoint can do, and the tables that say it: every endpoint the proxy forwards is
//! listed in its exchange's table with its class; anything else is refused (deny by default).

use std::fmt;

/// What a request can do on the exchange, from least to most dangerous.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Market data: no account involved, sent unsigned.
    Public,
    /// Reads the account: balances, orders, positions, history.
    Read,
    /// Places, changes or cancels orders, or changes trading settings (leverage, margin mode).
    Trade,
    /// Moves funds: withdrawals and transfers between accounts.
    Withdraw,
}

impl Class {
    /// The class's name, as in refusals and audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Public => "public",
            Class::Read => "read",
            Class::Trade => "trade",
            Class::Withdraw => "withdraw",
        }
    }

    /// The credential scope this class needs (`read` for public market data too).
    pub fn needs(self) -> &'static str {
        match self {
            Class::Public | Class::Read => "read",
            Class::Trade => "trade",
            Class::Withdraw => "withdraw",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An HTTP method the proxy forwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
}

impl Method {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// The method named exactly `s` (upper case, as HTTP/1.1 sends it); others are refused.
    pub fn parse(s: &str) -> Option<Method> {
        match s {
            "GET" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }
}

/// Whether a request places orders (counted against the order limits and checked for symbol
/// and notional).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Orders {
    /// It places no order.
    None,
    /// It places one order.
    One,
    /// It places a batch of orders (each is checked and counted).
    Batch,
}

/// One row of an exchange's endpoint table.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    /// The method.
    pub method: Method,
    /// The exact path; a segment `{}` matches one path segment of `[A-Za-z0-9_.:-]` (an id).
    pub path: &'static str,
    /// What it can do.
    pub class: Class,
    /// Whether it places orders.
    pub orders: Orders,
}

impl Endpoint {
    /// A row that places no order.
    pub const fn new(method: Method, path: &'static str, class: Class) -> Endpoint {
        Endpoint {
            method,
            path,
            class,
            orders: Orders::None,
        }
    }

    /// A row that places one order.
    pub const fn order(method: Method, path: &'static str) -> Endpoint {
        Endpoint {
            method,
            path,
            class: Class::Trade,
            orders: Orders::One,
        }
    }

    /// A row that places a batch of orders.
    pub const fn batch(method: Method, path: &'static str) -> Endpoint {
        Endpoint {
            method,
            path,
            class: Class::Trade,
            orders: Orders::Batch,
        }
    }

    fn matches(&self, method: Method, path: &str) -> bool {
        if self.method != method {
            return false;
        }
        let mut want = self.path.split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some("{}"), Some(g)) => {
                    if g.is_empty()
                        || !g
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
                    {
                        return false;
                    }
                }
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    }
}

/// The row of `table` for `method` and the canonical `path`, if there is one.
pub fn lookup(table: &'static [Endpoint], method: Method, path: &str) -> Option<&'static Endpoint> {
    table.iter().find(|e| e.matches(method, path))
}

/// The class an endpoint that is not in the table would need, guessed from its path and
/// method, for the refusal's `needs` (the request is refused whatever the guess).
pub fn guess(method: Method, path: &str) -> Class {
    let p = path.to_ascii_lowercase();
    const MOVES: &[&str] = &[
        "withdraw",
        "transfer",
        "wallet",
        "deposit",
        "payment",
        "convert",
        "sub-account",
        "subaccount",
        "lending",
        "loan",
        "asset",
        "capital",
        "fund",
    ];
    if MOVES.iter().any(|m| p.contains(m)) {
        Class::Withdraw
    } else if method == Method::Get {
        Class::Read
    } else {
        Class::Trade
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &[Endpoint] = &[
        Endpoint::new(Method::Get, "/api/v3/account", Class::Read),
        Endpoint::new(
            Method::Get,
            "/api/v3/brokerage/orders/historical/{}",
            Class::Read,
        ),
        Endpoint::order(Method::Post, "/api/v3/order"),
    ];

    #[test]
    fn rows_match_exactly_and_ids_only_as_one_segment() {
        assert!(lookup(T, Method::Get, "/api/v3/account").is_some());
        assert!(lookup(T, Method::Post, "/api/v3/account").is_none());
        assert!(lookup(T, Method::Get, "/api/v3/account/").is_none());
        assert!(lookup(T, Method::Get, "/API/v3/account").is_none());
        assert!(lookup(T, Method::Get, "/api/v3/brokerage/orders/historical/abc-12").is_some());
        assert!(lookup(T, Method::Get, "/api/v3/brokerage/orders/historical/").is_none());
        assert!(lookup(T, Method::Get, "/api/v3/brokerage/orders/historical/a/b").is_none());
        assert!(lookup(T, Method::Get, "/api/v3/brokerage/orders/historical/a%2Fb").is_none());
        assert_eq!(
            lookup(T, Method::Post, "/api/v3/order").map(|e| e.orders),
            Some(Orders::One)
        );
    }

    #[test]
    fn unknown_endpoints_get_a_guess_for_the_refusal() {
        assert_eq!(
            guess(Method::Post, "/sapi/v1/capital/withdraw/apply"),
            Class::Withdraw
        );
        assert_eq!(
            guess(Method::Post, "/api/v5/asset/transfer"),
            Class::Withdraw
        );
        assert_eq!(guess(Method::Get, "/api/v3/myTrades"), Class::Read);
        assert_eq!(guess(Method::Delete, "/api/v3/openOrders"), Class::Trade);
    }
}
