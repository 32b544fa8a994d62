//! A small hand-rolled command-line parser: `--flag`, `--flag VALUE`, `--flag=VALUE`, `--`,
//! positionals, and `-h` / `--help` anywhere.

use std::fmt;

/// What went wrong, and therefore which exit status to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    /// The command line itself is malformed (unknown flag, missing or unparsable value): exit 2.
    Usage(String),
    /// Everything else (files, dtypes, parameters the input rejects, I/O): exit 1.
    Runtime(String),
}

impl CliError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Runtime(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) | CliError::Runtime(m) => f.write_str(m),
        }
    }
}

/// Shorthand for a usage error.
pub fn usage(msg: impl Into<String>) -> CliError {
    CliError::Usage(msg.into())
}

/// Shorthand for a runtime error.
pub fn runtime(msg: impl Into<String>) -> CliError {
    CliError::Runtime(msg.into())
}

/// A flag a command accepts: its name without the dashes, and whether it takes a value.
pub struct Flag {
    /// Name without the leading `--`.
    pub name: &'static str,
    /// Whether the flag needs a value (`--kernel 3`); otherwise it is a switch (`--ceil-mode`).
    pub value: bool,
}

/// The parsed command line of one subcommand.
#[derive(Debug, Default)]
pub struct Parsed {
    flags: Vec<(&'static str, Option<String>)>,
    /// Positional arguments in order.
    pub positionals: Vec<String>,
    /// `-h` or `--help` was given.
    pub help: bool,
}

impl Parsed {
    /// The value of a flag that takes one, if it was given.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.flags.iter().find(|(n, _)| *n == name).and_then(|(_, v)| v.as_deref())
    }
    /// Whether a flag was given.
    pub fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|(n, _)| *n == name)
    }
}

/// Parses `args` (everything after the subcommand name) against the flags `cmd` accepts.
pub fn parse(cmd: &str, args: &[String], accepted: &[Flag]) -> Result<Parsed, CliError> {
    let mut out = Parsed::default();
    let mut it = args.iter();
    let mut only_positionals = false;
    while let Some(arg) = it.next() {
        if only_positionals || !arg.starts_with('-') || arg == "-" {
            out.positionals.push(arg.clone());
            continue;
        }
        if arg == "--" {
            only_positionals = true;
            continue;
        }
        if arg == "-h" || arg == "--help" {
            out.help = true;
            continue;
        }
        let arg = match arg.as_str() {
            "-q" => "--quiet",
            "-v" => "--verbose",
            arg => arg,
        };
        let Some(body) = arg.strip_prefix("--") else {
            return Err(usage(format!("unknown option {arg:?} for `simdpool {cmd}` (see `simdpool {cmd} --help`)")));
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let flag = accepted.iter().find(|f| f.name == name).ok_or_else(|| {
            usage(format!("unknown flag --{name} for `simdpool {cmd}` (see `simdpool {cmd} --help`)"))
        })?;
        if out.has(flag.name) {
            return Err(usage(format!("--{name} is given more than once")));
        }
        let value = if flag.value {
            match inline {
                Some(v) => Some(v),
                None => Some(it.next().cloned().ok_or_else(|| usage(format!("--{name} needs a value")))?),
            }
        } else {
            if inline.is_some() {
                return Err(usage(format!("--{name} is a switch and takes no value")));
            }
            None
        };
        out.flags.push((flag.name, value));
    }
    Ok(out)
}

/// A comma-separated list of non-negative integers (`3`, `3,3`, `2, 1`).
pub fn list(flag: &str, text: &str) -> Result<Vec<usize>, CliError> {
    text.split(',')
        .map(|part| {
            let part = part.trim();
            part.parse::<usize>().map_err(|_| {
                usage(format!("--{flag} {text:?}: {part:?} is not a non-negative integer (expected e.g. 3 or 3,3)"))
            })
        })
        .collect()
}

/// A non-negative integer.
pub fn count(flag: &str, text: &str) -> Result<usize, CliError> {
    text.trim().parse::<usize>().map_err(|_| usage(format!("--{flag} {text:?} is not a non-negative integer")))
}

/// `true` or `false` (also `1`/`0`, `yes`/`no`).
pub fn boolean(flag: &str, text: &str) -> Result<bool, CliError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(usage(format!("--{flag} {text:?} must be true or false"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: &[Flag] = &[Flag { name: "kernel", value: true }, Flag { name: "ceil-mode", value: false }];

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_values_and_positionals() {
        let p = parse("pool", &strings(&["--kernel", "3,3", "a.npy", "--ceil-mode", "b.npy"]), FLAGS).unwrap();
        assert_eq!(p.value("kernel"), Some("3,3"));
        assert!(p.has("ceil-mode"));
        assert_eq!(p.positionals, ["a.npy", "b.npy"]);
        let p = parse("pool", &strings(&["--kernel=2", "--", "--x.npy"]), FLAGS).unwrap();
        assert_eq!(p.value("kernel"), Some("2"));
        assert_eq!(p.positionals, ["--x.npy"]);
    }

    #[test]
    fn malformed_command_lines_are_usage_errors() {
        for bad in [&["--bogus"][..], &["--kernel"], &["--kernel", "2", "--kernel", "3"], &["--ceil-mode=1"], &["-k"]] {
            let err = parse("pool", &strings(bad), FLAGS).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}: {err}");
        }
        assert!(list("kernel", "3,x").is_err());
        assert!(list("kernel", "").is_err());
        assert_eq!(list("kernel", "3, 2").unwrap(), [3, 2]);
        assert!(boolean("count-include-pad", "maybe").is_err());
        assert!(!boolean("count-include-pad", "False").unwrap());
    }
}
