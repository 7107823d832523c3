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
    /// Accepts the stored names and the spellings list owners use
    /// ("home isolation", "Care Center", "public", "HI", "CCC" …).
    fn from_str(s: &str) -> Result<Self, String> {
        let key: String = s
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '_' })
            .collect();
        let category = match key.as_str() {
            "home_isolation" | "homeisolation" | "home" | "hi" | "isolation" => {
                Category::HomeIsolation
            }
            "care_centre" | "care_center" | "carecentre" | "carecenter" | "ccc"
            | "covid_care_centre" => Category::CareCentre,
            "general_public" | "general" | "public" | "gp" | "" => Category::GeneralPublic,
            _ => {
                return Err(format!(
                    "unknown category {s:?} (home_isolation, care_centre or general_public)"
                ))
            }
        };
        Ok(category)
    }
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
    fn from_str(s: &str) -> Result<Self, String> {
        let key = s.trim().to_lowercase().replace([' ', '-'], "_");
        RiskFlag::ALL
            .into_iter()
            .find(|f| f.name() == key)
            .ok_or_else(|| {
                format!(
                    "unknown risk flag {s:?} (age_over_60, comorbidity, pregnant or lives_alone)"
                )
            })
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
    fn follow_up_last_day_is_inclusive() {
        let f = FollowUp {
            start: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
            days: 14,
        };
        assert_eq!(f.last_day(), NaiveDate::from_ymd_opt(2026, 12, 11).unwrap());
    }
}
