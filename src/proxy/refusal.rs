//! What the proxy answers instead of forwarding: an HTTP error with a JSON body a bot can log
//! (docs/agent-protocol.md, "Signing proxy"):
//! `{"error": "...", "endpoint": "...", "needs": "read|trade|withdraw", "credential": "..."}`,
//! with `endpoint`, `needs` and `credential` null when the proxy refused before it knew them.

use crate::exchange::class::Class;

/// A refused request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status: 400 malformed, 401 no valid token, 403 policy, 404 unknown host,
    /// 405 method, 413 too large, 429 order limit, 502/504 upstream, 503 sealed.
    pub status: u16,
    /// What went wrong and what to do, in words (never a secret).
    pub error: String,
    /// `METHOD /path` when known.
    pub endpoint: Option<String>,
    /// The class the request needs, when known.
    pub needs: Option<Class>,
    /// The credential, when known.
    pub credential: Option<String>,
    /// The exchange's own error members (e.g. Binance `code` and `msg`), so that the bot's
    /// exchange library reports a permission error with custody's message.
    pub native: Vec<(&'static str, serde_json::Value)>,
}

impl Refusal {
    fn new(status: u16, error: impl Into<String>) -> Refusal {
        Refusal {
            status,
            error: error.into(),
            endpoint: None,
            needs: None,
            credential: None,
            native: Vec::new(),
        }
    }

    /// 400: the request is not one the proxy can check.
    pub fn malformed(error: impl Into<String>) -> Refusal {
        Refusal::new(400, error)
    }

    /// 401: no token, or not a token this agent gave this user.
    pub fn unauthenticated(error: impl Into<String>) -> Refusal {
        Refusal::new(401, error)
    }

    /// 403: policy says no.
    pub fn forbidden(error: impl Into<String>) -> Refusal {
        Refusal::new(403, error)
    }

    /// Any other status.
    pub fn with_status(status: u16, error: impl Into<String>) -> Refusal {
        Refusal::new(status, error)
    }

    /// Name the endpoint.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Refusal {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Name the class the request needs.
    pub fn needs(mut self, class: Class) -> Refusal {
        self.needs = Some(class);
        self
    }

    /// Name the credential.
    pub fn credential(mut self, name: impl Into<String>) -> Refusal {
        self.credential = Some(name.into());
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        let mut v = serde_json::json!({
            "error": self.error,
            "endpoint": self.endpoint,
            "needs": self.needs.map(Class::needs),
            "credential": self.credential,
        });
        if let Some(c) = self.needs {
            v["class"] = serde_json::Value::from(c.as_str());
        }
        for (k, val) in &self.native {
            if v.get(*k).is_none() {
                v[*k] = val.clone();
            }
        }
        let mut out = serde_json::to_vec(&v).expect("a JSON value serialises");
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_carries_the_fixed_members() {
        let r = Refusal::forbidden("no")
            .endpoint("POST /sapi/v1/capital/withdraw/apply")
            .needs(Class::Withdraw)
            .credential("binance-main");
        let v: serde_json::Value = serde_json::from_slice(&r.body()).unwrap();
        assert_eq!(v["error"], "no");
        assert_eq!(v["endpoint"], "POST /sapi/v1/capital/withdraw/apply");
        assert_eq!(v["needs"], "withdraw");
        assert_eq!(v["credential"], "binance-main");
        let v: serde_json::Value =
            serde_json::from_slice(&Refusal::malformed("bad").body()).unwrap();
        assert!(v["endpoint"].is_null() && v["needs"].is_null() && v["credential"].is_null());
    }
}
