//! How `playhouse` prints: for people (a frame a line, `<- kind {…}`, and
//! documents pretty-printed) or, with `--json`, one JSON object a line for
//! scripts. Frames keep the protocol's kind names (`state`, `joined`, …);
//! what the tool says itself has kinds starting `cli.` (`cli.sent`,
//! `cli.error`, `cli.closed`, `cli.ping`), so the two never collide.

use serde_json::{Map, Value};
use std::io::Write;

/// Where and how to print.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    /// `json`: one object a line.
    pub fn new(json: bool) -> Output {
        Output { json }
    }

    fn line(&self, s: &str) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (`| head`) ends the output, not the program's work.
        let _ = writeln!(out, "{s}");
        let _ = out.flush();
    }

    /// A frame received (its `kind` first).
    pub fn frame(&self, v: &Value) {
        if self.json {
            self.line(&v.to_string());
            return;
        }
        let (kind, rest) = split_kind(v);
        self.line(&format!("<- {kind} {}", Value::Object(rest)));
    }

    /// Something the tool says itself: `{"kind": "cli.<what>", fields…}`.
    pub fn says(&self, what: &str, fields: Value) {
        let mut obj = Map::new();
        obj.insert("kind".into(), Value::String(format!("cli.{what}")));
        if let Value::Object(f) = fields {
            obj.extend(f);
        }
        if self.json {
            self.line(&Value::Object(obj).to_string());
            return;
        }
        obj.remove("kind");
        let arrow = if what == "sent" { "->" } else { "--" };
        self.line(&format!("{arrow} {what} {}", Value::Object(obj)));
    }

    /// A whole document (`info`, `rooms`, a decoded frame): one line with
    /// `--json`, pretty otherwise.
    pub fn document(&self, v: &Value) {
        if self.json {
            self.line(&v.to_string());
        } else {
            self.line(&serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string()));
        }
    }
}

fn split_kind(v: &Value) -> (String, Map<String, Value>) {
    let mut rest = v.as_object().cloned().unwrap_or_default();
    let kind = match rest.remove("kind") {
        Some(Value::String(k)) => k,
        _ => "frame".into(),
    };
    (kind, rest)
}
