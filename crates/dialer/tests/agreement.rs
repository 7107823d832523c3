//! One account of every call: over random runs of the dialer runtime (a real
//! SQLite store, a line whose people answer, hang up, are busy or cannot be
//! joined, agents leaving, trunk limits), the store's outcomes, the live
//! view's totals (the core's accounting) and the daily report's counts agree,
//! and a call is abandoned exactly when a person answered and was not joined
//! to an agent — each once.
//!
//! The line keeps its own log of what it said and was asked: the oracle the
//! three accounts are checked against. Runs are on a paused tokio clock.

use proptest::prelude::*;
use sanjeevani_contacts::{AlwaysOpen, CallingWindow, ColumnMapping, Phone};
use sanjeevani_core::{AgentId, CallId, FailCause, PacingMode, TrunkLimits};
use sanjeevani_dialer::{
    hold_clock, ClockMode, Dialer, DialerLinks, DialerOptions, LineEvent, LiveView, Telephony,
};
use sanjeevani_store::{import_csv, CampaignSettings, CampaignState, DayCounts};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

/// What the person reached by a dial does once it rings (after one second).
#[derive(Clone, Debug)]
enum Person {
    RingsOut,
    Busy { after_ms: u64 },
    HangsUpRinging { after_ms: u64 },
    Answers { after_ms: u64, then: AfterAnswer },
}

#[derive(Clone, Debug)]
enum AfterAnswer {
    /// Joined, they talk; the agent wraps up and is ready again.
    Talks { talk_ms: u64, wrap_ms: u64 },
    /// No agent's phone can take this call.
    JoinFails,
    /// They hang up this long after answering, joined or not.
    HangsUp { after_ms: u64 },
}

fn person() -> impl Strategy<Value = Person> {
    let after_answer = prop_oneof![
        (1_000u64..60_000, 0u64..10_000)
            .prop_map(|(talk_ms, wrap_ms)| AfterAnswer::Talks { talk_ms, wrap_ms }),
        Just(AfterAnswer::JoinFails),
        (100u64..5_000).prop_map(|after_ms| AfterAnswer::HangsUp { after_ms }),
    ];
    prop_oneof![
        Just(Person::RingsOut),
        (0u64..10_000).prop_map(|after_ms| Person::Busy { after_ms }),
        (0u64..10_000).prop_map(|after_ms| Person::HangsUpRinging { after_ms }),
        // Answers well before the 25 s no-answer timeout.
        (0u64..20_000, after_answer)
            .prop_map(|(after_ms, then)| Person::Answers { after_ms, then }),
    ]
}

/// What the line saw of each call: the oracle.
#[derive(Debug, Default)]
struct Log {
    dials: u64,
    answered: Vec<CallId>,
    /// Calls joined to an agent (a connect that did not fail).
    joined: Vec<CallId>,
    /// Per call: the agent it is joined to now.
    on_call: HashMap<CallId, AgentId>,
    /// Per call: the person it reached.
    reached: HashMap<CallId, Person>,
    /// Calls whose person hung up.
    gone: Vec<CallId>,
}

struct Shared {
    log: Mutex<Log>,
    people: Vec<Person>,
    events: mpsc::UnboundedSender<LineEvent>,
}

#[derive(Clone)]
struct PeopleLine {
    shared: Arc<Shared>,
    tasks: Arc<Mutex<HashMap<CallId, Vec<JoinHandle<()>>>>>,
}

impl PeopleLine {
    fn spawn(&self, call: CallId, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let task = tokio::spawn(work);
        self.tasks
            .lock()
            .unwrap()
            .entry(call)
            .or_default()
            .push(task);
    }

    fn stop(&self, call: CallId) {
        for task in self.tasks.lock().unwrap().remove(&call).unwrap_or_default() {
            task.abort();
        }
        self.shared.log.lock().unwrap().on_call.remove(&call);
    }
}

