//! `simdpool`: the command-line front end of the simdpool crate (see `simdpool --help`).
#![forbid(unsafe_code)]

mod args;
mod bench;
mod info;
mod output;
mod run;
mod usage;

use args::{CliError, usage};
use run::Command;

/// Writes to stdout, ignoring a closed pipe (`simdpool --help | head -1` must not panic).
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn pooling(name: &str) -> Option<Command> {
    match name {
        "pool" => Some(Command::Pool),
        "global" => Some(Command::Global),
        "adaptive" => Some(Command::Adaptive),
        _ => None,
    }
}

fn help(topic: Option<&str>) -> Result<(), CliError> {
    match topic {
        None => emit(usage::MAIN),
        Some("info") => emit(usage::INFO),
        Some("bench") => bench::run(&["--help".to_string()])?,
        Some("help") => emit(usage::MAIN),
        Some(other) => match pooling(other) {
            Some(cmd) => emit(&cmd.help()),
            None => return Err(usage(format!("no help for unknown command {other:?} (see `simdpool --help`)"))),
        },
    }
    Ok(())
}

fn dispatch(argv: &[String]) -> Result<(), CliError> {
    let Some(first) = argv.first() else {
        return Err(usage("no command given (see `simdpool --help`)"));
    };
    let rest = &argv[1..];
    match first.as_str() {
        "-h" | "--help" => help(None),
        "-V" | "--version" => {
            emit(&format!("simdpool {}\n", env!("CARGO_PKG_VERSION")));
            Ok(())
        }
        "help" => {
            if rest.len() > 1 {
                return Err(usage("`simdpool help` takes at most one command name"));
            }
            help(rest.first().map(String::as_str))
        }
        "info" => {
            let parsed = args::parse("info", rest, &[])?;
            if parsed.help {
                return help(Some("info"));
            }
            if let Some(extra) = parsed.positionals.first() {
                return Err(usage(format!("`simdpool info` takes no arguments (got {extra:?})")));
            }
            emit(&info::report());
            Ok(())
        }
        "bench" => bench::run(rest),
        name => match pooling(name) {
            Some(cmd) => run::run(cmd, rest),
            None => Err(usage(format!("unknown command {name:?} (see `simdpool --help`)"))),
        },
    }
}

fn main() {
    let argv: Vec<String> = match std::env::args_os().skip(1).map(|a| a.into_string()).collect() {
        Ok(v) => v,
        Err(bad) => {
            eprintln!("simdpool: error: argument {bad:?} is not valid UTF-8");
            std::process::exit(2);
        }
    };
    if let Err(e) = dispatch(&argv) {
        eprintln!("simdpool: error: {e}");
        std::process::exit(e.exit_code());
    }
}
