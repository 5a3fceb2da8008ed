//! The exchanges the signing proxy serves, and finding one by its name or a pinned host.
//! Adding an exchange: write its module (implementing [`Venue`]) and list it here.

use super::venue::Venue;

/// Every exchange the proxy serves.
pub static VENUES: &[&dyn Venue] = &[
    &super::binance::Binance,
    &super::okx::Okx,
    &super::bybit::Bybit,
    &super::kraken::Kraken,
    &super::coinbase::Coinbase,
];

/// The exchange that pins `host`, if any.
pub fn for_host(host: &str) -> Option<(&'static dyn Venue, &'static str)> {
    VENUES
        .iter()
        .find_map(|v| v.hosts().iter().find(|h| **h == host).map(|h| (*v, *h)))
}

/// The exchange named `name`, if the proxy serves it.
pub fn by_name(name: &str) -> Option<&'static dyn Venue> {
    VENUES.iter().copied().find(|v| v.exchange() == name)
}
