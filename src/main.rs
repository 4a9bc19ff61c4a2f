//! `basalt`: one binary for every role (namenode, datanode, local cluster) and every client command.

mod cli;

use clap::FromArgMatches;
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc (see the workspace Cargo.toml): every role and command.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let matches = cli::config::command().get_matches();
    let args = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if args.command.is_client() {
        // Like any Unix filter, a client command piped into `head` ends quietly when the reader goes
        // away (Rust ignores SIGPIPE, which turns every later print into a panic). Server roles keep
        // ignoring it: a peer that disconnects must not kill them.
        // SAFETY: restoring a default signal disposition before any thread starts.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("basalt: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args, &matches)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("basalt: {e:#}");
            ExitCode::FAILURE
        }
    }
}
