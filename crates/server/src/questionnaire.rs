//! The triage questionnaire an agent fills in during a call: questions with
//! Hindi and English labels, and the check that answers fit them (a wrong
//! answer names the question and says why).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The wellness check shipped with Sanjeevani (`config/questionnaires/wellness.toml`).
pub const WELLNESS: &str = include_str!("../../../config/questionnaires/wellness.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Label {
    pub en: String,
    pub hi: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    YesNo,
    Number,
    Choice,
    Multi,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Choice {
    pub id: String,
    pub en: String,
    pub hi: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub label: Label,
    #[serde(default)]
    pub choices: Vec<Choice>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Questionnaire {
    pub id: String,
    pub title: Label,
    pub questions: Vec<Question>,
}

impl Questionnaire {
    pub fn wellness() -> Questionnaire {
        toml::from_str(WELLNESS).expect("the shipped questionnaire parses")
    }

    /// Checks `answers` (an object keyed by question id; every question optional).
    pub fn check(&self, answers: &Value) -> Result<(), String> {
        let Some(answers) = answers.as_object() else {
            return Err("answers must be an object keyed by question id".into());
        };
        for (id, answer) in answers {
            let Some(q) = self.questions.iter().find(|q| &q.id == id) else {
                return Err(format!("answers.{id}: no such question"));
            };
            if answer.is_null() {
                continue;
            }
            let has_choice = |v: &Value| {
                v.as_str()
                    .is_some_and(|s| q.choices.iter().any(|c| c.id == s))
            };
            let ok = match q.kind {
                QuestionKind::YesNo => answer.is_boolean(),
                QuestionKind::Number => answer.as_f64().is_some_and(|n| {
                    q.min.is_none_or(|min| n >= min) && q.max.is_none_or(|max| n <= max)
                }),
                QuestionKind::Choice => has_choice(answer),
                QuestionKind::Multi => answer
                    .as_array()
                    .is_some_and(|items| items.iter().all(has_choice)),
            };
            if !ok {
                let expected = match q.kind {
                    QuestionKind::YesNo => "true or false".to_string(),
                    QuestionKind::Number => format!(
                        "a number from {} to {}",
                        q.min.unwrap_or(f64::MIN),
                        q.max.unwrap_or(f64::MAX)
                    ),
                    QuestionKind::Choice | QuestionKind::Multi => {
                        let ids: Vec<&str> = q.choices.iter().map(|c| c.id.as_str()).collect();
                        let one = if q.kind == QuestionKind::Choice {
                            "one of"
                        } else {
                            "a list of"
                        };
                        format!("{one} {}", ids.join(", "))
                    }
                };
                return Err(format!("answers.{id}: expected {expected}, got {answer}"));
            }
        }
        Ok(())
    }

    /// Urgent when the answers show danger signs: SpO2 below 94 or breathlessness.
    pub fn looks_urgent(answers: &Value) -> bool {
        answers.get("breathless").and_then(Value::as_bool) == Some(true)
            || answers
                .get("spo2")
                .and_then(Value::as_f64)
                .is_some_and(|s| s < 94.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_checked_against_the_questions() {
        let q = Questionnaire::wellness();
        assert!(q
            .check(&json!({"fever": true, "spo2": 92, "needs": ["food"], "feeling": "unwell"}))
            .is_ok());
        let err = q.check(&json!({"spo2": 120})).unwrap_err();
        assert!(
            err.contains("answers.spo2") && err.contains("50 to 100"),
            "{err}"
        );
        assert!(q
            .check(&json!({"fever": "yes"}))
            .unwrap_err()
            .contains("answers.fever"));
        assert!(q
            .check(&json!({"needs": ["car"]}))
            .unwrap_err()
            .contains("medicine"));
        assert!(q
            .check(&json!({"pulse": 1}))
            .unwrap_err()
            .contains("no such question"));
        assert!(q.check(&json!([1])).is_err());
    }

    #[test]
    fn danger_signs_are_urgent() {
        assert!(Questionnaire::looks_urgent(&json!({"spo2": 91})));
        assert!(Questionnaire::looks_urgent(&json!({"breathless": true})));
        assert!(!Questionnaire::looks_urgent(
            &json!({"spo2": 97, "fever": true})
        ));
    }
}
