//! Remote ceremonies (issue 16): custodians in other places contribute their shares to a
//! quorum command held on the host's machine. The host opens a [`HostSession`] (a one-time
//! X25519 key) and shows its [`CeremonyCode`] and [`ComparisonPhrase`]; each custodian checks
//! the code against their share, compares the phrase by voice, and seals their signed share
//! token into an envelope ([`seal_envelope`], age to the one-time key) that the host accepts
//! once. shares-format.md, "Remote ceremony", is the normative description.

pub mod code;
pub mod envelope;
pub mod envelope_file;
pub mod inbox;
pub mod phrase;
mod record;
pub mod session;

pub use code::{CeremonyCode, CodeError};
pub use envelope::{EnvelopeContents, EnvelopeError, check_token, seal_envelope};
pub use phrase::{ComparisonPhrase, PhraseMismatch};
pub use record::CeremonyRecord;
pub use session::{Contribution, HostSession};
