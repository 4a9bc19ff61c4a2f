//! `basalt`: one binary for every role (namenode, datanode, local cluster) and every client command.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv = match cli::config::expand(std::env::args_os().collect()) {
        Ok(argv) => argv,
        Err(e) => {
            eprintln!("basalt: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let args = cli::Cli::parse_from(argv);
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
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("basalt: {e:#}");
            ExitCode::FAILURE
        }
    }
}
