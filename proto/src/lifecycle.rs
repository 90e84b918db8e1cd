//! A schema version's life cycle: served and current, then deprecated with a
//! sunset date (still served; clients are told in `Welcome` and `/info`
//! lists it), then gone from the server.
//!
//! ```
//! use playhouse_protocol::{Deprecation, Sunset};
//!
//! let sunset: Sunset = "2027-06-30".parse().unwrap();
//! assert_eq!((sunset.year(), sunset.month(), sunset.day()), (2027, 6, 30));
//! assert_eq!(sunset.to_string(), "2027-06-30");
//! assert!("2027-02-30".parse::<Sunset>().is_err());
//! let d = Deprecation::until(sunset);
//! assert_eq!(d.sunset, Some(sunset));
//! ```

use crate::envelope::Welcome;
use std::fmt;
use std::str::FromStr;

/// The date after which a deprecated version may stop being served: a
/// calendar date written `YYYY-MM-DD` (ISO 8601 extended, proleptic
/// Gregorian, no time or zone). Dates order chronologically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sunset {
    year: u16,
    month: u8,
    day: u8,
}

/// Why a string or numbers are not a [`Sunset`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SunsetError {
    /// Not `YYYY-MM-DD` (four digits, dash, two digits, dash, two digits).
    #[error("a sunset date must look like YYYY-MM-DD, got {0:?}")]
    Shape(String),
    /// Year 0000 (ISO 8601 allows it only by agreement; 0001 is the first).
    #[error("a sunset year must be 0001 to 9999")]
    Year,
    /// The month is not 01 to 12.
    #[error("month {0:02} does not exist")]
    Month(u8),
    /// The day does not exist in that month (leap years counted).
    #[error("{year:04}-{month:02} has no day {day:02}")]
    Day {
        /// The year.
        year: u16,
        /// The month.
        month: u8,
        /// The day that does not exist.
        day: u8,
    },
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Sunset {
    /// The date `year-month-day`, if it exists.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, SunsetError> {
        if !(1..=9999).contains(&year) {
            return Err(SunsetError::Year);
        }
        if !(1..=12).contains(&month) {
            return Err(SunsetError::Month(month));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(SunsetError::Day { year, month, day });
        }
        Ok(Sunset { year, month, day })
    }

    /// The year, 1 to 9999.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    pub fn day(&self) -> u8 {
        self.day
    }
}

impl FromStr for Sunset {
    type Err = SunsetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
            return Err(SunsetError::Shape(s.to_string()));
        }
        // All ASCII digits, so these parse.
        let num = |r: std::ops::Range<usize>| s[r].parse::<u16>().unwrap_or(0);
        Sunset::new(num(0..4), num(5..7) as u8, num(8..10) as u8)
    }
}

impl fmt::Display for Sunset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A schema version that is still served but going away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Deprecation {
    /// The announced sunset. A Playhouse server always names one; `None`
    /// only when a `Welcome` says "deprecated" with no (or an unreadable)
    /// date.
    pub sunset: Option<Sunset>,
}

impl Deprecation {
    /// Deprecated, to be served until `sunset`.
    pub fn until(sunset: Sunset) -> Self {
        Deprecation { sunset: Some(sunset) }
    }
}

impl Welcome {
    /// Whether the server deprecated the negotiated version, and its sunset
    /// (`Welcome.deprecated` and `Welcome.sunset`).
    pub fn deprecation(&self) -> Option<Deprecation> {
        self.deprecated.then(|| Deprecation { sunset: self.sunset.parse().ok() })
    }

