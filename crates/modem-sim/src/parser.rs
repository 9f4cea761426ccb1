//! The module-side parser of host command lines.
//!
//! It accepts what real firmware accepts: an `AT`/`at` prefix in any case, command names in
//! any case, quoted or unquoted numbers, quoted or unquoted strings, and spaces around
//! commas. A line is split into a [`CommandLine`]: the command name (`+QMTCFG`, `E1`, `I`, …),
//! its form ([`Form`]) and its arguments ([`Arg`]). Typed decoding of the arguments happens
//! in the command handlers, through the helpers on [`Args`].

use thiserror::Error;

/// Why a host line could not be parsed. Every variant makes the module answer `ERROR`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The line does not start with `AT` (in any case).
    #[error("line does not start with AT")]
    NoPrefix,
    /// A quoted string is not closed.
    #[error("unterminated quoted string")]
    Unterminated,
    /// Text follows a closing quote before the next comma.
    #[error("unexpected text after a quoted string")]
    TrailingText,
    /// An argument has the wrong type or is missing.
    #[error("bad or missing argument {0}")]
    BadArg(usize),
    /// An argument is outside its allowed range.
    #[error("argument {0} out of range")]
    Range(usize),
    /// Too many arguments.
    #[error("too many arguments")]
    TooMany,
}

/// The form of an extended command (table 1 of the guide).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `AT+CMD=?`
    Test,
    /// `AT+CMD?`
    Read,
    /// `AT+CMD=<p1>[,<p2>…]`
    Set,
    /// `AT+CMD`
    Exec,
}

/// One argument as written by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// A `"quoted"` value (quotes removed).
    Quoted(String),
    /// An unquoted value (surrounding spaces removed). An omitted argument (`a,,b`) is an
    /// empty `Bare`.
    Bare(String),
}

impl Arg {
    /// The text of the argument, quoted or not.
    pub fn text(&self) -> &str {
        match self {
            Arg::Quoted(s) | Arg::Bare(s) => s,
        }
    }
}

/// The arguments of a set command, with typed accessors that report the argument position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args(pub Vec<Arg>);

impl Args {
    /// How many arguments were given.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The raw argument at `i`.
    pub fn get(&self, i: usize) -> Option<&Arg> {
        self.0.get(i)
    }

    /// Argument `i` as an integer (quoted or not; decimal, or hex with a `0x` prefix).
    pub fn int(&self, i: usize) -> Result<i64, ParseError> {
        let a = self.0.get(i).ok_or(ParseError::BadArg(i))?;
        parse_int(a.text()).ok_or(ParseError::BadArg(i))
    }

    /// Argument `i` as an integer within `lo..=hi`.
    pub fn int_in(&self, i: usize, lo: i64, hi: i64) -> Result<i64, ParseError> {
        let v = self.int(i)?;
        if v < lo || v > hi {
            return Err(ParseError::Range(i));
        }
        Ok(v)
    }

    /// Argument `i` as a string (quoted or not; real firmware accepts both).
    pub fn string(&self, i: usize) -> Result<String, ParseError> {
        self.0
            .get(i)
            .map(|a| a.text().to_string())
            .ok_or(ParseError::BadArg(i))
    }

    /// Argument `i` as a string whose UTF-8 length is within `lo..=hi` bytes.
    pub fn string_len(&self, i: usize, lo: usize, hi: usize) -> Result<String, ParseError> {
        let s = self.string(i)?;
        if s.len() < lo || s.len() > hi {
            return Err(ParseError::Range(i));
        }
        Ok(s)
    }
}

/// A parsed host line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// The command name, upper-cased, without the `AT` prefix: `""` for a bare `AT`,
    /// `"E0"`, `"I"`, `"+QMTCFG"`, … For basic commands (no `+`) the digits stay in the name.
    pub name: String,
    /// The form.
    pub form: Form,
    /// The arguments of a set form (empty otherwise).
    pub args: Args,
}

fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    s.parse().ok()
}

/// Splits an argument list on commas, honouring double quotes.
pub fn split_args(s: &str) -> Result<Args, ParseError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut v = String::new();
            let mut closed = false;
            for c in chars.by_ref() {
                if c == '"' {
                    closed = true;
                    break;
                }
                v.push(c);
            }
            if !closed {
                return Err(ParseError::Unterminated);
            }
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            match chars.next() {
                None => {
                    out.push(Arg::Quoted(v));
                    break;
                }
                Some(',') => out.push(Arg::Quoted(v)),
                Some(_) => return Err(ParseError::TrailingText),
            }
        } else {
            let mut v = String::new();
            let mut end = true;
            for c in chars.by_ref() {
                if c == ',' {
                    end = false;
                    break;
                }
                v.push(c);
            }
            out.push(Arg::Bare(v.trim().to_string()));
            if end {
                break;
            }
        }
    }
    Ok(Args(out))
}

