//! A contact as imported: who to call, why, and how urgently.

use crate::Phone;
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a person is on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    HomeIsolation,
    CareCentre,
    #[default]
    GeneralPublic,
}

impl Category {
    pub const ALL: [Category; 3] = [
        Category::HomeIsolation,
        Category::CareCentre,
        Category::GeneralPublic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::HomeIsolation => "home_isolation",
            Category::CareCentre => "care_centre",
            Category::GeneralPublic => "general_public",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Category {
    type Err = String;
    /// Accepts the stored names and the words list owners use, in English
    /// and Hindi ("home isolation", "in home isolation", "Care Center",
    /// "admitted to a COVID centre", "CCC", "होम आइसोलेशन", "कोविड सेंटर",
    /// "public", "आम जनता" …).
    fn from_str(s: &str) -> Result<Self, String> {
        let key = word_key(s);
        let category = match key.as_str() {
            "home isolation"
            | "homeisolation"
            | "home"
            | "hi"
            | "isolation"
            | "in home isolation"
            | "home isolated"
            | "home quarantine"
            | "isolating at home"
            | "होम आइसोलेशन"
            | "होम आइसोलेशन में"
            | "घर पर आइसोलेशन"
            | "गृह पृथक्करण"
            | "होम क्वारंटाइन" => Category::HomeIsolation,
            "care centre"
            | "care center"
            | "carecentre"
            | "carecenter"
            | "ccc"
            | "covid care centre"
            | "covid care center"
            | "covid centre"
            | "covid center"
            | "admitted"
            | "admitted to a covid centre"
            | "admitted to a covid center"
            | "admitted to covid centre"
            | "admitted to covid center"
            | "कोविड सेंटर"
            | "कोविड केयर सेंटर"
            | "कोविड सेंटर में भर्ती"
            | "भर्ती" => Category::CareCentre,
            "general public" | "general" | "public" | "gp" | "" | "आम जनता" | "सामान्य" => {
                Category::GeneralPublic
            }
            _ => {
                return Err(format!(
                    "unknown category {s:?} (home_isolation, care_centre or general_public; \
                     a list's own word goes under [values.category] in the mapping)"
                ))
            }
        };
        Ok(category)
    }
}

/// A word as compared: lower case, punctuation and `_` as single spaces,
/// Devanagari without its nukta and with its full stop.
pub(crate) fn word_key(s: &str) -> String {
    s.to_lowercase()
        .replace('\u{093c}', "")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || is_devanagari_sign(c) {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Vowel signs and the virama, which are marks rather than letters.
fn is_devanagari_sign(c: char) -> bool {
    ('\u{0900}'..='\u{0903}').contains(&c)
        || ('\u{093a}'..='\u{094f}').contains(&c)
        || ('\u{0951}'..='\u{0957}').contains(&c)
        || ('\u{0962}'..='\u{0963}').contains(&c)
}

/// A reason to call someone before others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskFlag {
    AgeOver60,
    Comorbidity,
    Pregnant,
    LivesAlone,
}

impl RiskFlag {
    pub const ALL: [RiskFlag; 4] = [
        RiskFlag::AgeOver60,
        RiskFlag::Comorbidity,
        RiskFlag::Pregnant,
        RiskFlag::LivesAlone,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RiskFlag::AgeOver60 => "age_over_60",
            RiskFlag::Comorbidity => "comorbidity",
            RiskFlag::Pregnant => "pregnant",
            RiskFlag::LivesAlone => "lives_alone",
        }
    }
}

impl FromStr for RiskFlag {
    type Err = String;
    /// The stored names and their usual words, in English and Hindi.
    fn from_str(s: &str) -> Result<Self, String> {
        let flag = match word_key(s).as_str() {
            "age over 60"
            | "over 60"
            | "elderly"
            | "senior citizen"
            | "60 से अधिक"
            | "बुज़ुर्ग"
            | "बुजुर्ग"
            | "वरिष्ठ नागरिक" => RiskFlag::AgeOver60,
            "comorbidity" | "comorbid" | "co morbidity" | "सह रुग्णता" | "अन्य बीमारी" => {
                RiskFlag::Comorbidity
            }
            "pregnant" | "pregnancy" | "गर्भवती" => RiskFlag::Pregnant,
            "lives alone" | "living alone" | "alone" | "अकेले रहते हैं" | "अकेले" => {
                RiskFlag::LivesAlone
            }
            _ => {
                return Err(format!(
                    "unknown risk flag {s:?} (age_over_60, comorbidity, pregnant or lives_alone; \
                     a list's own word goes under [values.risk] in the mapping)"
                ))
            }
        };
        Ok(flag)
    }
}

/// Daily follow-up: due once a day for `days` days from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub start: NaiveDate,
    pub days: u16,
}

impl FollowUp {
    /// The last day on which the contact is due (inclusive).
    pub fn last_day(&self) -> NaiveDate {
        self.start + chrono::Days::new(u64::from(self.days.max(1)) - 1)
    }
}

/// A contact ready to be stored, built from one good CSV row or one API request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewContact {
    pub phone: Phone,
    /// In any script; Devanagari names are the common case.
    pub name: String,
    /// A language tag such as `hi` or `en`.
    pub language: Option<String>,
    pub category: Category,
    pub risk: Vec<RiskFlag>,
    pub follow_up: Option<FollowUp>,
    pub district: Option<String>,
    pub block: Option<String>,
    /// The contact's own time zone when it differs from the campaign's.
    pub timezone: Option<Tz>,
    /// Columns the mapping did not name, kept as they came.
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

impl NewContact {
    /// Higher is called first: every risk flag counts, care-centre and
    /// home-isolation patients come before the general public.
    pub fn priority(&self) -> i32 {
        let category = match self.category {
            Category::CareCentre | Category::HomeIsolation => 1,
            Category::GeneralPublic => 0,
        };
        10 * self.risk.len() as i32 + category
    }

