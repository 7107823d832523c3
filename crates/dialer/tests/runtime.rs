//! The dialer runtime with a real (SQLite) store and a scripted line: what
//! the store keeps for each call is what the core decided, whatever the line
//! says.
//!
//! These run on a paused tokio clock with the real timers (two seconds'
//! grace, fifteen seconds' minimum ring): time moves only when every task
//! waits, and the runtime keeps it still while the store works
//! ([`ClockMode::Paused`]), so each call's timing is exact.

use sanjeevani_contacts::{AlwaysOpen, AttemptOutcome, CallingWindow, ColumnMapping, Phone};
use sanjeevani_core::{AgentId, CallId, FailCause, PacingMode, TrunkLimits};
use sanjeevani_dialer::{hold_clock, ClockMode, Dialer, DialerOptions, LineEvent, Telephony};
use sanjeevani_store::{import_csv, Attempt, CampaignSettings, CampaignState, Store};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// What the runtime asked of the line.
#[derive(Debug, Clone, PartialEq)]
enum Asked {
    Dial(CallId),
    Connect(CallId, AgentId),
    Drop(CallId),
    Cancel(CallId),
    Hangup(CallId),
}

/// What the runtime asked of the line, with when (on the paused clock).
#[derive(Clone, Default)]
struct ScriptedLine {
    asked: Arc<Mutex<Vec<(Instant, Asked)>>>,
}

impl ScriptedLine {
    fn ask(&self, what: Asked) {
        self.asked.lock().unwrap().push((Instant::now(), what));
    }
}

impl Telephony for ScriptedLine {
    fn dial(&mut self, call: CallId, _phone: &Phone, _language: Option<&str>) {
        self.ask(Asked::Dial(call));
    }
    fn connect(&mut self, call: CallId, agent: AgentId) {
        self.ask(Asked::Connect(call, agent));
    }
    fn drop_call(&mut self, call: CallId) {
        self.ask(Asked::Drop(call));
    }
    fn cancel(&mut self, call: CallId) {
        self.ask(Asked::Cancel(call));
    }
    fn hangup(&mut self, call: CallId) {
        self.ask(Asked::Hangup(call));
    }
}

