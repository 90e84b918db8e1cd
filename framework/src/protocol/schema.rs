//! A game's schema across versions: how a connection of version N turns
//! wire bytes into the room's one current `Input` type, and the room's
//! `State` and `Message` into wire bytes of version N.
//!
//! Room code sees only the current types; each older version is served by an
//! adapter at the edge (convert on decode, convert on encode), so supporting
//! v1 beside v2 costs one conversion function per type, not a second room.
//! A game with one version whose room types are the wire types needs no
//! schema at all (`Server::room` builds [`Schema::single`]).

use super::{Codec, CodecError, Deprecation, Sunset, SunsetError, WireMessage};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The three types a room speaks: what clients send (`Input`), the state it
/// sends every tick (`State`, latest wins) and its reliable messages
/// (`Message`). Implemented for the tuple `(Input, State, Message)`, which
/// is what a room names as its `Room::Wire`.
pub trait WireTypes: Send + 'static {
    /// The decoded client input.
    type Input: Send + 'static;
    /// A state snapshot.
    type State: Send + 'static;
    /// A reliable message.
    type Message: Send + 'static;
}

impl<I: Send + 'static, S: Send + 'static, M: Send + 'static> WireTypes for (I, S, M) {
    type Input = I;
    type State = S;
    type Message = M;
}

type DecodeFn<I> = dyn Fn(Codec, &[u8]) -> Result<I, CodecError> + Send + Sync;
type EncodeFn<O> = dyn Fn(Codec, &O, &mut Vec<u8>) -> Result<(), CodecError> + Send + Sync;

struct Adapter<W: WireTypes> {
    version: u32,
    decode: Box<DecodeFn<W::Input>>,
    state: Box<EncodeFn<W::State>>,
    message: Box<EncodeFn<W::Message>>,
}

/// An error building a schema.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemaError {
    /// The same version was added twice.
    #[error("schema version v{0} is defined twice")]
    DuplicateVersion(u32),
    /// A schema needs at least one version.
    #[error("a schema needs at least one version")]
    Empty,
    /// [`Schema::deprecate`] named a version the schema does not define
    /// (yet: add it first).
    #[error("schema version v{0} is not defined, so it cannot be deprecated")]
    UnknownVersion(u32),
    /// [`Schema::deprecate`] got a sunset that is not a `YYYY-MM-DD` date.
    #[error("bad sunset date: {0}")]
    Sunset(#[from] SunsetError),
}

/// The versions of a game's schema, from wire types to the room's
/// [`WireTypes`] `W` (the tuple `(Input, State, Message)`).
///
/// ```
/// use playhouse::protocol::{Codec, Schema};
/// use playhouse_testkit::probe::{v1, v2};
///
/// let schema = Schema::<(v2::Input, v2::State, v2::Event)>::new()
///     .version(2,
///         |i: v2::Input| i,
///         |s: &v2::State| v2::Output { kind: Some(v2::output::Kind::State(s.clone())) },
///         |e: &v2::Event| v2::Output { kind: Some(v2::output::Kind::Event(e.clone())) })
///     .unwrap()
///     .version(1,
///         |i: v1::Input| v2::Input { move_x: i.move_x, move_y: i.move_y, ..Default::default() },
///         |_: &v2::State| v1::Output::default(),
///         |_: &v2::Event| v1::Output::default())
///     .unwrap();
/// assert_eq!(schema.versions(), vec![2, 1]);
/// let bytes = Codec::Proto.encode_to_vec(&v1::Input { move_x: 1, ..Default::default() }).unwrap();
/// let input = schema.decode_input(1, Codec::Proto, &bytes).unwrap();
/// assert_eq!(input.move_x, 1);
/// ```
///
/// A version on its way out is marked with [`Schema::deprecate`]: still
/// served, but `Welcome` tells its clients and `/info` lists its sunset.
pub struct Schema<W: WireTypes> {
    adapters: Vec<Adapter<W>>,
    deprecations: BTreeMap<u32, Deprecation>,
}

