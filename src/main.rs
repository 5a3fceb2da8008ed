//! The `custody` binary: everything lives in the library; see `custody::cli`.

fn main() -> std::process::ExitCode {
    custody::cli::main()
}
