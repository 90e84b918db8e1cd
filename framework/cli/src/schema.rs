//! A game's own schema, read at run time: its `.proto` files compiled by
//! `protox` (no `protoc`), and the three message types a protocol token
//! speaks (the client input, the state and the reliable message) picked
//! out of them.
//!
//! A token `arena.v2.proto` looks in package `arena.v2` for `Input`,
//! `State` and `Message` (or `Event`); `--input-type`,
//! `--state-type` and `--message-type` name others, fully qualified.
//!
//! ```
//! use playhouse_cli::schema::{GameSchema, TypeNames};
//! # let dir = std::env::temp_dir().join("playhouse-cli-doc");
//! # std::fs::create_dir_all(&dir).unwrap();
//! # std::fs::write(dir.join("g.proto"), "syntax = \"proto3\"; package g.v1; \
//! #   message Input { int32 x = 1; } message State { int32 t = 1; } message Message { string s = 1; }").unwrap();
//! let schema = GameSchema::load(&[dir.join("g.proto")], &[dir.clone()])?;
//! let token = "g.v1.proto".parse().unwrap();
//! let types = schema.types(&token, &TypeNames::default())?;
//! assert_eq!(types.state.full_name(), "g.v1.State");
//! # Ok::<(), playhouse_cli::schema::SchemaError>(())
//! ```

use playhouse_protocol::Token;
use prost_reflect::{DescriptorPool, MessageDescriptor};
use std::path::{Path, PathBuf};

/// Why a schema could not be loaded or does not fit a token.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A `.proto` file does not compile (the message names file and line).
    #[error("the schema does not compile: {0}")]
    Compile(String),
    /// The compiled files do not form a descriptor pool.
    #[error("the schema's descriptors do not load: {0}")]
    Descriptors(String),
    /// A message type the token needs is not in the schema.
    #[error("no message {name} in the schema ({hint})")]
    Missing {
        /// The type looked for.
        name: String,
        /// What to do about it.
        hint: String,
    },
}

/// Message names given by hand (fully qualified, `pkg.Type`); `None`
/// picks the default in the token's package.
#[derive(Debug, Clone, Default)]
pub struct TypeNames {
    /// The client input type.
    pub input: Option<String>,
    /// The state type.
    pub state: Option<String>,
    /// The reliable message type.
    pub message: Option<String>,
}

/// The three game types of one protocol token.
#[derive(Debug, Clone)]
pub struct GameTypes {
    /// What a client sends in `Input.payload`.
    pub input: MessageDescriptor,
    /// What `State.payload` holds.
    pub state: MessageDescriptor,
    /// What `Message.payload` holds.
    pub message: MessageDescriptor,
}

/// A compiled set of `.proto` files.
#[derive(Debug, Clone)]
pub struct GameSchema {
    pool: DescriptorPool,
}

impl GameSchema {
    /// Compiles `files`, resolving imports in `includes` (each file's own
    /// directory is searched too).
    pub fn load(files: &[PathBuf], includes: &[PathBuf]) -> Result<GameSchema, SchemaError> {
        let mut dirs: Vec<PathBuf> = includes.to_vec();
        for f in files {
            let dir = f.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if !dirs.iter().any(|d| d == dir) {
                dirs.push(dir.to_path_buf());
            }
        }
        let set = protox::compile(files, &dirs).map_err(|e| SchemaError::Compile(e.to_string()))?;
        let pool =
            DescriptorPool::from_file_descriptor_set(set).map_err(|e| SchemaError::Descriptors(e.to_string()))?;
        Ok(GameSchema { pool })
    }

    /// The package a token's types live in by default: `arena.v2` for
    /// `arena.v2.proto` (a `-` in the game's name becomes `_`, as a proto
    /// package cannot hold one).
    pub fn package_of(token: &Token) -> String {
        format!("{}.v{}", token.app.replace('-', "_"), token.version)
    }

    /// The input, state and message types for `token`.
    pub fn types(&self, token: &Token, names: &TypeNames) -> Result<GameTypes, SchemaError> {
        let package = Self::package_of(token);
        let pick = |given: &Option<String>, defaults: &[&str], flag: &str| -> Result<MessageDescriptor, SchemaError> {
            let candidates: Vec<String> = match given {
                Some(n) => vec![n.trim_start_matches('.').to_string()],
                None => defaults.iter().map(|d| format!("{package}.{d}")).collect(),
            };
            candidates.iter().find_map(|n| self.message(n)).ok_or_else(|| SchemaError::Missing {
                name: candidates.join(" or "),
                hint: format!("name it with {flag} <package.Type>; the schema has {}", self.message_names().join(", ")),
            })
        };
        Ok(GameTypes {
            input: pick(&names.input, &["Input"], "--input-type")?,
            state: pick(&names.state, &["State"], "--state-type")?,
            message: pick(&names.message, &["Message", "Event"], "--message-type")?,
        })
    }

    /// The message type named `name` (fully qualified, `pkg.Type`).
    pub fn message(&self, name: &str) -> Option<MessageDescriptor> {
        self.pool.get_message_by_name(name.trim_start_matches('.'))
    }

    /// Every message type the schema defines, fully qualified.
    pub fn message_names(&self) -> Vec<String> {
        self.pool.all_messages().map(|m| m.full_name().to_string()).collect()
    }
}
