//! The use cases: each operation takes typed inputs (paths resolved, shares already read) and
//! returns a typed result or error. Nothing here prints, prompts or knows about flags; the
//! command line and other front ends are thin shells over these functions.

pub mod creds;
pub mod drill;
pub mod extend;
pub mod init;
pub mod issue;
pub mod ratify;
pub mod rekey;
pub mod release;
pub mod session;
