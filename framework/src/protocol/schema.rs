//! A game's schema across versions: how a connection of version N turns
//! wire bytes into the room's one current `Input` type, and the room's
//! `Output` into wire bytes of version N.
//!
//! Room code sees only the current types; each older version is served by an
//! adapter at the edge (convert on decode, convert on encode), so supporting
//! v1 beside v2 costs one pair of conversion functions, not a second room.

use super::{Codec, CodecError, Deprecation, Sunset, SunsetError, WireMessage};
use std::collections::BTreeMap;
use std::sync::Arc;

type DecodeFn<I> = dyn Fn(Codec, &[u8]) -> Result<I, CodecError> + Send + Sync;
type EncodeFn<O> = dyn Fn(Codec, &O, &mut Vec<u8>) -> Result<(), CodecError> + Send + Sync;

struct Adapter<I, O> {
    version: u32,
    decode: Box<DecodeFn<I>>,
    encode: Box<EncodeFn<O>>,
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

/// The versions of a game's schema, from wire types to the room's `I`/`O`.
///
/// ```
/// use playhouse::protocol::{Codec, Schema};
/// use playhouse_testkit::probe::{v1, v2};
///
/// let schema = Schema::<v2::Input, v2::Output>::new()
///     .current(2)
///     .version(1,
///         |i: v1::Input| v2::Input { move_x: i.move_x, move_y: i.move_y, ..Default::default() },
///         |o: &v2::Output| v1::Output::default())
///     .unwrap();
/// assert_eq!(schema.versions(), vec![2, 1]);
/// let bytes = Codec::Proto.encode_to_vec(&v1::Input { move_x: 1, ..Default::default() }).unwrap();
/// let input = schema.decode_input(1, Codec::Proto, &bytes).unwrap();
/// assert_eq!(input.move_x, 1);
/// ```
///
/// A version on its way out is marked with [`Schema::deprecate`]: still
/// served, but `Welcome` tells its clients and `/info` lists its sunset.
pub struct Schema<I, O> {
    adapters: Vec<Adapter<I, O>>,
    deprecations: BTreeMap<u32, Deprecation>,
}

impl<I, O> Default for Schema<I, O> {
    fn default() -> Self {
        Schema { adapters: Vec::new(), deprecations: BTreeMap::new() }
    }
}

impl<I: 'static, O: 'static> Schema<I, O> {
    /// An empty schema; add versions with [`Schema::current`] and [`Schema::version`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds version `v` whose wire types are `I` and `O` themselves.
    pub fn current(mut self, v: u32) -> Self
    where
        I: WireMessage,
        O: WireMessage,
    {
        self.push(Adapter {
            version: v,
            decode: Box::new(|codec, bytes| codec.decode::<I>(bytes)),
            encode: Box::new(|codec, out, buf| codec.encode(out, buf)),
        });
        self
    }

    /// Adds version `v` with wire types `WI`/`WO` and conversions to and from
    /// the current types. Fails if `v` is already defined.
    pub fn version<WI: WireMessage, WO: WireMessage>(
        mut self,
        v: u32,
        input: impl Fn(WI) -> I + Send + Sync + 'static,
        output: impl Fn(&O) -> WO + Send + Sync + 'static,
    ) -> Result<Self, SchemaError> {
        if self.adapters.iter().any(|a| a.version == v) {
            return Err(SchemaError::DuplicateVersion(v));
        }
        self.push(Adapter {
            version: v,
            decode: Box::new(move |codec, bytes| codec.decode::<WI>(bytes).map(&input)),
            encode: Box::new(move |codec, out, buf| codec.encode(&output(out), buf)),
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
    /// let schema = Schema::<v2::Input, v2::Output>::new()
    ///     .current(2)
    ///     .version(1, |i: v1::Input| v2::Input { move_x: i.move_x, ..Default::default() }, |_: &v2::Output| v1::Output::default())?
    ///     .deprecate(1, "2027-06-30")?;
    /// assert_eq!(schema.deprecation(1).and_then(|d| d.sunset).unwrap().to_string(), "2027-06-30");
    /// assert!(matches!(Schema::<v2::Input, v2::Output>::new().current(2).deprecate(2, "2027-02-30"), Err(SchemaError::Sunset(_))));
    /// # Ok::<(), SchemaError>(())
    /// ```
    pub fn deprecate(mut self, v: u32, sunset: &str) -> Result<Self, SchemaError> {
        let sunset: Sunset = sunset.parse()?;
        if self.adapter(v).is_none() {
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

    fn push(&mut self, a: Adapter<I, O>) {
        self.adapters.retain(|x| x.version != a.version);
        self.adapters.push(a);
        self.adapters.sort_by_key(|a| std::cmp::Reverse(a.version));
    }

    /// The versions served, highest first.
    pub fn versions(&self) -> Vec<u32> {
        self.adapters.iter().map(|a| a.version).collect()
    }

    fn adapter(&self, v: u32) -> Option<&Adapter<I, O>> {
        self.adapters.iter().find(|a| a.version == v)
    }

    /// Decodes a payload of version `v`. An unknown version is a decode error
    /// (the negotiator never lets one through).
    pub fn decode_input(&self, v: u32, codec: Codec, bytes: &[u8]) -> Result<I, CodecError> {
        match self.adapter(v) {
            Some(a) => (a.decode)(codec, bytes),
            None => Err(CodecError::UnknownVersion(v)),
        }
    }

    /// Appends the encoding of `out` in version `v` to `buf`.
    pub fn encode_output(&self, v: u32, codec: Codec, out: &O, buf: &mut Vec<u8>) -> Result<(), CodecError> {
        match self.adapter(v) {
            Some(a) => (a.encode)(codec, out, buf),
            None => Err(CodecError::UnknownVersion(v)),
        }
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

    fn two_versions() -> Schema<v2::Input, v2::Output> {
        Schema::new()
            .current(2)
            .version(1, |_: v1::Input| v2::Input::default(), |_: &v2::Output| v1::Output::default())
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