    /// Sets `deprecated` and `sunset` from `deprecation` (`None`: the
    /// version is not deprecated, both stay at their defaults).
    pub fn with_deprecation(mut self, deprecation: Option<&Deprecation>) -> Self {
        self.deprecated = deprecation.is_some();
        self.sunset = deprecation.and_then(|d| d.sunset).map(|s| s.to_string()).unwrap_or_default();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Codec;
    use proptest::prelude::*;

    #[test]
    fn valid_dates_parse_and_print_back() {
        for s in ["2027-06-30", "2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31"] {
            assert_eq!(s.parse::<Sunset>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn bad_dates_are_typed_errors() {
        let err = |s: &str| s.parse::<Sunset>().unwrap_err();
        for shape in ["", "2027-6-30", "2027/06/30", "27-06-30", "2027-06-30T00:00", "２０２７-06-30", "+2027-06-3"]
        {
            assert!(matches!(err(shape), SunsetError::Shape(_)), "{shape}");
        }
        assert_eq!(err("0000-01-01"), SunsetError::Year);
        assert_eq!(err("2027-13-01"), SunsetError::Month(13));
        assert_eq!(err("2027-00-01"), SunsetError::Month(0));
        assert_eq!(err("2027-02-29"), SunsetError::Day { year: 2027, month: 2, day: 29 });
        assert_eq!(err("1900-02-29"), SunsetError::Day { year: 1900, month: 2, day: 29 });
        assert_eq!(err("2027-04-31"), SunsetError::Day { year: 2027, month: 4, day: 31 });
        assert_eq!(err("2027-01-00"), SunsetError::Day { year: 2027, month: 1, day: 0 });
        assert_eq!(err("2027-13-01").to_string(), "month 13 does not exist");
    }

    #[test]
    fn sunsets_order_by_date() {
        let d = |s: &str| s.parse::<Sunset>().unwrap();
        assert!(d("2026-12-31") < d("2027-01-01"));
        assert!(d("2027-01-31") < d("2027-02-01"));
    }

    #[test]
    fn welcome_carries_a_deprecation_in_both_codecs() {
        let sunset: Sunset = "2027-06-30".parse().unwrap();
        let deprecated = Welcome { protocol: "arena.v1.msgpack".into(), ..Default::default() }
            .with_deprecation(Some(&Deprecation::until(sunset)));
        assert!(deprecated.deprecated);
        assert_eq!(deprecated.sunset, "2027-06-30");
        let current = Welcome::default().with_deprecation(None);
        assert!(!current.deprecated && current.sunset.is_empty());
        for codec in [Codec::MsgPack, Codec::Proto] {
            let back: Welcome = codec.decode(&codec.encode_to_vec(&deprecated).unwrap()).unwrap();
            assert_eq!(back.deprecation(), Some(Deprecation::until(sunset)));
            let back: Welcome = codec.decode(&codec.encode_to_vec(&current).unwrap()).unwrap();
            assert_eq!(back.deprecation(), None);
        }
    }

    #[test]
    fn a_welcome_from_an_older_server_is_not_deprecated() {
        // A MessagePack Welcome without the new keys (serde(default)).
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct OldWelcome {
            session: String,
            resume_token: String,
            server_time: u64,
            protocol: String,
        }
        let old = OldWelcome { session: "s".into(), resume_token: "t".into(), server_time: 1, protocol: "p".into() };
        let bytes = rmp_serde::to_vec_named(&old).unwrap();
        let w: Welcome = Codec::MsgPack.decode(&bytes).unwrap();
        assert_eq!((w.session.as_str(), w.deprecation()), ("s", None));
    }

    #[test]
    fn deprecated_without_a_readable_date_is_still_deprecated() {
        let w = Welcome { deprecated: true, sunset: "soon".into(), ..Default::default() };
        assert_eq!(w.deprecation(), Some(Deprecation { sunset: None }));
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_round_trips(s in ".{0,12}") {
            if let Ok(d) = s.parse::<Sunset>() {
                prop_assert_eq!(d.to_string(), s);
            }
        }

        #[test]
        fn every_real_date_round_trips(year in 1u16..=9999, month in 1u8..=12, day in 1u8..=31) {
            match Sunset::new(year, month, day) {
                Ok(d) => prop_assert_eq!(d.to_string().parse::<Sunset>().unwrap(), d),
                Err(e) => prop_assert!(matches!(e, SunsetError::Day { .. }), "{}", e),
            }
        }
    }
}
