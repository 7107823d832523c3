//! When a contact is due: calling windows in the contact's local time, retry
//! rules per outcome, daily follow-up, and the unreachable-high-risk alert.
//!
//! Everything here is a pure function of its inputs and the time passed in;
//! the store applies the results.

use crate::FollowUp;
use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How one attempt to reach a contact ended, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// Talked to an agent.
    Completed,
    /// Answered, but no agent in time (information message played) or the person hung up waiting.
    Abandoned,
    Busy,
    NoAnswer,
    Congestion,
    Invalid,
    Rejected,
    /// An answering machine picked up.
    Machine,
    /// The dialer stopped (crash or PBX loss) before the attempt ended.
    Interrupted,
    /// The dialer cancelled the call early, before its no-answer timeout,
    /// because agents left: the person was not given the time to answer.
    Withdrawn,
}

impl AttemptOutcome {
    pub const ALL: [AttemptOutcome; 10] = [
        AttemptOutcome::Completed,
        AttemptOutcome::Abandoned,
        AttemptOutcome::Busy,
        AttemptOutcome::NoAnswer,
        AttemptOutcome::Congestion,
        AttemptOutcome::Invalid,
        AttemptOutcome::Rejected,
        AttemptOutcome::Machine,
        AttemptOutcome::Interrupted,
        AttemptOutcome::Withdrawn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AttemptOutcome::Completed => "completed",
            AttemptOutcome::Abandoned => "abandoned",
            AttemptOutcome::Busy => "busy",
            AttemptOutcome::NoAnswer => "no_answer",
            AttemptOutcome::Congestion => "congestion",
            AttemptOutcome::Invalid => "invalid",
            AttemptOutcome::Rejected => "rejected",
            AttemptOutcome::Machine => "machine",
            AttemptOutcome::Interrupted => "interrupted",
            AttemptOutcome::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        AttemptOutcome::ALL.into_iter().find(|o| o.name() == s)
    }
}

impl From<sanjeevani_core::Outcome> for AttemptOutcome {
    fn from(o: sanjeevani_core::Outcome) -> Self {
        use sanjeevani_core::{FailCause, Outcome};
        match o {
            Outcome::Completed => AttemptOutcome::Completed,
            Outcome::Abandoned(_) => AttemptOutcome::Abandoned,
            Outcome::Failed(FailCause::Busy) => AttemptOutcome::Busy,
            Outcome::Failed(FailCause::NoAnswer) => AttemptOutcome::NoAnswer,
            Outcome::Failed(FailCause::Congestion) => AttemptOutcome::Congestion,
            Outcome::Failed(FailCause::Invalid) => AttemptOutcome::Invalid,
            Outcome::Failed(FailCause::Rejected) => AttemptOutcome::Rejected,
            Outcome::Failed(FailCause::Machine) => AttemptOutcome::Machine,
            Outcome::Withdrawn => AttemptOutcome::Withdrawn,
            Outcome::Interrupted | Outcome::NoContact => AttemptOutcome::Interrupted,
        }
    }
}

/// Hours in which a contact may be called, in the contact's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CallingWindow {
    /// `"24x7"`: urgent campaigns.
    Always(AlwaysOpen),
    /// `{ start = "08:00", end = "21:00" }`; `end` is exclusive.
    Daily { start: NaiveTime, end: NaiveTime },
}

/// The literal `"24x7"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlwaysOpen {
    #[serde(rename = "24x7")]
    TwentyFourSeven,
}

impl Default for CallingWindow {
    fn default() -> Self {
        CallingWindow::Daily {
            start: NaiveTime::from_hms_opt(8, 0, 0).expect("valid"),
            end: NaiveTime::from_hms_opt(21, 0, 0).expect("valid"),
        }
    }
}

impl CallingWindow {
    /// The first instant at or after `at` inside the window, in `tz`.
    pub fn next_open(&self, at: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let CallingWindow::Daily { start, end } = *self else {
            return at;
        };
        if start >= end {
            return at; // an empty or inverted window is refused by `ContactRules::validate`
        }
        let local = at.with_timezone(&tz);
        let time = local.time();
        if time >= start && time < end {
            return at;
        }
        let day = if time < start {
            local.date_naive()
        } else {
            local.date_naive() + Days::new(1)
        };
        local_instant(day, start, tz)
    }