impl<W: WireTypes> Default for Schema<W> {
    fn default() -> Self {
        Schema { adapters: Vec::new(), deprecations: BTreeMap::new() }
    }
}

impl<W: WireTypes> Schema<W>
where
    W::Input: WireMessage,
    W::State: WireMessage,
    W::Message: WireMessage,
{
    /// The schema of a game with one version (v1) whose wire types are the
    /// room's own types.
    pub fn single() -> Self {
        Self::new().current(1)
    }

    /// Adds version `v` whose wire types are the room's types themselves.
    pub fn current(mut self, v: u32) -> Self {
        self.push(Adapter {
            version: v,
            decode: Box::new(|codec, bytes| codec.decode::<W::Input>(bytes)),
            state: Box::new(|codec, out, buf| codec.encode(out, buf)),
            message: Box::new(|codec, out, buf| codec.encode(out, buf)),
        });
        self
    }
}

impl<W: WireTypes> Schema<W> {
    /// An empty schema; add versions with [`Schema::current`] and [`Schema::version`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds version `v` with wire types `WI`/`WS`/`WM` and conversions to
    /// and from the room's types (`WS` and `WM` may be the same wire type,
    /// e.g. a `oneof` the existing clients decode: the conversion wraps).
    /// Fails if `v` is already defined.
    pub fn version<WI: WireMessage, WS: WireMessage, WM: WireMessage>(
        mut self,
        v: u32,
        input: impl Fn(WI) -> W::Input + Send + Sync + 'static,
        state: impl Fn(&W::State) -> WS + Send + Sync + 'static,
        message: impl Fn(&W::Message) -> WM + Send + Sync + 'static,
    ) -> Result<Self, SchemaError> {
        if self.adapters.iter().any(|a| a.version == v) {
            return Err(SchemaError::DuplicateVersion(v));
        }
        self.push(Adapter {
            version: v,
            decode: Box::new(move |codec, bytes| codec.decode::<WI>(bytes).map(&input)),
            state: Box::new(move |codec, out, buf| codec.encode(&state(out), buf)),
            message: Box::new(move |codec, out, buf| codec.encode(&message(out), buf)),
        });
        Ok(self)
    }

    /// Marks version `v` deprecated: it is still served, but every client
    /// that negotiates it is told in `Welcome` (`deprecated`, `sunset`), and
    /// `/info` lists it with its sunset, the date (`YYYY-MM-DD`) after which
    /// it may stop being served. `/metrics` counts the connections per token
    /// (`playhouse_connections_open_by_protocol`), to see when it can go.
    /// Fails if `v` is not defined (add it first) or the date is not a real
    /// `YYYY-MM-DD` date.
    ///
    /// When several room types serve a version, the server counts it
    /// deprecated if any of them deprecates it, with the earliest sunset: a
    /// version one room type drops is no longer offered at all.
    ///
    /// ```
    /// use playhouse::protocol::{Schema, SchemaError};
    /// use playhouse_testkit::probe::{v1, v2};
    ///
    /// type Wire = (v2::Input, v2::State, v2::Event);
    /// let schema = Schema::<Wire>::new()
    ///     .current(2)
    ///     .version(
    ///         1,
    ///         |i: v1::Input| v2::Input { move_x: i.move_x, ..Default::default() },
    ///         |_: &v2::State| v1::State::default(),
    ///         |e: &v2::Event| v1::Event { text: e.text.clone() },
    ///     )?
    ///     .deprecate(1, "2027-06-30")?;
    /// assert_eq!(schema.deprecation(1).and_then(|d| d.sunset).unwrap().to_string(), "2027-06-30");
    /// assert!(matches!(Schema::<Wire>::new().current(2).deprecate(2, "2027-02-30"), Err(SchemaError::Sunset(_))));
    /// # Ok::<(), SchemaError>(())
    /// ```
    pub fn deprecate(mut self, v: u32, sunset: &str) -> Result<Self, SchemaError> {
        let sunset: Sunset = sunset.parse()?;
        if self.adapter(v).is_err() {
            return Err(SchemaError::UnknownVersion(v));
        }
        self.deprecations.insert(v, Deprecation::until(sunset));
        Ok(self)
    }

