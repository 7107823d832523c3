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
        enlarge_regex_cache();
        let number = phonenumber::parse(Some(region.0), raw)
            .map_err(|e| PhoneError::Unparseable(e.to_string()))?;
        if !is_valid(&number) {
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

/// `phonenumber` matches numbers against its metadata's regular expressions,
/// compiled on demand into a shared cache of 100. Indian numbers alone use
/// more than that, so the cache thrashed and every number recompiled
/// expressions (about 20 µs a number). A larger cache keeps them all.
fn enlarge_regex_cache() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let cache = phonenumber::metadata::DATABASE.cache();
        let mut cache = cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *cache = regex_cache::RegexCache::new(4096);
    });
}

/// `phonenumber::is_valid`, decided the same way but with the metadata's
/// patterns compiled once per country code into plain regular expressions.
///
/// The crate looks every pattern up in its shared cache by its source text on
/// each use, hashing pattern strings of up to a few kilobytes about ten times a
/// number, under one lock; that capped an import near 30,000 rows a second on
/// one core and made more cores slower. Its rule is: the national number
/// matches the country's general pattern and at least one number-type pattern,
/// where a pattern matches when the length is one it allows (if it lists any)
/// and a match starts at the first digit. Codes shared by several regions
/// (+1, +7, +44 …) need the crate's region choice and go to the crate itself.
/// A property test checks this against `phonenumber::is_valid`.
fn is_valid(number: &phonenumber::PhoneNumber) -> bool {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static COMPILED: OnceLock<Mutex<HashMap<u16, Option<Arc<CountryPatterns>>>>> = OnceLock::new();

    let code = number.code().value();
    let patterns = {
        let mut compiled = COMPILED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        compiled
            .entry(code)
            .or_insert_with(|| CountryPatterns::compile(code).map(Arc::new))
            .clone()
    };
    match patterns {
        Some(patterns) => patterns.is_valid(&number.national().to_string()),
        None => number.is_valid(),
    }
}

struct Pattern {
    regex: regex::Regex,
    lengths: Vec<u16>,
}

impl Pattern {
    fn compile(descriptor: &phonenumber::metadata::Descriptor) -> Option<Pattern> {
        // Anchored at the start: "a match starts at the first digit", without
        // searching the rest of the number for the leftmost match.
        let anchored = format!("^(?:{})", descriptor.national_number().as_str());
        let regex = regex::RegexBuilder::new(&anchored)
            .ignore_whitespace(true)
            .build()
            .ok()?;
        Some(Pattern {
            regex,
            lengths: descriptor.possible_length().to_vec(),
        })
    }

    fn is_match(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16)))
            && self.regex.is_match(national)
    }
}

/// One country's patterns: the general one and every number type's.
struct CountryPatterns {
    general: Pattern,
    types: Vec<Pattern>,
}

impl CountryPatterns {
    /// `None` when the code is shared by several regions or a pattern does not compile.
    fn compile(code: u16) -> Option<CountryPatterns> {
        let database = &*phonenumber::metadata::DATABASE;
        let regions = database.region(&code)?;
        let [region] = regions.as_slice() else {
            return None;
        };
        if *region == "001" {
            return None;
        }
        let d = database.by_id(*region)?.descriptors();
        let general = Pattern::compile(d.general())?;
        let types = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ]
        .into_iter()
        .flatten()
        .map(Pattern::compile)
        .collect::<Option<Vec<_>>>()?;
        Some(CountryPatterns { general, types })
    }

    fn is_valid(&self, national: &str) -> bool {
        self.general.is_match(national) && self.types.iter().any(|t| t.is_match(national))
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

    proptest::proptest! {
        #[test]
        fn validity_is_decided_exactly_as_the_phonenumber_crate_decides_it(
            region in proptest::sample::select(vec!["IN", "GB", "DE", "FR", "BR", "SG", "AE", "NP", "BD", "LK", "US", "CN"]),
            digits in "[0-9]{3,14}",
        ) {
            let region: Region = region.parse().unwrap();
            if let Ok(number) = phonenumber::parse(Some(region.0), &digits) {
                proptest::prop_assert_eq!(is_valid(&number), number.is_valid(), "{}", digits);
            }
        }

        #[test]
        fn indian_mobile_ranges_agree_with_the_crate(n in 6_000_000_000u64..10_000_000_000) {
            let number = phonenumber::parse(Some(phonenumber::country::Id::IN), n.to_string()).unwrap();
            proptest::prop_assert_eq!(is_valid(&number), number.is_valid());
        }
    }

    #[test]
    fn regions_are_read_case_insensitively() {
        assert!("in".parse::<Region>().is_ok());
        assert!("XX".parse::<Region>().is_err());
    }
}