    pub fn is_open(&self, at: DateTime<Utc>, tz: Tz) -> bool {
        self.next_open(at, tz) == at
    }
}

/// `day` at `time` in `tz`; in a daylight-saving gap, the first valid instant after it.
fn local_instant(day: NaiveDate, time: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let mut naive = day.and_time(time);
    // A gap is at most a few hours; step forward a quarter hour at a time.
    for _ in 0..16 {
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => naive += chrono::Duration::minutes(15),
        }
    }
    Utc.from_utc_datetime(&naive)
}

/// Start of `day` in `tz`, as an instant.
pub fn start_of_day(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    local_instant(day, NaiveTime::MIN, tz)
}

/// Seconds, as written in configuration.
mod seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

/// When to try again after each kind of failure, and when to stop (seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryRules {
    #[serde(with = "seconds")]
    pub busy: Duration,
    #[serde(with = "seconds")]
    pub no_answer: Duration,
    #[serde(with = "seconds")]
    pub congestion: Duration,
    #[serde(with = "seconds")]
    pub rejected: Duration,
    #[serde(with = "seconds")]
    pub machine: Duration,
    /// An abandoned person is called back with an agent reserved before dialing.
    #[serde(with = "seconds")]
    pub abandoned: Duration,
    #[serde(with = "seconds")]
    pub interrupted: Duration,
    /// A call withdrawn before its no-answer timeout (agents left).
    #[serde(with = "seconds")]
    pub withdrawn: Duration,
    pub max_per_day: u32,
    pub max_total: u32,
}

impl Default for RetryRules {
    fn default() -> Self {
        RetryRules {
            busy: Duration::from_secs(600),
            no_answer: Duration::from_secs(1800),
            congestion: Duration::from_secs(300),
            rejected: Duration::from_secs(3 * 3600),
            machine: Duration::from_secs(2 * 3600),
            abandoned: Duration::from_secs(600),
            interrupted: Duration::from_secs(60),
            withdrawn: Duration::from_secs(300),
            max_per_day: 4,
            max_total: 20,
        }
    }
}

impl RetryRules {
    fn delay(&self, outcome: AttemptOutcome) -> Duration {
        match outcome {
            AttemptOutcome::Busy => self.busy,
            AttemptOutcome::NoAnswer => self.no_answer,
            AttemptOutcome::Congestion => self.congestion,
            AttemptOutcome::Rejected => self.rejected,
            AttemptOutcome::Machine => self.machine,
            AttemptOutcome::Abandoned => self.abandoned,
            AttemptOutcome::Interrupted => self.interrupted,
            AttemptOutcome::Withdrawn => self.withdrawn,
            AttemptOutcome::Completed | AttemptOutcome::Invalid => Duration::ZERO,
        }
    }
}

/// A campaign's rules for choosing and re-trying contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactRules {
    pub window: CallingWindow,
    /// The campaign's time zone, used for contacts without their own.
    pub timezone: Tz,
    pub retry: RetryRules,
    /// A high-risk contact not reached after this many attempts in one day raises an alert.
    pub unreachable_alert_after: u32,
}

impl Default for ContactRules {
    fn default() -> Self {
        ContactRules {
            window: CallingWindow::default(),
            timezone: chrono_tz::Asia::Kolkata,
            retry: RetryRules::default(),
            unreachable_alert_after: 3,
        }
    }
}

impl ContactRules {
    /// Checks what serde cannot: names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        if let CallingWindow::Daily { start, end } = self.window {
            if start >= end {
                return Err(format!("window: start {start} must be before end {end}"));
            }
        }
        if self.retry.max_per_day == 0 || self.retry.max_total == 0 {
            return Err("retry: max_per_day and max_total must be at least 1".into());
        }
        Ok(())
    }
}

