//! A frame given on the command line, as hex (`0a 1b…`, `0x0a1b…`) or
//! base64 (standard or URL-safe, padded or not), as browsers' devtools and
//! packet captures show them.
//!
//! ```
//! use playhouse_cli::bytes_arg::{parse, Encoding};
//! assert_eq!(parse("0a 03", Encoding::Auto).unwrap(), vec![0x0a, 0x03]);
//! assert_eq!(parse("CgM=", Encoding::Auto).unwrap(), vec![0x0a, 0x03]);
//! ```

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;

/// How the text is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Encoding {
    /// Hex when every character is a hex digit (spaces, `:` and a `0x`
    /// prefix allowed), base64 otherwise.
    #[default]
    Auto,
    /// Hex.
    Hex,
    /// Base64.
    Base64,
}

/// Why the text is not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BytesError {
    /// Not hex.
    #[error("not hex: {0}")]
    Hex(String),
    /// Not base64.
    #[error("not base64 (standard or URL-safe): {0}")]
    Base64(String),
    /// Nothing given.
    #[error("no bytes given")]
    Empty,
}

fn hex(text: &str) -> Result<Vec<u8>, BytesError> {
    let digits: String =
        text.trim().trim_start_matches("0x").chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    if let Some(c) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(BytesError::Hex(format!("{c:?} is not a hex digit")));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(BytesError::Hex(format!("an odd number of digits ({})", digits.len())));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16)
                .map_err(|_| BytesError::Hex(format!("{:?} at {i} is not a hex byte", &digits[i..i + 2])))
        })
        .collect()
}

fn base64(text: &str) -> Result<Vec<u8>, BytesError> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut last = None;
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        match engine.decode(&t) {
            Ok(b) => return Ok(b),
            Err(e) => last = Some(e),
        }
    }
    Err(BytesError::Base64(last.map(|e| e.to_string()).unwrap_or_default()))
}

/// The bytes `text` holds.
pub fn parse(text: &str, encoding: Encoding) -> Result<Vec<u8>, BytesError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(BytesError::Empty);
    }
    let bytes = match encoding {
        Encoding::Hex => hex(text)?,
        Encoding::Base64 => base64(text)?,
        Encoding::Auto => {
            let body = text.trim_start_matches("0x");
            if body.chars().all(|c| c.is_ascii_hexdigit() || c.is_whitespace() || c == ':') {
                hex(text).or_else(|h| base64(text).map_err(|_| h))?
            } else {
                base64(text)?
            }
        }
    };
    if bytes.is_empty() {
        return Err(BytesError::Empty);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_in_the_forms_tools_print() {
        for t in ["0a0b", "0a 0b", "0x0a0b", "0a:0b", " 0A0B\n"] {
            assert_eq!(parse(t, Encoding::Auto).unwrap(), vec![0x0a, 0x0b], "{t:?}");
        }
    }

    #[test]
    fn base64_standard_and_url_safe() {
        assert_eq!(parse("+/8=", Encoding::Auto).unwrap(), vec![0xfb, 0xff]);
        assert_eq!(parse("-_8", Encoding::Auto).unwrap(), vec![0xfb, 0xff]);
        // Hex-looking text read as base64 when asked.
        assert_eq!(parse("abcd", Encoding::Base64).unwrap(), vec![0x69, 0xb7, 0x1d]);
    }

    #[test]
    fn bad_text_is_named() {
        assert_eq!(parse("", Encoding::Auto), Err(BytesError::Empty));
        assert!(matches!(parse("abc", Encoding::Hex), Err(BytesError::Hex(m)) if m.contains("odd")));
        assert!(matches!(parse("zz", Encoding::Hex), Err(BytesError::Hex(m)) if m.contains("not a hex digit")));
        assert!(matches!(parse("aé1", Encoding::Hex), Err(BytesError::Hex(m)) if m.contains("'é'")));
        assert!(matches!(parse("@@@", Encoding::Auto), Err(BytesError::Base64(_))));
    }
}
