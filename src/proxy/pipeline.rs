//! One request through the proxy, in order; the first check that fails answers (a
//! [`Refusal`]) and nothing is sent to the exchange:
//!
//! 1. the target: proxy token, `https`, a pinned host, a canonical path ([`target`]);
//! 2. the method (GET, POST, PUT, DELETE) and no method-override header;
//! 3. the token: issued by this agent, to the uid the kernel reports for the connection, and
//!    the agent unlocked ([`Backend::session`]); the token's credential is for this exchange;
//! 4. the body (size, form or JSON, no duplicate names, nothing in both query and body);
//! 5. the bot's API key, if it sent one, is its token; the bot's authentication is removed;
//! 6. the endpoint is in the exchange's table (deny by default) and its class is within the
//!    credential's scope; withdrawals and transfers also need the policy's explicit grant;
//! 7. orders: symbol allowed, notional within the maximum, within the orders per second and
//!    minute;
//! 8. sign with the proxy's own time and nonce, send, stream the answer back.
//!
//! Every request answered after step 1 names its client, and goes to the audit log.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited, combinators::BoxBody};

use super::order_budget::OrderBudgets;
use super::refusal::Refusal;
use super::session::{Answered, Backend, Session};
use super::target;
use super::upstream::Upstream;
use crate::exchange::class::{self, Class, Method, Orders};
use crate::exchange::registry;
use crate::exchange::request::{self, Request};
use crate::exchange::venue::{Stamp, Venue};
use crate::vault::credential::Scope;