    pub fn is_high_risk(&self) -> bool {
        !self.risk.is_empty()
    }
}

/// Risk flags as stored: comma-separated names.
pub fn risk_to_text(risk: &[RiskFlag]) -> String {
    risk.iter().map(|f| f.name()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_read_the_usual_spellings() {
        assert_eq!("Home Isolation".parse(), Ok(Category::HomeIsolation));
        assert_eq!("care-center".parse(), Ok(Category::CareCentre));
        assert_eq!("".parse(), Ok(Category::GeneralPublic));
        assert!("hospital".parse::<Category>().is_err());
    }

    #[test]
    fn the_seed_centres_own_words_in_english_and_hindi_are_categories() {
        for (word, category) in [
            ("in home isolation", Category::HomeIsolation),
            ("Admitted to a COVID centre", Category::CareCentre),
            ("होम आइसोलेशन", Category::HomeIsolation),
            ("कोविड सेंटर", Category::CareCentre),
            ("कोविड सेंटर में भर्ती", Category::CareCentre),
            ("आम जनता", Category::GeneralPublic),
        ] {
            assert_eq!(word.parse(), Ok(category), "{word}");
        }
        assert_eq!("बुज़ुर्ग".parse(), Ok(RiskFlag::AgeOver60));
        assert_eq!(
            "बुजुर्ग".parse(),
            Ok(RiskFlag::AgeOver60),
            "typed without the nukta"
        );
        assert_eq!("Lives-Alone".parse(), Ok(RiskFlag::LivesAlone));
        assert!("diabetic".parse::<RiskFlag>().is_err());
    }

    #[test]
    fn follow_up_last_day_is_inclusive() {
        let f = FollowUp {
            start: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
            days: 14,
        };
        assert_eq!(f.last_day(), NaiveDate::from_ymd_opt(2026, 12, 11).unwrap());
    }
}