/// What is known about a contact's progress, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub attempts_total: u32,
    /// Attempts on `day` (the contact's local date of the last attempt).
    pub attempts_today: u32,
    pub failures_today: u32,
    pub day: Option<NaiveDate>,
}

/// Where a contact stands after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Dial again at this instant (already inside the calling window).
    Due {
        at: DateTime<Utc>,
        agent_required: bool,
    },
    Finished(Finish),
}

/// Why a contact needs no more calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// Reached (and, for follow-up, on every day of the period).
    Done,
    Invalid,
    /// Attempts used up without reaching the person.
    Exhausted,
    Discharged,
    DoNotCall,
}

impl Finish {
    pub fn name(self) -> &'static str {
        match self {
            Finish::Done => "done",
            Finish::Invalid => "invalid",
            Finish::Exhausted => "exhausted",
            Finish::Discharged => "discharged",
            Finish::DoNotCall => "do_not_call",
        }
    }
}

/// The decision after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub next: Next,
    pub progress: Progress,
    /// Raise the unreachable-high-risk alert (once per contact and day).
    pub alert_unreachable: bool,
}

/// The contact facts the rules need.
#[derive(Debug, Clone, Copy)]
pub struct ContactFacts {
    pub high_risk: bool,
    pub follow_up: Option<FollowUp>,
    pub timezone: Option<Tz>,
    /// A callback the person asked for during the attempt now ending: it
    /// stands, whatever the call's outcome or the follow-up plan says.
    pub callback: Option<DateTime<Utc>>,
}

impl ContactRules {
    fn tz(&self, contact: &ContactFacts) -> Tz {
        contact.timezone.unwrap_or(self.timezone)
    }

    /// When a new contact first becomes due: now, or its follow-up start day.
    pub fn first_due(&self, contact: &ContactFacts, now: DateTime<Utc>) -> DateTime<Utc> {
        let tz = self.tz(contact);
        let from = match contact.follow_up {
            Some(f) => start_of_day(f.start, tz).max(now),
            None => now,
        };
        self.window.next_open(from, tz)
    }

    /// Applies the rules to an attempt that ended at `now`.
    pub fn after_attempt(
        &self,
        contact: &ContactFacts,
        before: Progress,
        outcome: AttemptOutcome,
        now: DateTime<Utc>,
    ) -> Decision {
        let tz = self.tz(contact);
        let today = now.with_timezone(&tz).date_naive();
        let mut progress = before;
        if progress.day != Some(today) {
            progress.attempts_today = 0;
            progress.failures_today = 0;
            progress.day = Some(today);
        }
        progress.attempts_total += 1;
        progress.attempts_today += 1;

        let tomorrow = || {
            self.window
                .next_open(start_of_day(today + Days::new(1), tz), tz)
        };
        let follow_up_continues = contact.follow_up.is_some_and(|f| today < f.last_day());

        let next = if let Some(at) = contact.callback {
            Next::Due {
                at,
                agent_required: false,
            }
        } else {
            match outcome {
                AttemptOutcome::Completed if follow_up_continues => Next::Due {
                    at: tomorrow(),
                    agent_required: false,
                },
                AttemptOutcome::Completed => Next::Finished(Finish::Done),
                AttemptOutcome::Invalid => Next::Finished(Finish::Invalid),
                failure => {
                    // An interrupted or withdrawn attempt is the dialer's failure,
                    // not the person's.
                    if !matches!(
                        failure,
                        AttemptOutcome::Interrupted | AttemptOutcome::Withdrawn
                    ) {
                        progress.failures_today += 1;
                    }
                    if progress.attempts_total >= self.retry.max_total {
                        Next::Finished(Finish::Exhausted)
                    } else if progress.attempts_today >= self.retry.max_per_day {
                        match contact.follow_up {
                            Some(f) if today >= f.last_day() => Next::Finished(Finish::Exhausted),
                            _ => Next::Due {
                                at: tomorrow(),
                                agent_required: failure == AttemptOutcome::Abandoned,
                            },
                        }
                    } else {
                        let at = self.window.next_open(now + self.retry.delay(failure), tz);
                        Next::Due {
                            at,
                            agent_required: failure == AttemptOutcome::Abandoned,
                        }
                    }
                }
            }
        };
        let alert_unreachable = contact.high_risk
            && self.unreachable_alert_after > 0
            && progress.failures_today == self.unreachable_alert_after
            && before.failures_today_on(today) < self.unreachable_alert_after;
        Decision {
            next,
            progress,
            alert_unreachable,
        }
    }
}