/// The response body type.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// Headers that ask a server to treat a request as another method.
const METHOD_OVERRIDES: &[&str] = &[
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// What every request shares.
pub struct Proxy {
    /// The agent.
    pub backend: Arc<dyn Backend>,
    /// The way out.
    pub upstream: Upstream,
    /// Order budgets per token.
    pub budgets: Mutex<OrderBudgets>,
}

struct Facts {
    method: String,
    path: Option<String>,
    class: Option<Class>,
    credential: Option<String>,
    exchange: Option<String>,
    class_unknown: bool,
}

fn refusal_response(r: &Refusal) -> hyper::Response<Body> {
    hyper::Response::builder()
        .status(r.status)
        .header("content-type", "application/json")
        .header("x-custody-proxy", "refused")
        .body(
            Full::new(Bytes::from(r.body()))
                .map_err(|never| match never {})
                .boxed(),
        )
        .expect("a refusal response builds")
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Proxy {
    /// Answer one request from a client the kernel says is `uid`.
    pub async fn handle(
        &self,
        uid: Option<u32>,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> hyper::Response<Body> {
        let started = Instant::now();
        let mut facts = Facts {
            method: req.method().as_str().to_owned(),
            path: None,
            class: None,
            credential: None,
            exchange: None,
            class_unknown: false,
        };
        let mut venue: Option<&'static dyn Venue> = None;
        let result = self.check_and_send(uid, req, &mut facts, &mut venue).await;
        let latency_us = started.elapsed().as_micros() as u64;
        let (response, refused, upstream_status) = match result {
            Ok(r) => {
                let s = r.status().as_u16();
                (r, None, Some(s))
            }
            Err(mut refusal) => {
                if let Some(v) = venue {
                    refusal.native =
                        v.refusal_members(&format!("custody signing proxy: {}", refusal.error));
                }
                (refusal_response(&refusal), Some(refusal.error), None)
            }
        };
        if facts.path.is_some() {
            self.backend.record(Answered {
                time: unix_ms() / 1000,
                uid,
                credential: facts.credential,
                exchange: facts.exchange,
                method: facts.method,
                path: facts.path,
                class: if facts.class_unknown {
                    Some("unknown".into())
                } else {
                    facts.class.map(|c| c.as_str().to_owned())
                },
                refused,
                status: response.status().as_u16(),
                upstream_status,
                latency_us,
            });
        }
        response
    }

    async fn check_and_send(
        &self,
        uid: Option<u32>,
        req: hyper::Request<hyper::body::Incoming>,
        facts: &mut Facts,
        venue_seen: &mut Option<&'static dyn Venue>,
    ) -> Result<hyper::Response<Body>, Refusal> {
        // 1. The target.
        let raw = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let t = target::parse(&raw)?;
        let (venue, host) = registry::for_host(&t.host).ok_or_else(|| {
            Refusal::with_status(
                404,
                format!(
                    "`{}` is not a host the proxy forwards to; the pinned hosts are {}",
                    crate::terminal_text::escape(&t.host),
                    registry::VENUES
                        .iter()
                        .flat_map(|v| v.hosts().iter().copied())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        facts.path = Some(t.path.clone());
        facts.exchange = Some(venue.exchange().to_owned());
        *venue_seen = Some(venue);
        // 2. The method.
        let method = Method::parse(req.method().as_str()).ok_or_else(|| {
            Refusal::with_status(
                405,
                format!(
                    "the method {} is not one the exchanges' REST APIs use through the proxy \
                     (GET, POST, PUT, DELETE)",
                    crate::terminal_text::escape(req.method().as_str())
                ),
            )
        })?;
        let endpoint = format!("{} {}", method.as_str(), t.path);
        if let Some(h) = METHOD_OVERRIDES
            .iter()
            .find(|h| req.headers().contains_key(**h))
        {
            return Err(Refusal::malformed(format!(
                "the request carries `{h}`: a method override could make the exchange run \
                 another endpoint than the one checked; send the real method"
            ))
            .endpoint(endpoint));
        }
        // 3. The token.
        let session = self.backend.session(&t.token, uid)?;
        facts.credential = Some(session.credential.clone());
        if session.exchange != venue.exchange() {
            let needs = class::lookup(venue.endpoints(host), method, &t.path)
                .map_or_else(|| class::guess(method, &t.path), |r| r.class);
            return Err(Refusal::forbidden(format!(
                "the credential `{}` is a {} key; this request is for {}",
                session.credential,
                session.exchange,
                venue.exchange()
            ))
            .endpoint(endpoint)
            .needs(needs)
            .credential(&session.credential));
        }
        // 4. The body.
        let content_type = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let bytes = Limited::new(req.into_body(), request::MAX_BODY_BYTES)
            .collect()
            .await
            .map_err(|_| {
                Refusal::with_status(
                    413,
                    format!(
                        "the body is larger than {} bytes, or was cut off",
                        request::MAX_BODY_BYTES
                    ),
                )
            })?
            .to_bytes();
        let malformed = |m: request::Malformed| {
            Refusal::with_status(m.status, m.message)
                .endpoint(endpoint.clone())
                .credential(&session.credential)
        };
        let query = request::parse_params(&t.query, "query").map_err(malformed)?;
        let body =
            request::parse_body(&bytes, content_type.as_deref(), &query).map_err(malformed)?;
        let mut r = Request {
            method,
            host,
            path: t.path,
            query,
            body,
            headers,
        };
        // 5. The bot's key, then its authentication goes.
        if let Some(k) = venue.bot_key(&r)
            && !bool::from(subtle::ConstantTimeEq::ct_eq(
                k.as_bytes(),
                t.token.as_bytes(),
            ))
        {
            return Err(Refusal::unauthenticated(
                "the API key the bot sent is not its proxy token: give ccxt the \
                 <NAME>_API_KEY value custody put in the bot's environment",
            )
            .endpoint(endpoint)
            .credential(&session.credential));
        }
        venue.strip(&mut r);
        // 6. The endpoint and its class.
        let row = class::lookup(venue.endpoints(host), method, &r.path);
        let Some(row) = row else {
            facts.class_unknown = true;
            let guess = class::guess(method, &r.path);
            return Err(Refusal::forbidden(format!(
                "{endpoint} on {host} is not in custody's {} endpoint table, so it is refused \
                 (deny by default; docs/proxy-endpoints.md lists what is forwarded)",
                venue.exchange()
            ))
            .endpoint(endpoint)
            .needs(guess)
            .credential(&session.credential));
        };
        facts.class = Some(row.class);
        check_class(&session, row.class, &endpoint)?;
        // 7. Orders.
        if row.orders != Orders::None {
            self.check_orders(venue, &session, &r, row, &endpoint)?;
        }
        // 8. Sign and send.
        let out = if row.class == Class::Public {
            venue.public(&r)
        } else {
            let stamp = Stamp {
                unix_ms: unix_ms(),
                nonce: self.backend.nonce()?,
            };
            venue.sign(&r, &session.secrets, stamp).map_err(|e| {
                Refusal::with_status(500, e.to_string())
                    .endpoint(endpoint.clone())
                    .credential(&session.credential)
            })?
        };
        drop(session);
        let answer = self
            .upstream
            .send(host, method.as_str(), out)
            .await
            .map_err(|e| Refusal::with_status(502, e).endpoint(endpoint.clone()))?;
        let (mut parts, body) = answer.into_parts();
        // Hop-by-hop and connection headers are the proxy's own.
        for h in ["connection", "keep-alive", "transfer-encoding", "upgrade"] {
            parts.headers.remove(h);
        }
        parts.headers.insert(
            "x-custody-proxy",
            http::HeaderValue::from_static("forwarded"),
        );
        Ok(hyper::Response::from_parts(parts, body.boxed()))
    }

    fn check_orders(
        &self,
        venue: &dyn Venue,
        session: &Session,
        r: &Request,
        row: &class::Endpoint,
        endpoint: &str,
    ) -> Result<(), Refusal> {
        let refuse = |msg: String| {
            Refusal::forbidden(msg)
                .endpoint(endpoint)
                .needs(Class::Trade)
                .credential(&session.credential)
        };
        let orders = venue
            .orders(r, row)
            .map_err(|e| refuse(format!("the order request cannot be checked: {e}")))?;
        if orders.is_empty() {
            return Err(refuse("the order request names no order".into()));
        }
        let terms = &session.terms;
        for o in &orders {
            if let Some(s) = &o.symbol {
                if !terms.allows_symbol(s) {
                    return Err(refuse(format!(
                        "the policy does not allow orders on `{}` with this credential",
                        crate::terminal_text::escape(s)
                    )));
                }
            } else if !terms.allows_symbol("") {
                return Err(refuse(
                    "the order names no symbol, and the policy limits symbols".into(),
                ));
            }
            if let Some(max) = terms.max_notional() {
                let within = match (&o.price, &o.quantity, &o.quote_amount) {
                    (_, _, Some(q)) => max.admits_amount(q),
                    (Some(p), Some(q), None) => max.admits_order(p, q),
                    _ => {
                        return Err(refuse(format!(
                            "the policy caps an order's notional at {max}, and this order gives \
                             no price (a market order by quantity): give a limit price, or the \
                             amount in the quote currency"
                        )));
                    }
                }
                .map_err(|e| refuse(format!("the order's amounts cannot be checked: {e}")))?;
                if !within {
                    return Err(refuse(format!(
                        "the order's notional is above the policy's maximum of {max}"
                    )));
                }
            }
        }
        let mut b = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        b.take(
            session.token_id,
            orders.len(),
            terms.orders_per_second(),
            terms.orders_per_minute(),
            Instant::now(),
        )
        .map_err(|o| {
            Refusal::with_status(
                429,
                format!(
                    "the policy allows {} order(s) a {} with this credential; wait and retry",
                    o.limit, o.per
                ),
            )
            .endpoint(endpoint)
            .needs(Class::Trade)
            .credential(&session.credential)
        })
    }
}

/// Whether the credential's scope and the policy let `class` through.
fn check_class(session: &Session, class: Class, endpoint: &str) -> Result<(), Refusal> {
    let has = |s: Scope| session.scope.contains(&s);
    let refuse = |msg: String| {
        Refusal::forbidden(msg)
            .endpoint(endpoint)
            .needs(class)
            .credential(&session.credential)
    };
    match class {
        Class::Public | Class::Read => Ok(()),
        Class::Trade if has(Scope::Trade) => Ok(()),
        Class::Trade => Err(refuse(format!(
            "{endpoint} trades, and the credential `{}` has scope {}: custody forwards only \
             what the scope allows",
            session.credential,
            scope_text(&session.scope)
        ))),
        Class::Withdraw if !has(Scope::Withdraw) => Err(refuse(format!(
            "{endpoint} moves funds (withdraw or transfer), and the credential `{}` has scope \
             {}: custody forwards only what the scope allows",
            session.credential,
            scope_text(&session.scope)
        ))),
        Class::Withdraw if !session.terms.allows_withdraw() => Err(refuse(format!(
            "{endpoint} moves funds (withdraw or transfer): the credential `{}` has the \
             withdraw scope, but the agent policy rule for this bot does not grant withdrawals \
             (a quorum ratifies `custody agent policy add ... --allow-withdraw`)",
            session.credential
        ))),
        Class::Withdraw => Ok(()),
    }
}

fn scope_text(s: &[Scope]) -> String {
    s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}
