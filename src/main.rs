//! The `custody` binary: everything lives in the library; see `custody::cli`.

/// Freed memory is wiped, so that copies of secrets in buffers custody does not own vanish.
#[global_allocator]
static ALLOC: custody::wipe_alloc::WipeOnFree = custody::wipe_alloc::WipeOnFree;

fn main() -> std::process::ExitCode {
    custody::cli::main()
}
