//! `h2proto`: the command-line toolkit built on the h2proto HTTP/2 library.
//!
//! Every subcommand lives in its own module; `main` only parses flags and maps a failure to one
//! line on stderr and exit code 1 (bad user input never panics).

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod frames_tool;
mod get;
mod hpack_tool;
mod load;
mod serve;

#[derive(Parser)]
#[command(
    name = "h2proto",
    version,
    about = "HTTP/2 toolkit: server, client, HPACK and frame tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// HPACK (RFC 7541) tools in the hpack-test-case JSON format.
    Hpack {
        #[command(subcommand)]
        command: HpackCommand,
    },
    /// Decode a raw HTTP/2 byte stream (one direction) into one line per frame.
    Frames {
        /// File to read; stdin when absent.
        file: Option<std::path::PathBuf>,
    },
    /// Serve a directory (or built-in pages) over HTTP/2: TLS (ALPN h2) or h2c.
    Serve(serve::ServeArgs),
    /// Fetch URLs over HTTP/2, concurrently on one connection per origin.
    Get(get::GetArgs),
    /// Load-test an HTTP/2 server (like h2load): -n requests over -c connections, -m streams each.
    Load(load::LoadArgs),
}

#[derive(Subcommand)]
enum HpackCommand {
    /// Decode a story (JSON on stdin) and print it with `headers` added to each case.
    Inflate,
    /// Encode a story's `headers` (JSON on stdin) and print it with `wire` added to each case.
    Deflate {
        /// The encoder's dynamic table size (the peer's SETTINGS_HEADER_TABLE_SIZE).
        #[arg(long, default_value_t = 4096)]
        table_size: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hpack { command } => match command {
            HpackCommand::Inflate => hpack_tool::inflate(),
            HpackCommand::Deflate { table_size } => hpack_tool::deflate(table_size),
        },
        Command::Frames { file } => frames_tool::run(file.as_deref()),
        Command::Serve(args) => serve::run(args),
        Command::Get(args) => get::run(args),
        Command::Load(args) => load::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("h2proto: {msg}");
            ExitCode::FAILURE
        }
    }
}
