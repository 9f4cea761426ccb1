//! Reading information lines such as `+QMTCFG: "ssl",1,2` or `+QMTOPEN: 0,"host",1883`.
//!
//! Fields are separated by commas outside double quotes: a quoted field may hold commas
//! (`+CCLK: "24/11/25,10:20:30+32"`). Errors describe the expected shape; they quote the
//! module's line only for replies that cannot hold a secret.

use std::str::FromStr;

use crate::error::Error;
use crate::request::Response;

/// One comma-separated field of an information line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    /// Written between double quotes (the quotes removed).
    Quoted(&'a str),
    /// Written bare (surrounding spaces removed).
    Bare(&'a str),
}

impl<'a> Field<'a> {
    /// The field's text, quoted or not.
    pub fn text(self) -> &'a str {
        match self {
            Field::Quoted(text) | Field::Bare(text) => text,
        }
    }

    /// A bare integer.
    pub fn int<T: FromStr>(self) -> Option<T> {
        match self {
            Field::Bare(text) => text.parse().ok(),
            Field::Quoted(_) => None,
        }
    }

    /// A bare `0` or `1`.
    pub fn flag(self) -> Option<bool> {
        match self.int::<u8>()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    /// A quoted string.
    pub fn quoted(self) -> Option<&'a str> {
        match self {
            Field::Quoted(text) => Some(text),
            Field::Bare(_) => None,
        }
    }
}

/// Splits the text after `+CMD: ` at the commas outside double quotes.
///
/// Returns `None` for an unterminated quote or for text between a closing quote and the next
/// comma. An empty text is one empty bare field.
pub fn split_fields(body: &str) -> Option<Vec<Field<'_>>> {
    let mut fields = Vec::new();
    let mut rest = body;
    loop {
        let start = rest.trim_start_matches(' ');
        if let Some(after_quote) = start.strip_prefix('"') {
            let end = after_quote.find('"')?;
            fields.push(Field::Quoted(&after_quote[..end]));
            let tail = after_quote[end + 1..].trim_start_matches(' ');
            if tail.is_empty() {
                return Some(fields);
            }
            rest = tail.strip_prefix(',')?;
        } else if let Some(comma) = start.find(',') {
            fields.push(Field::Bare(start[..comma].trim_end()));
            rest = &start[comma + 1..];
        } else {
            fields.push(Field::Bare(start.trim_end()));
            return Some(fields);
        }
    }
}

/// The text after `prefix` (e.g. `"+QMTCFG:"`) and the spaces that follow it.
pub(crate) fn body<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix)
        .map(|rest| rest.trim_start_matches(' '))
}

/// What a command's reply looks like, for finding its lines and reporting a bad one.
pub(crate) struct ReplyShape {
    /// The command's name, e.g. `"AT+CSQ"`.
    pub command: &'static str,
    /// The information line prefix, e.g. `"+CSQ:"`.
    pub prefix: &'static str,
    /// The line's shape as the guide writes it, e.g. `"+CSQ: <rssi>,<ber>"`.
    pub shape: &'static str,
    /// The reply may hold a secret: errors never quote it.
    pub secret: bool,
}

/// The most characters of a module line an error quotes.
const QUOTED_LINE_MAX: usize = 120;

impl ReplyShape {
    /// An error for a line that does not have the shape.
    pub fn malformed(&self, line: &str) -> Error {
        let detail = if self.secret {
            format!(
                "expected {} (the line is withheld: it may hold a secret)",
                self.shape
            )
        } else {
            let shown: String = line.chars().take(QUOTED_LINE_MAX).collect();
            format!("expected {}, got {shown:?}", self.shape)
        };
        Error::Reply {
            command: self.command,
            detail,
        }
    }

    /// An error for a reply without any line of the shape.
    pub fn missing(&self) -> Error {
        Error::Reply {
            command: self.command,
            detail: format!("no {} line in the reply", self.shape),
        }
    }

    /// The bodies of every information line with the prefix, with their full lines.
    pub fn lines<'a>(
        &self,
        response: &'a Response,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let prefix = self.prefix;
        response
            .info
            .iter()
            .filter_map(move |line| body(line, prefix).map(|b| (line.as_str(), b)))
    }

    /// Parses the first line with the prefix.
    pub fn parse_first<T>(
        &self,
        response: &Response,
        parse: impl Fn(&[Field<'_>]) -> Option<T>,
    ) -> Result<T, Error> {
        let (line, body) = self.lines(response).next().ok_or_else(|| self.missing())?;
        split_fields(body)
            .and_then(|fields| parse(&fields))
            .ok_or_else(|| self.malformed(line))
    }

    /// Parses every line with the prefix (possibly none).
    pub fn parse_all<T>(
        &self,
        response: &Response,
        parse: impl Fn(&[Field<'_>]) -> Option<T>,
    ) -> Result<Vec<T>, Error> {
        self.lines(response)
            .map(|(line, body)| {
                split_fields(body)
                    .and_then(|fields| parse(&fields))
                    .ok_or_else(|| self.malformed(line))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_commas_outside_quotes() {
        let fields = split_fields(r#""will",1,2,0,"a/b","x, y",7"#).unwrap();
        assert_eq!(
            fields,
            vec![
                Field::Quoted("will"),
                Field::Bare("1"),
                Field::Bare("2"),
                Field::Bare("0"),
                Field::Quoted("a/b"),
                Field::Quoted("x, y"),
                Field::Bare("7"),
            ]
        );
        assert_eq!(
            split_fields(r#" "24/11/25,10:20:30+32" "#).unwrap(),
            vec![Field::Quoted("24/11/25,10:20:30+32")]
        );
        assert_eq!(
            split_fields("0, 1").unwrap(),
            vec![Field::Bare("0"), Field::Bare("1")]
        );
        assert_eq!(split_fields("").unwrap(), vec![Field::Bare("")]);
        assert_eq!(split_fields(r#""""#).unwrap(), vec![Field::Quoted("")]);
    }

    #[test]
    fn refuses_broken_quoting() {
        assert_eq!(split_fields(r#""unterminated,1"#), None);
        assert_eq!(split_fields(r#""a"b,1"#), None);
    }

    #[test]
    fn fields_convert_only_from_their_own_kind() {
        assert_eq!(Field::Bare("42").int::<u8>(), Some(42));
        assert_eq!(Field::Quoted("42").int::<u8>(), None);
        assert_eq!(Field::Bare("2").flag(), None);
        assert_eq!(Field::Bare("1").flag(), Some(true));
        assert_eq!(Field::Bare("x").quoted(), None);
    }

    #[test]
    fn secret_shapes_never_quote_the_line() {
        let shape = ReplyShape {
            command: "AT+QMTCFG",
            prefix: "+QMTCFG:",
            shape: "+QMTCFG: \"aliauth\",…",
            secret: true,
        };
        let text = shape
            .malformed("+QMTCFG: \"aliauth\",\"pk\",\"dn\",\"topsecret")
            .to_string();
        assert!(
            text.contains("AT+QMTCFG") && !text.contains("topsecret"),
            "{text}"
        );
        let open = ReplyShape {
            command: "AT+CSQ",
            prefix: "+CSQ:",
            shape: "+CSQ: <rssi>,<ber>",
            secret: false,
        };
        assert!(open.malformed("+CSQ: x").to_string().contains("+CSQ: x"));
    }
}
