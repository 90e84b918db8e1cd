//! Join options into the room's own type: the client sends a string map
//! (`map<string, string>` on the wire); [`parse_options`] deserializes it
//! with serde into `Room::Options`, parsing each value as the field's type
//! asks (numbers, booleans, chars, strings; `Option` for a field that may be
//! absent; unknown fields are ignored unless the type denies them).

use super::api::Reject;
use crate::session::Options;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use std::fmt;

/// Deserializes `options` into `T`; the error is the client's `JoinError`
/// reason: `bad options: <field>: <why>`.
pub fn parse_options<T: DeserializeOwned>(options: &Options) -> Result<T, Reject> {
    let mut pairs: Vec<(&str, &str)> = options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.sort_unstable();
    T::deserialize(MapDe { pairs: pairs.into_iter(), value: None })
        .map_err(|e: OptError| Reject::new(format!("bad options: {}", e.0)))
}

#[derive(Debug)]
struct OptError(String);

impl fmt::Display for OptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OptError {}

impl de::Error for OptError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        OptError(msg.to_string())
    }
}

struct MapDe<'a, I: Iterator<Item = (&'a str, &'a str)>> {
    pairs: I,
    value: Option<(&'a str, &'a str)>,
}

impl<'de, 'a, I: Iterator<Item = (&'a str, &'a str)>> de::Deserializer<'de> for MapDe<'a, I> {
    type Error = OptError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OptError> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, 'a, I: Iterator<Item = (&'a str, &'a str)>> MapAccess<'de> for MapDe<'a, I> {
    type Error = OptError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, OptError> {
        match self.pairs.next() {
            Some((k, v)) => {
                self.value = Some((k, v));
                seed.deserialize(k.to_string().into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, OptError> {
        let (k, v) = self.value.take().ok_or_else(|| OptError("value without a key".into()))?;
        seed.deserialize(ValueDe(v)).map_err(|e| OptError(format!("{k}: {}", e.0)))
    }
}

/// One option value: a string, parsed as the field's type asks.
struct ValueDe<'a>(&'a str);

macro_rules! parse_as {
    ($($method:ident => $visit:ident),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OptError> {
            let s = self.0.trim();
            match s.parse() {
                Ok(v) => visitor.$visit(v),
                Err(e) => Err(OptError(format!("{s:?}: {e}"))),
            }
        })*
    };
}

impl<'de> de::Deserializer<'de> for ValueDe<'_> {
    type Error = OptError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OptError> {
        visitor.visit_string(self.0.to_string())
    }

    parse_as! {
        deserialize_bool => visit_bool,
        deserialize_i8 => visit_i8, deserialize_i16 => visit_i16,
        deserialize_i32 => visit_i32, deserialize_i64 => visit_i64,
        deserialize_u8 => visit_u8, deserialize_u16 => visit_u16,
        deserialize_u32 => visit_u32, deserialize_u64 => visit_u64,
        deserialize_f32 => visit_f32, deserialize_f64 => visit_f64,
        deserialize_char => visit_char,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, OptError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, OptError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, OptError> {
        self.0
            .to_string()
            .into_deserializer()
            .deserialize_enum(name, variants, visitor)
            .map_err(|e: de::value::Error| OptError(e.to_string()))
    }

    serde::forward_to_deserialize_any! {
        i128 u128 str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Opts {
        seed: Option<u64>,
        name: Option<String>,
        #[serde(default)]
        ranked: bool,
    }

    fn map(pairs: &[(&str, &str)]) -> Options {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn strings_parse_into_the_fields_and_unknown_ones_are_ignored() {
        let o: Opts = parse_options(&map(&[("seed", " 42"), ("name", "ann"), ("ranked", "true"), ("x", "1")])).unwrap();
        assert_eq!(o, Opts { seed: Some(42), name: Some("ann".into()), ranked: true });
        let o: Opts = parse_options(&map(&[])).unwrap();
        assert_eq!(o, Opts { seed: None, name: None, ranked: false });
        let raw: Options = parse_options(&map(&[("a", "b")])).unwrap();
        assert_eq!(raw, map(&[("a", "b")]));
    }

    #[test]
    fn a_bad_value_names_its_field() {
        let err = parse_options::<Opts>(&map(&[("seed", "-1")])).unwrap_err();
        assert_eq!(err.reason, "bad options: seed: \"-1\": invalid digit found in string");
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Needs {
            mode: String,
        }
        let err = parse_options::<Needs>(&map(&[])).unwrap_err();
        assert_eq!(err.reason, "bad options: missing field `mode`");
    }
}