impl Progress {
    fn failures_today_on(&self, day: NaiveDate) -> u32 {
        if self.day == Some(day) {
            self.failures_today
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const IST: Tz = chrono_tz::Asia::Kolkata;

    fn ist(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        IST.with_ymd_and_hms(2026, 11, d, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn plain() -> ContactFacts {
        ContactFacts {
            high_risk: false,
            follow_up: None,
            timezone: None,
            callback: None,
        }
    }

    #[test]
    fn the_window_opens_at_eight_and_closes_at_nine_local_time() {
        let w = CallingWindow::default();
        assert_eq!(w.next_open(ist(28, 7, 59), IST), ist(28, 8, 0));
        assert_eq!(w.next_open(ist(28, 12, 0), IST), ist(28, 12, 0));
        assert_eq!(w.next_open(ist(28, 21, 0), IST), ist(29, 8, 0));
        let always = CallingWindow::Always(AlwaysOpen::TwentyFourSeven);
        assert_eq!(always.next_open(ist(28, 3, 0), IST), ist(28, 3, 0));
    }

    #[test]
    fn a_contact_in_another_zone_is_called_in_its_own_hours() {
        let london = chrono_tz::Europe::London;
        // 13:00 IST is 07:30 in London in November: wait for 08:00 there.
        let open = CallingWindow::default().next_open(ist(28, 13, 0), london);
        assert_eq!(open, ist(28, 13, 30));
    }

    #[test]
    fn the_window_skips_a_daylight_saving_gap() {
        let ny = chrono_tz::America::New_York;
        let w = CallingWindow::Daily {
            start: NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            end: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
        };
        // 2027-03-14 02:30 does not exist in New York.
        let before = ny
            .with_ymd_and_hms(2027, 3, 14, 1, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let open = w.next_open(before, ny);
        assert_eq!(open.with_timezone(&ny).format("%H:%M").to_string(), "03:00");
    }

    #[test]
    fn busy_and_no_answer_retry_after_their_delays_within_the_window() {
        let rules = ContactRules::default();
        let d = rules.after_attempt(
            &plain(),
            Progress::default(),
            AttemptOutcome::Busy,
            ist(28, 10, 0),
        );
        assert_eq!(
            d.next,
            Next::Due {
                at: ist(28, 10, 10),
                agent_required: false
            }
        );
        let d = rules.after_attempt(
            &plain(),
            Progress::default(),
            AttemptOutcome::NoAnswer,
            ist(28, 20, 45),
        );
        assert_eq!(
            d.next,
            Next::Due {
                at: ist(29, 8, 0),
                agent_required: false
            }
        );
    }

    #[test]
    fn the_daily_limit_moves_to_tomorrow_and_the_total_limit_finishes() {
        let rules = ContactRules::default();
        let mut p = Progress::default();
        let mut next = None;
        for i in 0..4 {
            let d = rules.after_attempt(&plain(), p, AttemptOutcome::NoAnswer, ist(28, 9 + i, 0));
            p = d.progress;
            next = Some(d.next);
        }
        assert_eq!(
            next,
            Some(Next::Due {
                at: ist(29, 8, 0),
                agent_required: false
            })
        );
        let p = Progress {
            attempts_total: 19,
            ..Progress::default()
        };
        let d = rules.after_attempt(&plain(), p, AttemptOutcome::Busy, ist(28, 9, 0));
        assert_eq!(d.next, Next::Finished(Finish::Exhausted));
    }

    #[test]
    fn an_abandoned_person_is_called_back_with_an_agent_reserved() {
        let d = ContactRules::default().after_attempt(
            &plain(),
            Progress::default(),
            AttemptOutcome::Abandoned,
            ist(28, 10, 0),
        );
        assert!(matches!(
            d.next,
            Next::Due {
                agent_required: true,
                ..
            }
        ));
    }

    #[test]
    fn follow_up_is_due_every_day_until_the_last_day() {
        let rules = ContactRules::default();
        let f = FollowUp {
            start: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
            days: 3,
        };
        let c = ContactFacts {
            high_risk: false,
            follow_up: Some(f),
            timezone: None,
            callback: None,
        };
        assert_eq!(rules.first_due(&c, ist(26, 15, 0)), ist(27, 8, 0));
        let d = rules.after_attempt(
            &c,
            Progress::default(),
            AttemptOutcome::Completed,
            ist(28, 10, 0),
        );
        assert_eq!(
            d.next,
            Next::Due {
                at: ist(29, 8, 0),
                agent_required: false
            }
        );
        let d = rules.after_attempt(&c, d.progress, AttemptOutcome::Completed, ist(29, 10, 0));
        assert_eq!(d.next, Next::Finished(Finish::Done));
    }

    #[test]
    fn a_callback_asked_for_during_the_call_stands_whatever_the_outcome() {
        let rules = ContactRules::default();
        let f = FollowUp {
            start: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
            days: 3,
        };
        let asked = ist(28, 18, 30);
        for follow_up in [None, Some(f)] {
            let c = ContactFacts {
                follow_up,
                callback: Some(asked),
                ..plain()
            };
            for outcome in [AttemptOutcome::Completed, AttemptOutcome::Abandoned] {
                let d = rules.after_attempt(&c, Progress::default(), outcome, ist(28, 10, 0));
                assert_eq!(
                    d.next,
                    Next::Due {
                        at: asked,
                        agent_required: false
                    },
                    "{follow_up:?} {outcome:?}"
                );
                assert_eq!(d.progress.attempts_total, 1);
            }
        }
    }

    #[test]
    fn an_unreachable_high_risk_contact_raises_one_alert_a_day() {
        let rules = ContactRules::default();
        let c = ContactFacts {
            high_risk: true,
            follow_up: None,
            timezone: None,
            callback: None,
        };
        let mut p = Progress::default();
        let mut alerts = vec![];
        for (day, hour) in [
            (28, 9),
            (28, 10),
            (28, 11),
            (28, 12),
            (29, 9),
            (29, 10),
            (29, 11),
        ] {
            let d = rules.after_attempt(&c, p, AttemptOutcome::NoAnswer, ist(day, hour, 0));
            p = d.progress;
            alerts.push(d.alert_unreachable);
        }
        assert_eq!(alerts, [false, false, true, false, false, false, true]);
    }

    proptest! {
        #[test]
        fn every_due_time_is_inside_the_window_and_not_in_the_past(
            outcome in prop::sample::select(AttemptOutcome::ALL.to_vec()),
            minutes in 0i64..(60 * 24 * 30),
            total in 0u32..25, today in 0u32..6,
            start_h in 0u32..12, len_h in 1u32..12,
        ) {
            let rules = ContactRules {
                window: CallingWindow::Daily {
                    start: NaiveTime::from_hms_opt(start_h, 0, 0).unwrap(),
                    end: NaiveTime::from_hms_opt(start_h + len_h, 0, 0).unwrap(),
                },
                ..ContactRules::default()
            };
            let now = ist(1, 0, 0) + chrono::Duration::minutes(minutes);
            let before = Progress { attempts_total: total, attempts_today: today, failures_today: today, day: Some(now.with_timezone(&IST).date_naive()) };
            let d = rules.after_attempt(&plain(), before, outcome, now);
            prop_assert_eq!(d.progress.attempts_total, total + 1);
            if let Next::Due { at, .. } = d.next {
                prop_assert!(at >= now);
                prop_assert!(rules.window.is_open(at, IST));
                prop_assert!(d.progress.attempts_total < rules.retry.max_total);
            }
        }
    }
}
