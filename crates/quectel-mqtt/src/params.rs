//! Parameter validation shared by every command: ranges and lengths from the guide, and the
//! characters that would break AT framing.
//!
//! Errors name the parameter and the limit, never the value of a string (it may be a secret).

use crate::error::ParamError;

/// Checks that an integer parameter lies in `min..=max`.
pub fn check_range(param: &'static str, value: i64, min: i64, max: i64) -> Result<(), ParamError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ParamError::OutOfRange {
            param,
            value,
            min,
            max,
        })
    }
}

/// Checks a string parameter that will be written between double quotes on the AT line.
///
/// Refuses `"`, CR, LF and NUL (each would end the argument or the command line early and let
/// the rest be read as a new command), and checks its length in UTF-8 bytes.
pub fn check_quoted(
    param: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), ParamError> {
    for (byte, what) in [
        (b'"', "a double quote (\")"),
        (b'\r', "a carriage return (CR)"),
        (b'\n', "a line feed (LF)"),
        (0u8, "a NUL byte"),
    ] {
        if value.as_bytes().contains(&byte) {
            return Err(ParamError::Forbidden { param, what });
        }
    }
    let len = value.len();
    if len < min || len > max {
        return Err(ParamError::Length {
            param,
            len,
            min,
            max,
        });
    }
    Ok(())
}

/// Appends `"value"` to an AT line. The value must have passed [`check_quoted`].
pub(crate) fn push_quoted(line: &mut Vec<u8>, value: &str) {
    line.push(b'"');
    line.extend_from_slice(value.as_bytes());
    line.push(b'"');
}

/// Appends `,"value"` to an AT line.
pub(crate) fn push_arg_quoted(line: &mut Vec<u8>, value: &str) {
    line.push(b',');
    push_quoted(line, value);
}

/// Appends `,n` to an AT line.
pub(crate) fn push_arg_int(line: &mut Vec<u8>, value: impl Into<i64>) {
    line.push(b',');
    line.extend_from_slice(value.into().to_string().as_bytes());
}

/// The client index every AT+QMT* command takes: 0–5.
pub fn check_client(client: u8) -> Result<(), ParamError> {
    check_range("client_idx", client.into(), 0, crate::MAX_CLIENT.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_refuses_framing_bytes_without_echoing_the_value() {
        let err = check_quoted("password", "se\"cret", 0, 100).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("password"), "{text}");
        assert!(
            !text.contains("se\"cret") && !text.contains("cret"),
            "{text}"
        );
        assert!(check_quoted("topic", "a\r\nAT+QMTDISC=0", 1, 256).is_err());
        assert!(check_quoted("topic", "a\nb", 1, 256).is_err());
    }

    #[test]
    fn quoted_counts_utf8_bytes() {
        // "測試" is 2 characters but 6 bytes.
        assert!(check_quoted("will_msg", "測試", 0, 6).is_ok());
        let err = check_quoted("will_msg", "測試", 0, 5).unwrap_err();
        assert_eq!(
            err,
            ParamError::Length {
                param: "will_msg",
                len: 6,
                min: 0,
                max: 5
            }
        );
    }

    #[test]
    fn range_names_param_and_limit() {
        let err = check_range("keep_alive_time", 3601, 0, 3600).unwrap_err();
        assert_eq!(
            err.to_string(),
            "keep_alive_time: 3601 is outside the range 0..=3600"
        );
        assert!(check_client(6).is_err());
        assert!(check_client(5).is_ok());
    }
}
