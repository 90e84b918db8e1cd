//! Reading the TOML files of `loadgen scenario` (the scenario and the SLO)
//! with errors that name the file and the line: the parser's own message
//! (line and column) for syntax, unknown or missing keys and wrong types,
//! and `path:line: key: why` for a value that parses but cannot be used.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A scenario or SLO file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not TOML, or not of the file's shape (the message names the line
    /// and column).
    #[error("{}: {message}", .path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A value that parses but cannot be used.
    #[error("{}:{line}: {key}: {reason}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the value.
        line: usize,
        /// The key, dotted (`load.clients`).
        key: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
}

/// Parses `text` as TOML of shape `T`, naming `path` in errors.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, FileError> {
    toml::from_str(text).map_err(|e| FileError::Syntax { path: path.to_path_buf(), message: e.to_string() })
}

/// Reads a whole file, naming it in errors.
pub(crate) fn read(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|source| FileError::Read { path: path.to_path_buf(), source })
}

/// Checks of values against their spans, for line-precise errors.
pub(crate) struct Checker<'a> {
    pub(crate) path: &'a Path,
    pub(crate) text: &'a str,
}

impl Checker<'_> {
    /// An error about the value at `span`.
    pub(crate) fn invalid(&self, span: std::ops::Range<usize>, key: &str, reason: impl Into<String>) -> FileError {
        let line = self.text.get(..span.start).map_or(1, |before| before.matches('\n').count() + 1);
        FileError::Invalid { path: self.path.to_path_buf(), line, key: key.to_string(), reason: reason.into() }
    }

    /// `value` if it is finite and within `lo..=hi`.
    pub(crate) fn range(&self, value: &Spanned<f64>, key: &str, lo: f64, hi: f64) -> Result<f64, FileError> {
        let v = *value.get_ref();
        if v.is_finite() && (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(self.invalid(value.span(), key, format!("{v} is out of range: {lo} to {hi}")))
        }
    }
}

/// A number in a TOML file: an integer or a float, as `f64`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Number(f64);

impl Number {
    pub(crate) fn get(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Number, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Number;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// `Spanned<Number>` as `Spanned<f64>`.
pub(crate) fn num(n: &Spanned<Number>) -> Spanned<f64> {
    Spanned::new(n.span(), n.get_ref().get())
}
