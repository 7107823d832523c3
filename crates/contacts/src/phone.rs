//! Phone numbers: normalised to E.164 with the `phonenumber` crate, masked for logs.

use phonenumber::country;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("empty")]
    Empty,
    #[error("contains letters ({0:?})")]
    Letters(String),
    #[error("cannot be read as a phone number ({0})")]
    Unparseable(String),
    #[error("not a valid number for its country")]
    Invalid,
}

/// The region used for numbers written without a country code, e.g. `IN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(country::Id);

impl Default for Region {
    fn default() -> Self {
        Region(country::Id::IN)
    }
}

impl FromStr for Region {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        country::Id::from_str(&s.to_ascii_uppercase())
            .map(Region)
            .map_err(|_| {
                format!("unknown region {s:?} (expected a two-letter country code such as IN)")
            })
    }
}

/// A valid phone number in E.164 form (`+919876543210`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Reads a number as people write it: spaces, dashes, brackets and a leading
    /// `+`, `00` or trunk `0` are fine; letters are refused before parsing so that
    /// vanity numbers and typos like `98765O4321` never turn into a real number.
    pub fn parse(raw: &str, region: Region) -> Result<Phone, PhoneError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(PhoneError::Empty);
        }
        if raw.chars().any(char::is_alphabetic) {
            return Err(PhoneError::Letters(raw.to_string()));
        }
        let number = phonenumber::parse(Some(region.0), raw)
            .map_err(|e| PhoneError::Unparseable(e.to_string()))?;
        if !number.is_valid() {
            return Err(PhoneError::Invalid);
        }
        Ok(Phone(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as one integer (E.164 has at most 15 digits), for compact sets.
    pub fn key(&self) -> u64 {
        self.0[1..].parse().expect("E.164 digits")
    }

    /// The number for logs: country code and the last two digits only.
    pub fn masked(&self) -> Masked<'_> {
        Masked(&self.0)
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;
    /// Accepts only numbers already in E.164 form (as stored).
    fn try_from(s: String) -> Result<Self, PhoneError> {
        let phone = Phone::parse(&s, Region::default())?;
        if phone.0 != s {
            return Err(PhoneError::Unparseable(format!(
                "not in E.164 form: {}",
                mask_str(&s)
            )));
        }
        Ok(phone)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

impl fmt::Display for Phone {
    /// Displays masked, so that a number put into a log line by accident stays private.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.masked().fmt(f)
    }
}

/// A phone number shown with all but its country code prefix and last two digits hidden.
pub struct Masked<'a>(&'a str);

impl fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_str(self.0))
    }
}

/// Masks any string that may hold a phone number: keeps `+` and up to three
/// leading and two trailing characters when the string is long enough.
pub fn mask_str(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let head = if chars[0] == '+' { 3 } else { 2 };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < head || i >= chars.len() - 2 {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<String, PhoneError> {
        Phone::parse(s, Region::default()).map(String::from)
    }

    #[test]
    fn indian_numbers_in_every_usual_spelling_become_e164() {
        for raw in [
            "98765 43210",
            "+91 98765-43210",
            "09876543210",
            "0091 9876543210",
            "(+91) 98765 43210",
        ] {
            assert_eq!(parse(raw).as_deref(), Ok("+919876543210"), "{raw}");
        }
    }

    #[test]
    fn foreign_numbers_keep_their_country() {
        assert_eq!(parse("+44 20 7946 0018").as_deref(), Ok("+442079460018"));
    }

    #[test]
    fn letters_empty_and_impossible_numbers_are_refused_with_a_reason() {
        assert!(matches!(parse("98765O4321"), Err(PhoneError::Letters(_))));
        assert!(matches!(
            parse("1-800-FLOWERS"),
            Err(PhoneError::Letters(_))
        ));
        assert_eq!(parse("  "), Err(PhoneError::Empty));
        assert_eq!(parse("12345"), Err(PhoneError::Invalid));
        assert!(parse("+").is_err());
    }

    #[test]
    fn masking_hides_the_subscriber_part() {
        let p = Phone::parse("9876543210", Region::default()).unwrap();
        assert_eq!(p.to_string(), "+91********10");
        assert_eq!(mask_str("12345"), "*****");
        assert_eq!(p.key(), 919876543210);
    }

    #[test]
    fn regions_are_read_case_insensitively() {
        assert!("in".parse::<Region>().is_ok());
        assert!("XX".parse::<Region>().is_err());
    }
}
