//! Inbound callers in the core's queue, blended with outbound pacing: who
//! is answered first, what happens to a caller who leaves unanswered, which
//! agents take which calls, and that inbound calls stay out of the outbound
//! abandon accounting.

use sanjeevani_core::{
    AgentId, AgentRole, CallId, CallerClass, Campaign, CampaignConfig, Command, Event,
    InboundOutcome, Instant, PacingMode, Restraint,
};

fn at(secs: u64) -> Instant {
    Instant::from_millis(secs * 1000)
}

fn campaign(mode: PacingMode) -> Campaign {
    let mut config = CampaignConfig::default();
    config.pacing.mode = mode;
    Campaign::new(config)
}

/// Feeds one event and returns what the core commands.
fn feed(c: &mut Campaign, t: Instant, event: Event) -> Vec<Command> {
    let mut out = Vec::new();
    c.handle(t, event, &mut out).unwrap();
    out
}

/// A caller arrives; the call the core named for them.
fn arrive(c: &mut Campaign, t: Instant, class: CallerClass) -> (CallId, Vec<Command>) {
    let out = feed(c, t, Event::InboundArrived(class));
    let queued = out.iter().find_map(|c| match c {
        Command::Queued { call, class: queued } if *queued == class => Some(*call),
        _ => None,
    });
    match queued {
        Some(call) => (call, out),
        None => panic!("no Queued: {out:?}"),
    }
}