    /// Whether version `v` is deprecated, and until when.
    pub fn deprecation(&self, v: u32) -> Option<&Deprecation> {
        self.deprecations.get(&v)
    }

    /// Every deprecated version and its deprecation, lowest version first.
    pub fn deprecations(&self) -> impl Iterator<Item = (u32, &Deprecation)> + '_ {
        self.deprecations.iter().map(|(v, d)| (*v, d))
    }

    fn push(&mut self, a: Adapter<W>) {
        self.adapters.retain(|x| x.version != a.version);
        self.adapters.push(a);
        self.adapters.sort_by_key(|a| std::cmp::Reverse(a.version));
    }

    /// The versions served, highest first.
    pub fn versions(&self) -> Vec<u32> {
        self.adapters.iter().map(|a| a.version).collect()
    }

    /// The highest version served (0 for an empty schema, which
    /// [`Schema::shared`] refuses).
    pub fn highest_version(&self) -> u32 {
        self.adapters.first().map_or(0, |a| a.version)
    }

    fn adapter(&self, v: u32) -> Result<&Adapter<W>, CodecError> {
        self.adapters.iter().find(|a| a.version == v).ok_or(CodecError::UnknownVersion(v))
    }

    /// Decodes a payload of version `v`. An unknown version is a decode error
    /// (the negotiator never lets one through).
    pub fn decode_input(&self, v: u32, codec: Codec, bytes: &[u8]) -> Result<W::Input, CodecError> {
        (self.adapter(v)?.decode)(codec, bytes)
    }

    /// Appends the encoding of the state `out` in version `v` to `buf`.
    pub fn encode_state(&self, v: u32, codec: Codec, out: &W::State, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        (self.adapter(v)?.state)(codec, out, buf)
    }

    /// Appends the encoding of the message `out` in version `v` to `buf`.
    pub fn encode_message(&self, v: u32, codec: Codec, out: &W::Message, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        (self.adapter(v)?.message)(codec, out, buf)
    }

    /// Wraps the schema for sharing between the registry and room actors.
    pub fn shared(self) -> Result<Arc<Self>, SchemaError> {
        if self.adapters.is_empty() {
            return Err(SchemaError::Empty);
        }
        Ok(Arc::new(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use playhouse_testkit::probe::{v1, v2};

    fn two_versions() -> Schema<(v2::Input, v2::State, v2::Event)> {
        Schema::new()
            .current(2)
            .version(
                1,
                |_: v1::Input| v2::Input::default(),
                |_: &v2::State| v1::State::default(),
                |e: &v2::Event| v1::Event { text: e.text.clone() },
            )
            .unwrap()
    }

    #[test]
    fn deprecate_marks_one_defined_version() {
        let s = two_versions().deprecate(1, "2027-06-30").unwrap();
        let sunset: Sunset = "2027-06-30".parse().unwrap();
        assert_eq!(s.deprecation(1), Some(&Deprecation::until(sunset)));
        assert_eq!(s.deprecation(2), None);
        assert_eq!(s.deprecations().collect::<Vec<_>>(), vec![(1, &Deprecation::until(sunset))]);
        assert_eq!(s.versions(), vec![2, 1], "a deprecated version is still served");
    }

    #[test]
    fn deprecate_refuses_unknown_versions_and_bad_dates() {
        assert_eq!(two_versions().deprecate(3, "2027-06-30").err(), Some(SchemaError::UnknownVersion(3)));
        assert_eq!(
            two_versions().deprecate(1, "2027-02-29").err(),
            Some(SchemaError::Sunset(SunsetError::Day { year: 2027, month: 2, day: 29 }))
        );
        assert!(matches!(
            two_versions().deprecate(1, "30/06/2027").err(),
            Some(SchemaError::Sunset(SunsetError::Shape(_)))
        ));
    }
}
