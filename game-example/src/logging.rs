//! Where `arena`'s log goes and how it looks: the `tracing` subscriber the
//! binary installs, as people read it ([`LogFormat::Text`]) or as log
//! shippers read it ([`LogFormat::Json`], one JSON object a line).
//!
//! The framework logs under spans that carry the ids (`connection`: `conn`,
//! `session`, `peer`, `protocol`; `room`: `room`, `room_type`); both formats
//! print them with every event, so one player's story can be picked out of
//! a busy server's log (README, "Logs"). A game server of your own
//! sets up its subscriber the same way; the framework does not choose one.
//!
//! ```no_run
//! arena::logging::init(arena::logging::LogFormat::Json);
//! tracing::info!("every line is a JSON object now");
//! ```

use tracing_subscriber::EnvFilter;

/// How log lines are written (arena's `--log-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One line per event for people: time, level, the spans with their
    /// fields (`connection{conn=c3 session=…}:room{…}`), the message.
    #[default]
    Text,
    /// One JSON object per event: `timestamp`, `level`, `target`, `fields`
    /// (the message and the event's own fields), `span` (the innermost
    /// span's fields and `name`) and `spans` (every span it is in,
    /// outermost first).
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("unknown log format {other:?}: text or json")),
        }
    }
}

/// Installs the global subscriber: `format` on stdout, filtered by
/// `RUST_LOG` (`info` when unset or unreadable). Call once, at start.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => fmt.init(),
        LogFormat::Json => fmt.json().with_current_span(true).with_span_list(true).init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_name_in_any_case() {
        assert_eq!("json".parse(), Ok(LogFormat::Json));
        assert_eq!("TEXT".parse(), Ok(LogFormat::Text));
        assert!("yaml".parse::<LogFormat>().unwrap_err().contains("text or json"));
    }
}