struct Running {
    store: Arc<dyn Store>,
    line: ScriptedLine,
    events: mpsc::UnboundedSender<LineEvent>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

const AGENT: AgentId = AgentId(1);

/// The store with the campaign in it.
async fn setup(dir: &std::path::Path) -> (Arc<dyn Store>, sanjeevani_store::CampaignId) {
    let store = sanjeevani_store::open(None, dir).await.unwrap();
    let list = store.create_list("runtime", 0).await.unwrap();
    let csv = "name,phone\nA,9876500101\nB,9876500102\nC,9876500103\n";
    import_csv(
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
    let mut settings = CampaignSettings::default();
    settings.dialer.pacing.mode = PacingMode::Progressive;
    settings.contacts.window = CallingWindow::Always(AlwaysOpen::TwentyFourSeven);
    let campaign = store
        .create_campaign("runtime", &settings, &[list], 0)
        .await
        .unwrap();
    store
        .set_campaign_state(campaign, CampaignState::Running)
        .await
        .unwrap();
    (store, campaign)
}

/// A progressive campaign of three contacts, open day and night, one agent.
async fn start() -> Running {
    start_with(&[AGENT], TrunkLimits::default()).await
}

async fn start_with(agents: &[AgentId], trunk: TrunkLimits) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let (store, campaign) = hold_clock(ClockMode::Paused, setup(dir.path())).await;
    let line = ScriptedLine::default();
    let (events, rx) = mpsc::unbounded_channel();
    let options = DialerOptions {
        node: "runtime-test".into(),
        lease_ttl: Duration::from_secs(60),
        hopper_size: 3,
        agents: agents.to_vec(),
        exit_when_done: false,
        drain_deadline: Duration::from_secs(5),
        trunk,
        clock: ClockMode::Paused,
    };
    let dialer = Dialer::new(store.clone(), campaign, line.clone(), rx, options)
        .await
        .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        dialer
            .run(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Running {
        store,
        line,
        events,
        stop: Some(stop),
        task,
        _dir: dir,
    }
}

impl Running {
    /// Waits (at most a minute of the paused clock) until the line was
    /// asked `what`, and says when it was.
    async fn asked(&self, what: Asked) -> Instant {
        for _ in 0..1200 {
            let asked = self.line.asked.lock().unwrap().clone();
            if let Some((at, _)) = asked.into_iter().find(|(_, a)| *a == what) {
                return at;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "never asked {what:?}: {:?}",
            self.line.asked.lock().unwrap()
        );
    }

    fn say(&self, event: LineEvent) {
        self.events.send(event).unwrap();
    }

    /// The first attempt, once it is closed.
    async fn first_attempt_closed(&self) -> Attempt {
        for _ in 0..200 {
            let attempts = hold_clock(ClockMode::Paused, self.store.attempts_between(0, i64::MAX))
                .await
                .unwrap();
            if let Some(a) = attempts.into_iter().find(|a| a.outcome.is_some()) {
                return a;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no attempt was closed");
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(60), self.task)
            .await
            .expect("the dialer stops")
            .unwrap();
    }
}

/// The person's phone hung up while it rang: nobody answered, so it is not
/// an abandoned call (none of the abandon figures count it); the core calls
/// it rejected, and so does the store.
#[tokio::test(start_paused = true)]
async fn a_hang_up_before_any_answer_is_stored_as_rejected() {
    let run = start().await;
    run.asked(Asked::Dial(CallId(1))).await;
    run.say(LineEvent::Ringing(CallId(1)));
    run.say(LineEvent::Hangup(CallId(1)));
    let attempt = run.first_attempt_closed().await;
    assert_eq!(
        attempt.outcome,
        Some(AttemptOutcome::Rejected),
        "{attempt:?}"
    );
    run.stop().await;
}

/// The only agent leaves while a call rings: the core withdraws it once it
/// has rung the legal minimum. The person was not given the time to answer,
/// so it is stored as withdrawn, not as "no answer" (which the retry rules
/// count against the person).
#[tokio::test(start_paused = true)]
async fn a_call_withdrawn_when_agents_leave_is_not_a_no_answer() {
    let run = start().await;
    run.asked(Asked::Dial(CallId(1))).await;
    run.say(LineEvent::Ringing(CallId(1)));
    let rang = Instant::now();
    run.say(LineEvent::AgentGone(AGENT));
    let cancelled = run.asked(Asked::Cancel(CallId(1))).await;
    assert_eq!(
        cancelled - rang,
        Duration::from_secs(15),
        "the legal minimum ring"
    );
    let attempt = run.first_attempt_closed().await;
    assert_eq!(
        attempt.outcome,
        Some(AttemptOutcome::Withdrawn),
        "{attempt:?}"
    );
    run.stop().await;
}

/// The person answers and is connected, but the agent's phone cannot take
/// the call. With no other agent, they hear the information message at the
/// end of the grace and the call is stored as abandoned (not as a completed
/// call nobody talked on), with no agent left to record it.
#[tokio::test(start_paused = true)]
async fn an_answered_call_the_agents_phone_cannot_take_is_dropped_and_abandoned() {
    let run = start().await;
    run.asked(Asked::Dial(CallId(1))).await;
    run.say(LineEvent::Ringing(CallId(1)));
    run.say(LineEvent::Answered(CallId(1)));
    let answered = Instant::now();
    run.asked(Asked::Connect(CallId(1), AGENT)).await;
    run.say(LineEvent::ConnectFailed(CallId(1)));
    let dropped = run.asked(Asked::Drop(CallId(1))).await;
    assert_eq!(
        dropped - answered,
        Duration::from_secs(2),
        "at the end of the grace"
    );
    let attempt = run.first_attempt_closed().await;
    assert_eq!(
        attempt.outcome,
        Some(AttemptOutcome::Abandoned),
        "{attempt:?}"
    );
    assert_eq!(attempt.connect_at, None, "nobody talked on it");
    let unrecorded = hold_clock(
        ClockMode::Paused,
        run.store.unrecorded_calls(AGENT.0 as i64, 0),
    )
    .await
    .unwrap();
    assert!(
        unrecorded.is_empty(),
        "nothing for the agent to record: {unrecorded:?}"
    );
    run.stop().await;
}

/// A busy line is the line's word, recorded as the core counted it.
#[tokio::test(start_paused = true)]
async fn a_busy_line_is_stored_as_busy() {
    let run = start().await;
    run.asked(Asked::Dial(CallId(1))).await;
    run.say(LineEvent::Failed(CallId(1), FailCause::Busy));
    let attempt = run.first_attempt_closed().await;
    assert_eq!(attempt.outcome, Some(AttemptOutcome::Busy));
    run.stop().await;
}

/// The trunk takes one new call every two seconds: three agents ready at
/// once get their calls two seconds apart, each placed the moment the core
/// asks (nothing waits in the adapter while the no-answer timer runs).
#[tokio::test(start_paused = true)]
async fn the_trunks_rate_spaces_the_calls_the_core_places() {
    let agents = [AgentId(1), AgentId(2), AgentId(3)];
    let trunk = TrunkLimits {
        calls_per_second: 0.5,
        max_calls: 0,
    };
    let run = start_with(&agents, trunk).await;
    let first = run.asked(Asked::Dial(CallId(1))).await;
    let second = run.asked(Asked::Dial(CallId(2))).await;
    let third = run.asked(Asked::Dial(CallId(3))).await;
    assert_eq!(second - first, Duration::from_secs(2));
    assert_eq!(third - second, Duration::from_secs(2));
    // The third call's no-answer runs from its own dial: cancelled 25 s on.
    let cancelled = run.asked(Asked::Cancel(CallId(3))).await;
    assert_eq!(cancelled - third, Duration::from_secs(25));
    run.stop().await;
}