fn send(shared: &Shared, event: LineEvent) {
    let _ = shared.events.send(event);
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// The caller hangs up; says which agent they were joined to, if any.
fn hang_up(shared: &Arc<Shared>, call: CallId) -> Option<AgentId> {
    let agent = {
        let mut log = shared.log.lock().unwrap();
        log.gone.push(call);
        log.on_call.remove(&call)
    };
    send(shared, LineEvent::Hangup(call));
    agent
}

impl Telephony for PeopleLine {
    fn dial(&mut self, call: CallId, _phone: &Phone, _language: Option<&str>) {
        let person = {
            let mut log = self.shared.log.lock().unwrap();
            let person = self.shared.people[log.dials as usize % self.shared.people.len()].clone();
            log.dials += 1;
            log.reached.insert(call, person.clone());
            person
        };
        let shared = self.shared.clone();
        self.spawn(call, async move {
            sleep_ms(1_000).await;
            send(&shared, LineEvent::Ringing(call));
            match person {
                Person::RingsOut => {}
                Person::Busy { after_ms } => {
                    sleep_ms(after_ms).await;
                    send(&shared, LineEvent::Failed(call, FailCause::Busy));
                }
                Person::HangsUpRinging { after_ms } => {
                    sleep_ms(after_ms).await;
                    send(&shared, LineEvent::Hangup(call));
                }
                Person::Answers { after_ms, then } => {
                    sleep_ms(after_ms).await;
                    shared.log.lock().unwrap().answered.push(call);
                    send(&shared, LineEvent::Answered(call));
                    if let AfterAnswer::HangsUp { after_ms } = then {
                        sleep_ms(after_ms).await;
                        if let Some(agent) = hang_up(&shared, call) {
                            sleep_ms(1_000).await;
                            send(&shared, LineEvent::AgentReady(agent));
                        }
                    }
                }
            }
        });
    }

    fn connect(&mut self, call: CallId, agent: AgentId) {
        let reached = self.shared.log.lock().unwrap().reached.get(&call).cloned();
        let Some(Person::Answers { then, .. }) = reached else {
            return;
        };
        let shared = self.shared.clone();
        if let AfterAnswer::JoinFails = then {
            // The core pauses the agent whose phone failed; they press
            // ready five seconds on, whatever became of the call.
            tokio::spawn(async move {
                send(&shared, LineEvent::ConnectFailed(call));
                sleep_ms(5_000).await;
                send(&shared, LineEvent::AgentReady(agent));
            });
            return;
        }
        {
            let mut log = shared.log.lock().unwrap();
            log.joined.push(call);
            if log.gone.contains(&call) {
                // The person hung up as the agent was joined: the core has
                // the connect before the hang-up, a call of no length.
                drop(log);
                self.spawn(call, async move {
                    sleep_ms(1_000).await;
                    send(&shared, LineEvent::AgentReady(agent));
                });
                return;
            }
            log.on_call.insert(call, agent);
        }
        if let AfterAnswer::Talks { talk_ms, wrap_ms } = then {
            self.spawn(call, async move {
                sleep_ms(talk_ms).await;
                hang_up(&shared, call);
                sleep_ms(wrap_ms).await;
                send(&shared, LineEvent::AgentReady(agent));
            });
        }
    }

    fn drop_call(&mut self, call: CallId) {
        self.stop(call);
    }

    fn cancel(&mut self, call: CallId) {
        self.stop(call);
    }

    fn hangup(&mut self, call: CallId) {
        self.stop(call);
    }
}

const CONTACTS: u64 = 8;

/// What one run left behind: the line's log, the store's count and the last view.
struct Accounts {
    log: Log,
    store: DayCounts,
    closed: bool,
    view: LiveView,
}

async fn run(
    people: Vec<Person>,
    agents: u64,
    leaving: Vec<(u64, u64)>,
    mode: PacingMode,
    trunk: TrunkLimits,
) -> Accounts {
    let clock = ClockMode::Paused;
    let dir = tempfile::tempdir().unwrap();
    let (store, campaign) = hold_clock(clock, async {
        let store = sanjeevani_store::open(None, dir.path()).await.unwrap();
        let list = store.create_list("agreement", 0).await.unwrap();
        let mut csv = String::from("name,phone\n");
        for k in 0..CONTACTS {
            csv.push_str(&format!("P{k},98765001{k:02}\n"));
        }
        let report = import_csv(
            &*store,
            std::io::Cursor::new(csv),
            list,
            &ColumnMapping::default(),
            0,
            |s| panic!("{:?}", s.error),
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!(report.imported, CONTACTS);
        let mut settings = CampaignSettings::default();
        settings.dialer.pacing.mode = mode;
        settings.contacts.window = CallingWindow::Always(AlwaysOpen::TwentyFourSeven);
        settings.contacts.retry.max_total = 1;
        let campaign = store
            .create_campaign("agreement", &settings, &[list], 0)
            .await
            .unwrap();
        store
            .set_campaign_state(campaign, CampaignState::Running)
            .await
            .unwrap();
        (store, campaign)
    })
    .await;
    let (events_tx, events) = mpsc::unbounded_channel();
    let line = PeopleLine {
        shared: Arc::new(Shared {
            log: Mutex::default(),
            people,
            events: events_tx.clone(),
        }),
        tasks: Arc::default(),
    };
    let options = DialerOptions {
        node: "agreement".into(),
        lease_ttl: Duration::from_secs(60),
        hopper_size: 4,
        agents: (1..=agents).map(AgentId).collect(),
        exit_when_done: true,
        drain_deadline: Duration::from_secs(5),
        trunk,
        clock,
    };
    let (_controls_tx, controls) = mpsc::channel(16);
    let (view_tx, view) = watch::channel(LiveView::empty(campaign, Default::default(), 0));
    let (notices, _) = broadcast::channel(1024);
    let dialer = Dialer::new(store.clone(), campaign, line.clone(), events, options)
        .await
        .unwrap()
        .with_links(DialerLinks {
            controls,
            view: view_tx,
            notices,
        });
    // Agents other than the first leave at their moment (the first stays,
    // so every contact is dialled and the run ends when the list does).
    for (at_s, agent) in leaving {
        let events = events_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(at_s)).await;
            let _ = events.send(LineEvent::AgentGone(AgentId(agent)));
        });
    }
    tokio::time::timeout(
        Duration::from_secs(6 * 3600),
        dialer.run(std::future::pending()),
    )
    .await
    .expect("the list is finished within six hours")
    .unwrap();
    let attempts = hold_clock(clock, store.attempts_between(0, i64::MAX))
        .await
        .unwrap();
    let mut counts = DayCounts::default();
    for a in &attempts {
        counts.add(a);
    }
    let log = std::mem::take(&mut *line.shared.log.lock().unwrap());
    let view = view.borrow().clone();
    Accounts {
        log,
        store: counts,
        closed: attempts.iter().all(|a| a.outcome.is_some()),
        view,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_store_the_core_and_the_report_tell_one_story_of_every_call(
        people in proptest::collection::vec(person(), 1..6),
        agents in 1u64..4,
        leaving in proptest::collection::vec((0u64..600, 2u64..4), 0..3),
        predictive in any::<bool>(),
        trunk in 0usize..3,
    ) {
        let mode = if predictive { PacingMode::Predictive } else { PacingMode::Progressive };
        let trunk = [
            TrunkLimits::default(),
            TrunkLimits { calls_per_second: 0.5, max_calls: 0 },
            TrunkLimits { calls_per_second: 0.0, max_calls: 2 },
        ][trunk];
        let leaving: Vec<_> = leaving.into_iter().filter(|(_, a)| *a <= agents).collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        let a = runtime.block_on(run(people, agents, leaving, mode, trunk));
        let (log, store, totals) = (&a.log, &a.store, &a.view.totals);

        // Every contact dialled once, every attempt closed.
        prop_assert!(a.closed);
        prop_assert_eq!(log.dials, CONTACTS);
        prop_assert_eq!(store.dials, CONTACTS);

        // Abandoned: answered and never joined; each call once.
        let abandoned = log.answered.iter().filter(|c| !log.joined.contains(c)).count() as u64;
        prop_assert_eq!(store.answered, log.answered.len() as u64);
        prop_assert_eq!(store.connected, log.joined.len() as u64);
        prop_assert_eq!(store.abandoned, abandoned);
        prop_assert_eq!(store.answered, store.connected + store.abandoned);

        // The live view (the core's accounting) says the same.
        prop_assert_eq!(totals.dials, store.dials, "{:?} {:?}", totals, store);
        prop_assert_eq!(totals.answered, store.answered, "{:?} {:?}", totals, store);
        prop_assert_eq!(totals.connected, store.connected, "{:?} {:?}", totals, store);
        prop_assert_eq!(totals.abandoned, store.abandoned, "{:?} {:?}", totals, store);
        prop_assert_eq!(totals.completed, store.completed, "{:?} {:?}", totals, store);
        prop_assert_eq!(totals.busy, store.busy, "{:?} {:?}", totals, store);
        prop_assert_eq!(totals.no_answer, store.no_answer, "{:?} {:?}", totals, store);
        prop_assert_eq!(totals.failed_other, store.failed_other, "{:?} {:?}", totals, store);
        prop_assert_eq!(a.view.abandon.answered, store.answered);
        prop_assert_eq!(a.view.abandon.abandoned, store.abandoned);
        prop_assert_eq!(a.view.abandon.rate, store.abandon_rate());
    }
}
