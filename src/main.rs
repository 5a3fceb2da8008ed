//! The `custody` binary: the command line over the library's operations (`custody::ops`).
//! Its modules are declared here, so the library cannot import them.

#![deny(unsafe_code)]

mod cli;

/// Freed memory is wiped, so that copies of secrets in buffers custody does not own vanish.
#[global_allocator]
static ALLOC: custody::wipe_alloc::WipeOnFree = custody::wipe_alloc::WipeOnFree;

fn main() -> std::process::ExitCode {
    cli::main()
}