/// Parses one host line (without its terminating `\r`).
pub fn parse_line(line: &str) -> Result<CommandLine, ParseError> {
    let line = line.trim_matches(|c: char| c == ' ' || c == '\n' || c == '\r');
    let rest = match line.get(..2) {
        Some(p) if p.eq_ignore_ascii_case("AT") => &line[2..],
        _ => return Err(ParseError::NoPrefix),
    };
    if !rest.starts_with('+') && !rest.starts_with('&') {
        // Basic command: `AT`, `ATE0`, `ATI`, `ATV1`.
        return Ok(CommandLine {
            name: rest.trim().to_ascii_uppercase(),
            form: Form::Exec,
            args: Args::default(),
        });
    }
    let name_end = rest.find(['=', '?']).unwrap_or(rest.len());
    let name = rest[..name_end].trim().to_ascii_uppercase();
    // The guide's §5.2 prints `AT+QMT PUBEX` (a typesetting artefact): only the canonical
    // spelling is accepted, so that name is unknown and answers ERROR.
    let tail = &rest[name_end..];
    let (form, args) = if tail.is_empty() {
        (Form::Exec, Args::default())
    } else if tail == "?" {
        (Form::Read, Args::default())
    } else if tail.trim() == "=?" {
        (Form::Test, Args::default())
    } else if let Some(a) = tail.strip_prefix('=') {
        (Form::Set, split_args(a)?)
    } else {
        return Err(ParseError::TrailingText);
    };
    Ok(CommandLine { name, form, args })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_forms() {
        assert_eq!(parse_line("AT").unwrap().name, "");
        assert_eq!(parse_line("at").unwrap().name, "");
        let c = parse_line("ate0").unwrap();
        assert_eq!((c.name.as_str(), c.form), ("E0", Form::Exec));
        let c = parse_line("at+qmtcfg=?").unwrap();
        assert_eq!((c.name.as_str(), c.form), ("+QMTCFG", Form::Test));
        let c = parse_line("AT+QMTOPEN?").unwrap();
        assert_eq!(c.form, Form::Read);
        assert_eq!(parse_line("XT+QMTOPEN?"), Err(ParseError::NoPrefix));
    }

    #[test]
    fn arguments_quoted_unquoted_and_spaces() {
        let c = parse_line(r#"AT+QMTOPEN=0, "host.example" , "1883""#).unwrap();
        assert_eq!(c.form, Form::Set);
        assert_eq!(c.args.int(0).unwrap(), 0);
        assert_eq!(c.args.string(1).unwrap(), "host.example");
        assert_eq!(c.args.int(2).unwrap(), 1883);
        assert_eq!(c.args.get(1), Some(&Arg::Quoted("host.example".into())));
        let c = parse_line("AT+QSSLCFG=\"ciphersuite\",2,0XFFFF").unwrap();
        assert_eq!(c.args.int(2).unwrap(), 0xFFFF);
        // Commas inside quotes do not split.
        let c = parse_line(r#"AT+QMTCONN=0,"a|b,c=1|","u&p","p,w""#).unwrap();
        assert_eq!(c.args.len(), 4);
        assert_eq!(c.args.string(1).unwrap(), "a|b,c=1|");
        assert_eq!(c.args.string(3).unwrap(), "p,w");
        // An omitted argument is an empty bare one.
        let c = parse_line("AT+X=1,,3").unwrap();
        assert_eq!(c.args.get(1), Some(&Arg::Bare(String::new())));
        assert!(c.args.int(1).is_err());
    }

    #[test]
    fn malformed_lines() {
        assert_eq!(
            parse_line(r#"AT+QMTOPEN=0,"host"#),
            Err(ParseError::Unterminated)
        );
        assert_eq!(
            parse_line(r#"AT+QMTOPEN=0,"host"x,1"#),
            Err(ParseError::TrailingText)
        );
        let c = parse_line("AT+QMTCFG=\"keepalive\",0,99999").unwrap();
        assert_eq!(c.args.int_in(2, 0, 3600), Err(ParseError::Range(2)));
        assert_eq!(c.args.int_in(5, 0, 1), Err(ParseError::BadArg(5)));
    }
}
