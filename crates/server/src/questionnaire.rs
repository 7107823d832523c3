//! The triage questionnaire an agent fills in during a call: questions with
//! Hindi and English labels, the check that answers fit them (a wrong
//! answer names the question and says why), and the escalation rules over
//! the answers and the contact's risk flags that say when a call is urgent
//! or should go to the medical desk.

use sanjeevani_contacts::RiskFlag;
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
    /// Answered before a call is saved as a conversation with the person
    /// (`well`, `symptoms_reported`).
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Questionnaire {
    pub id: String,
    pub title: Label,
    pub questions: Vec<Question>,
    /// Escalation rules; the most urgent rule that holds decides.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleUrgency {
    Urgent,
    Routine,
}

/// When every condition holds, the call should be escalated with this urgency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub urgency: RuleUrgency,
    pub reason: Label,
    pub when: Vec<Condition>,
}

/// One test: on an answer (`is` for yes/no, `below`/`above` for numbers,
/// `equals` for a choice, `includes` for a multiple choice), or a risk flag
/// of the contact (`age_over_60`, `comorbidity`, `pregnant`, `lives_alone`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub answer: Option<String>,
    pub risk: Option<String>,
    pub is: Option<bool>,
    pub below: Option<f64>,
    pub above: Option<f64>,
    pub equals: Option<String>,
    pub includes: Option<String>,
}

impl Condition {
    fn holds(&self, answers: &Value, risk: &[RiskFlag]) -> bool {
        if let Some(flag) = &self.risk {
            return risk.iter().any(|r| r.name() == flag);
        }
        let Some(answer) = self.answer.as_ref().and_then(|id| answers.get(id)) else {
            return false;
        };
        let number = answer.as_f64();
        self.is.is_none_or(|is| answer.as_bool() == Some(is))
            && self.below.is_none_or(|b| number.is_some_and(|n| n < b))
            && self.above.is_none_or(|a| number.is_some_and(|n| n > a))
            && self
                .equals
                .as_ref()
                .is_none_or(|e| answer.as_str() == Some(e.as_str()))
            && self.includes.as_ref().is_none_or(|i| {
                answer
                    .as_array()
                    .is_some_and(|items| items.iter().any(|v| v.as_str() == Some(i.as_str())))
            })
    }
}

impl Questionnaire {
    pub fn wellness() -> Questionnaire {
        Questionnaire::parse(WELLNESS, "config/questionnaires/wellness.toml")
            .expect("the shipped questionnaire is valid")
    }

    /// Reads a questionnaire and checks its rules against its questions.
    pub fn parse(text: &str, path: &str) -> Result<Questionnaire, String> {
        let q: Questionnaire = toml::from_str(text).map_err(|e| format!("{path}: {e}"))?;
        for (i, rule) in q.rules.iter().enumerate() {
            if rule.when.is_empty() {
                return Err(format!("{path}: rules[{i}]: `when` has no condition"));
            }
            for (j, c) in rule.when.iter().enumerate() {
                q.check_condition(c)
                    .map_err(|e| format!("{path}: rules[{i}].when[{j}]: {e}"))?;
            }
        }
        Ok(q)
    }

    fn check_condition(&self, c: &Condition) -> Result<(), String> {
        let tests = [
            ("is", c.is.is_some()),
            ("below", c.below.is_some()),
            ("above", c.above.is_some()),
            ("equals", c.equals.is_some()),
            ("includes", c.includes.is_some()),
        ];
        let given: Vec<&str> = tests.iter().filter(|t| t.1).map(|t| t.0).collect();
        match (&c.answer, &c.risk) {
            (None, Some(flag)) => {
                if RiskFlag::ALL.iter().all(|r| r.name() != flag) {
                    return Err(format!("no risk flag {flag:?}"));
                }
                if !given.is_empty() {
                    return Err(format!("a risk flag takes no {}", given.join(", ")));
                }
                Ok(())
            }
            (Some(id), None) => {
                let q = self
                    .questions
                    .iter()
                    .find(|q| &q.id == id)
                    .ok_or_else(|| format!("no such question {id:?}"))?;
                let allowed: &[&str] = match q.kind {
                    QuestionKind::YesNo => &["is"],
                    QuestionKind::Number => &["below", "above"],
                    QuestionKind::Choice => &["equals"],
                    QuestionKind::Multi => &["includes"],
                };
                if given.is_empty() || given.iter().any(|t| !allowed.contains(t)) {
                    return Err(format!(
                        "question {id:?} is tested with {}",
                        allowed.join(" or ")
                    ));
                }
                let choice = c.equals.as_ref().or(c.includes.as_ref());
                if let Some(choice) = choice {
                    if q.choices.iter().all(|ch| &ch.id != choice) {
                        return Err(format!("question {id:?} has no choice {choice:?}"));
                    }
                }
                Ok(())
            }
            _ => Err("give exactly one of `answer` and `risk`".into()),
        }
    }