fn connects(out: &[Command]) -> Vec<(CallId, AgentId)> {
    out.iter()
        .filter_map(|c| match c {
            Command::Connect { call, agent } => Some((*call, *agent)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_urgent_ticket_caller_is_answered_before_callers_who_came_earlier() {
    let mut c = campaign(PacingMode::Preview);
    feed(&mut c, at(0), Event::AgentLogin(AgentId(1)));
    let (other, _) = arrive(&mut c, at(1), CallerClass::Other);
    let (returning, _) = arrive(&mut c, at(2), CallerClass::ReturningMissed);
    let (high, _) = arrive(&mut c, at(3), CallerClass::HighRisk);
    let (urgent, _) = arrive(&mut c, at(4), CallerClass::UrgentTicket);
    let (other_later, _) = arrive(&mut c, at(5), CallerClass::Other);
    let queue: Vec<CallId> = c.inbound_queue().map(|q| q.id).collect();
    assert_eq!(queue, [urgent, high, returning, other, other_later]);
    let out = feed(&mut c, at(6), Event::AgentReady(AgentId(1)));
    assert_eq!(connects(&out), [(urgent, AgentId(1))]);
}

#[test]
fn a_free_agent_takes_the_inbound_caller_before_an_answered_outbound_call() {
    let mut c = campaign(PacingMode::Power);
    let out = feed(&mut c, at(0), Event::AgentReady(AgentId(1)));
    let dials: Vec<CallId> = out
        .iter()
        .filter_map(|c| match c {
            Command::Dial { call, .. } => Some(*call),
            _ => None,
        })
        .collect();
    assert!(!dials.is_empty());
    let first = dials[0];
    feed(&mut c, at(1), Event::Answered(first));
    // The agent talks to the first; a caller arrives; a second outbound
    // call is answered meanwhile.
    let (caller, _) = arrive(&mut c, at(2), CallerClass::Other);
    if let Some(second) = dials.get(1) {
        feed(&mut c, at(2), Event::Answered(*second));
    }
    feed(&mut c, at(10), Event::Hangup(first));
    let out = feed(&mut c, at(11), Event::AgentReady(AgentId(1)));
    assert_eq!(connects(&out), [(caller, AgentId(1))], "{out:?}");
}

#[test]
fn a_caller_who_hangs_up_waiting_or_waits_too_long_gets_a_callback() {
    let mut c = campaign(PacingMode::Preview);
    let wait_limit = c.config().inbound.max_wait;
    let (gone, _) = arrive(&mut c, at(0), CallerClass::Other);
    let (patient, _) = arrive(&mut c, at(1), CallerClass::Other);
    let out = feed(&mut c, at(30), Event::Hangup(gone));
    assert_eq!(
        out,
        [
            Command::Callback { call: gone },
            Command::InboundEnded {
                call: gone,
                outcome: InboundOutcome::HungUpWaiting
            }
        ]
    );
    assert_eq!(c.next_wake(), Some(at(1) + wait_limit));
    let out = feed(&mut c, at(1) + wait_limit, Event::Tick);
    assert_eq!(
        out,
        [
            Command::Release { call: patient },
            Command::Callback { call: patient },
            Command::InboundEnded {
                call: patient,
                outcome: InboundOutcome::WaitLimit
            }
        ]
    );
    let stats = c.inbound_stats();
    assert_eq!(
        (stats.offered, stats.abandoned, stats.timed_out, stats.callbacks),
        (2, 1, 1, 2)
    );
    assert_eq!(stats.mean_abandoned_wait_secs(), 30.0);
    // Never part of the outbound abandon accounting.
    assert_eq!(c.stats().abandoned(), 0);
    assert_eq!(c.window_counts(at(500)), (0, 0));
}

#[test]
fn an_answered_caller_gets_no_callback_and_the_wait_is_counted() {
    let mut c = campaign(PacingMode::Preview);
    feed(&mut c, at(0), Event::AgentLogin(AgentId(1)));
    let (caller, _) = arrive(&mut c, at(0), CallerClass::HighRisk);
    let out = feed(&mut c, at(25), Event::AgentReady(AgentId(1)));
    assert_eq!(connects(&out), [(caller, AgentId(1))]);
    let out = feed(&mut c, at(90), Event::Hangup(caller));
    assert_eq!(
        out,
        [Command::InboundEnded {
            call: caller,
            outcome: InboundOutcome::Answered
        }]
    );
    let stats = c.inbound_stats();
    assert_eq!((stats.answered, stats.answered_in_time, stats.callbacks), (1, 0, 0));
    assert_eq!(stats.wait_quantile_secs(0.95), 26);
    assert_eq!(stats.service_level(), 0.0, "25 s is past the 20 s target");
}

#[test]
fn a_join_the_phone_cannot_take_puts_the_caller_back_at_the_head_of_the_line() {
    let mut c = campaign(PacingMode::Preview);
    feed(&mut c, at(0), Event::AgentReady(AgentId(1)));
    let (first, out) = arrive(&mut c, at(1), CallerClass::Other);
    assert_eq!(connects(&out), [(first, AgentId(1))]);
    let (second, _) = arrive(&mut c, at(2), CallerClass::Other);
    let out = feed(&mut c, at(3), Event::ConnectFailed(first));
    assert!(connects(&out).is_empty());
    assert_eq!(
        c.inbound_queue().map(|q| q.id).collect::<Vec<_>>(),
        [first, second]
    );
    assert_eq!(c.inbound_stats().answered, 0, "the answer is taken back");
    let out = feed(&mut c, at(4), Event::AgentReady(AgentId(2)));
    assert_eq!(connects(&out), [(first, AgentId(2))]);
}

#[test]
fn agents_take_only_the_calls_their_role_allows() {
    let mut c = campaign(PacingMode::Progressive);
    feed(&mut c, at(0), Event::AgentLogin(AgentId(1)));
    feed(&mut c, at(0), Event::AgentLogin(AgentId(2)));
    feed(
        &mut c,
        at(0),
        Event::SetRole(AgentId(1), AgentRole::InboundOnly),
    );
    feed(
        &mut c,
        at(0),
        Event::SetRole(AgentId(2), AgentRole::OutboundOnly),
    );
    // The inbound-only agent is not dialed for.
    let out = feed(&mut c, at(1), Event::AgentReady(AgentId(1)));
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(c.restraint(), Restraint::NoAgents);
    // The outbound-only agent is, and never takes a caller.
    let out = feed(&mut c, at(2), Event::AgentReady(AgentId(2)));
    assert!(matches!(
        out[..],
        [Command::Dial {
            agent: Some(AgentId(2)),
            ..
        }]
    ));
    let (caller, out) = arrive(&mut c, at(3), CallerClass::Other);
    assert_eq!(connects(&out), [(caller, AgentId(1))]);
    let (waiting, out) = arrive(&mut c, at(4), CallerClass::Other);
    assert!(connects(&out).is_empty(), "the outbound-only agent is held");
    // Moved to blended, a ready agent takes the caller at once.
    feed(&mut c, at(5), Event::AgentPause(AgentId(2)));
    feed(&mut c, at(5), Event::SetRole(AgentId(2), AgentRole::Blended));
    let out = feed(&mut c, at(6), Event::AgentReady(AgentId(2)));
    assert_eq!(connects(&out), [(waiting, AgentId(2))]);
}

#[test]
fn predictive_pacing_holds_agents_free_for_the_callers_it_expects() {
    let mut c = campaign(PacingMode::Predictive);
    for a in 1..=4 {
        feed(&mut c, at(0), Event::AgentLogin(AgentId(a)));
    }
    // A busy line before the shift: a caller every 10 s for ten minutes,
    // each hanging up before anyone is ready.
    for n in 1..=60 {
        let (call, _) = arrive(&mut c, at(n * 10), CallerClass::Other);
        feed(&mut c, at(n * 10 + 5), Event::Hangup(call));
    }
    assert!(c.inbound_rate(at(700)) > 0.04, "{}", c.inbound_rate(at(700)));
    for a in 1..=4 {
        feed(&mut c, at(700), Event::AgentReady(AgentId(a)));
    }
    assert!(
        c.held_for_inbound() > 0,
        "expecting a caller every 10 s, four agents keep some free"
    );
    assert_eq!(c.restraint(), Restraint::InboundFirst);
    assert_eq!(c.calls().count(), 0, "nothing dialed");
}