    /// The most urgent rule that holds for these answers and risk flags.
    pub fn triage(&self, answers: &Value, risk: &[RiskFlag]) -> Option<&Rule> {
        self.rules
            .iter()
            .filter(|rule| rule.when.iter().all(|c| c.holds(answers, risk)))
            .min_by_key(|rule| rule.urgency)
    }

    /// The required questions `answers` leaves unanswered, in the questionnaire's order.
    pub fn unanswered(&self, answers: &Value) -> Vec<&str> {
        self.questions
            .iter()
            .filter(|q| q.required && answers.get(&q.id).is_none_or(Value::is_null))
            .map(|q| q.id.as_str())
            .collect()
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
    fn the_required_questions_left_are_named_in_order() {
        let q = Questionnaire::wellness();
        assert_eq!(q.unanswered(&json!({})), ["feeling", "fever", "breathless"]);
        assert_eq!(
            q.unanswered(&json!({"fever": false, "feeling": null})),
            ["feeling", "breathless"]
        );
        let all = json!({"feeling": "well", "fever": false, "breathless": false});
        assert!(q.unanswered(&all).is_empty());
    }

    #[test]
    fn the_shipped_rules_find_danger_signs() {
        let q = Questionnaire::wellness();
        let urgency =
            |answers: Value, risk: &[RiskFlag]| q.triage(&answers, risk).map(|r| r.urgency);
        assert_eq!(urgency(json!({"spo2": 91}), &[]), Some(RuleUrgency::Urgent));
        assert_eq!(urgency(json!({"spo2": 94}), &[]), None);
        assert_eq!(
            urgency(json!({"breathless": true}), &[]),
            Some(RuleUrgency::Urgent)
        );
        // Fever alone is not urgent; over 60 with fever is.
        assert_eq!(urgency(json!({"fever": true, "spo2": 97}), &[]), None);
        assert_eq!(
            urgency(json!({"fever": true}), &[RiskFlag::AgeOver60]),
            Some(RuleUrgency::Urgent)
        );
        assert_eq!(
            urgency(json!({"needs": ["food", "doctor"]}), &[]),
            Some(RuleUrgency::Routine)
        );
        assert_eq!(
            urgency(json!({"fever": true, "fever_days": 5}), &[]),
            Some(RuleUrgency::Routine)
        );
        // The most urgent rule wins, with its reason in both languages.
        let rule = q
            .triage(&json!({"needs": ["doctor"], "spo2": 90}), &[])
            .unwrap();
        assert_eq!(rule.urgency, RuleUrgency::Urgent);
        assert!(rule.reason.en.contains("94") && !rule.reason.hi.is_empty());
        assert_eq!(urgency(json!({}), &[RiskFlag::AgeOver60]), None);
    }

    #[test]
    fn bad_rules_are_named() {
        let with_rule = |rule: &str| {
            format!("{WELLNESS}\n[[rules]]\nurgency = \"urgent\"\nreason = {{ en = \"x\", hi = \"x\" }}\n{rule}\n")
        };
        let cases = [
            (
                "when = [{ answer = \"pulse\", above = 100 }]",
                "no such question \"pulse\"",
            ),
            (
                "when = [{ answer = \"spo2\", is = true }]",
                "tested with below or above",
            ),
            (
                "when = [{ answer = \"needs\", includes = \"car\" }]",
                "no choice \"car\"",
            ),
            ("when = [{ risk = \"tall\" }]", "no risk flag \"tall\""),
            ("when = [{ risk = \"pregnant\", is = true }]", "takes no is"),
            (
                "when = [{ answer = \"fever\", risk = \"pregnant\", is = true }]",
                "exactly one of",
            ),
            ("when = []", "no condition"),
        ];
        let shipped = Questionnaire::wellness().rules.len();
        for (rule, expected) in cases {
            let err = Questionnaire::parse(&with_rule(rule), "w.toml").unwrap_err();
            assert!(err.contains(expected), "{rule}: {err}");
            assert!(err.contains(&format!("rules[{shipped}]")), "{err}");
        }
    }
}
