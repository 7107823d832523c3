//! The campaign's rules, one scenario each: routing, the connect grace, the no-answer
//! timeout, the lines ceiling, the no-agent stop, the modes and switching between them.

use sanjeevani_core::{
    AbandonKind, AgentId, AgentState, CallId, Campaign, CampaignConfig, CancelReason, Command,
    CoreError, Event, FailCause, Instant, Outcome, PacingMode, Restraint, TrunkLimits,
};

fn at(secs: f64) -> Instant {
    Instant::from_secs_f64(secs).unwrap()
}

fn campaign(mode: PacingMode) -> Campaign {
    let mut config = CampaignConfig::default();
    config.pacing.mode = mode;
    Campaign::try_new(config).unwrap()
}

fn step(c: &mut Campaign, secs: f64, event: Event) -> Vec<Command> {
    let mut out = Vec::new();
    c.handle(at(secs), event, &mut out).unwrap();
    out
}

fn dials(out: &[Command]) -> Vec<CallId> {
    out.iter()
        .filter_map(|c| {
            if let Command::Dial { call, .. } = c {
                Some(*call)
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn progressive_dials_one_reserved_call_per_ready_agent() {
    let mut c = campaign(PacingMode::Progressive);
    let out = step(&mut c, 0.0, Event::AgentReady(AgentId(1)));
    assert_eq!(
        out,
        vec![Command::Dial {
            call: CallId(1),
            agent: Some(AgentId(1))
        }]
    );
    assert_eq!(
        c.agent(AgentId(1)).unwrap().state,
        AgentState::Reserved { call: CallId(1) }
    );
    assert!(
        dials(&step(&mut c, 1.0, Event::Tick)).is_empty(),
        "nothing more for a reserved agent"
    );
    // Busy: the reservation is released and the agent gets a new call.
    let out = step(&mut c, 3.0, Event::Failed(CallId(1), FailCause::Busy));
    assert_eq!(dials(&out), vec![CallId(2)]);
    let out = step(&mut c, 9.0, Event::Answered(CallId(2)));
    assert_eq!(
        out,
        vec![Command::Connect {
            call: CallId(2),
            agent: AgentId(1)
        }]
    );
}

#[test]
fn an_answered_call_with_no_agent_is_dropped_at_the_end_of_the_grace() {
    let mut c = campaign(PacingMode::Power);
    step(&mut c, 0.0, Event::AgentReady(AgentId(1)));
    step(&mut c, 0.0, Event::AgentReady(AgentId(2)));
    let placed = c.calls().map(|call| call.id).collect::<Vec<_>>();
    assert_eq!(placed.len(), 3, "power 1.5 x 2 free agents");
    // Two answers take the two agents; the third waits.
    step(&mut c, 5.0, Event::Answered(placed[0]));
    step(&mut c, 5.0, Event::Answered(placed[1]));
    let out = step(&mut c, 6.0, Event::Answered(placed[2]));
    assert!(out.is_empty());
    assert!(
        c.next_wake() <= Some(at(8.0)),
        "awake for the end of the grace, 2 s after the answer"
    );
    let out = step(&mut c, 7.999, Event::Tick);
    assert!(!out.iter().any(|o| matches!(o, Command::Drop { .. })));
    let out = step(&mut c, 8.0, Event::Tick);
    assert!(out.contains(&Command::Drop { call: placed[2] }));
    assert!(out.contains(&Command::Ended {
        call: placed[2],
        outcome: Outcome::Abandoned(AbandonKind::Dropped)
    }));
    assert_eq!(c.stats().dropped, 1);
    assert_eq!(c.window_counts(at(8.0)), (3, 1));
}

#[test]
fn an_agent_freed_within_the_grace_takes_the_waiting_call() {
    let mut c = campaign(PacingMode::Power);
    step(&mut c, 0.0, Event::AgentReady(AgentId(1)));
    let first = c.calls().next().unwrap().id;
    let second = c.calls().nth(1).unwrap().id;
    step(&mut c, 5.0, Event::Answered(first));
    step(&mut c, 6.0, Event::Answered(second));
    step(&mut c, 7.0, Event::Hangup(first));
    let out = step(&mut c, 7.5, Event::AgentReady(AgentId(1)));
    assert!(out.contains(&Command::Connect {
        call: second,
        agent: AgentId(1)
    }));
    assert_eq!(c.stats().dropped, 0);
}

#[test]
fn unanswered_calls_are_cancelled_at_the_timeout_counted_from_ringing() {
    let mut c = campaign(PacingMode::Progressive);
    step(&mut c, 0.0, Event::AgentReady(AgentId(1)));
    step(&mut c, 2.0, Event::Ringing(CallId(1)));
    let cancel = Command::Cancel {
        call: CallId(1),
        reason: CancelReason::NoAnswer,
    };
    assert!(!step(&mut c, 26.9, Event::Tick).contains(&cancel));
    let out = step(&mut c, 27.0, Event::Tick);
    assert!(out.contains(&cancel));
    assert!(out.contains(&Command::Ended {
        call: CallId(1),
        outcome: Outcome::Failed(FailCause::NoAnswer)
    }));
    assert_eq!(c.stats().no_answer, 1);
    // The event for the cancelled call is refused, not a panic.
    let mut out = Vec::new();
    assert!(c
        .handle(at(28.0), Event::Answered(CallId(1)), &mut out)
        .is_err());
}

#[test]
fn dialing_stops_when_no_agent_is_staffed_and_ringing_calls_are_shed() {
    let mut c = campaign(PacingMode::Predictive);
    assert!(
        dials(&step(&mut c, 0.0, Event::Tick)).is_empty(),
        "no agent, no dial"
    );
    step(&mut c, 0.0, Event::AgentReady(AgentId(1)));
    assert_eq!(c.calls().count(), 1);
    step(&mut c, 0.5, Event::Ringing(CallId(1)));
    step(&mut c, 5.0, Event::AgentLogout(AgentId(1)));
    assert!(dials(&step(&mut c, 6.0, Event::Tick)).is_empty());
    // Cancelled once it has rung the legal minimum (15 s), not before.
    assert!(step(&mut c, 15.0, Event::Tick).is_empty());
    // Withdrawn, not "no answer": the person was not given the time to answer.
    assert_eq!(
        step(&mut c, 15.5, Event::Tick),
        vec![
            Command::Cancel {
                call: CallId(1),
                reason: CancelReason::Withdrawn
            },
            Command::Ended {
                call: CallId(1),
                outcome: Outcome::Withdrawn
            }
        ]
    );
    assert_eq!((c.stats().withdrawn, c.stats().no_answer), (1, 0));
    assert_eq!(c.next_wake(), None);
}

#[test]
fn calls_never_exceed_the_lines_ceiling() {
    let mut config = CampaignConfig::default();
    config.pacing.mode = PacingMode::Power;
    config.pacing.max_lines_per_agent = 2.0;
    config.pacing.power_ratio = 2.0;
    let mut c = Campaign::try_new(config).unwrap();
    for a in 1..=3 {
        step(&mut c, 0.0, Event::AgentReady(AgentId(a)));
    }
    assert_eq!(c.calls().count(), 6);
    for t in 1..20 {
        step(&mut c, f64::from(t), Event::Tick);
        assert!(c.calls().count() <= 6);
    }
}

#[test]
fn the_trunks_limits_hold_pacing_back_and_say_so() {
    let mut config = CampaignConfig::default();
    config.pacing.mode = PacingMode::Power;
    config.pacing.power_ratio = 3.0;
    config.trunk = TrunkLimits {
        calls_per_second: 4.0,
        max_calls: 0,
    };
    let mut c = Campaign::try_new(config).unwrap();
    // Ten agents want thirty calls; the trunk starts four a second.
    let mut placed = 0;
    for a in 1..=10 {
        placed += dials(&step(&mut c, 0.0, Event::AgentReady(AgentId(a)))).len();
    }
    assert_eq!(placed, 1, "one token at the start");
    assert_eq!(c.restraint(), Restraint::TrunkRate);
    // The core wakes itself for the next token, not at the next pacing round.
    assert_eq!(c.next_wake(), Some(at(0.25)));
    let mut t = 0.0;
    while let Some(wake) = c.next_wake().filter(|w| *w <= at(5.0)) {
        t = wake.as_secs_f64();
        placed += dials(&step(&mut c, t, Event::Tick)).len();
    }
    assert!(t >= 4.75, "woke until {t}");
    assert_eq!(placed, 21, "four a second after the first");
    // Every dial's no-answer timer runs from when it was placed.
    let last = c.calls().last().unwrap();
    assert_eq!(last.dialed_at, at(5.0));

    // Calls at once: the trunk's ceiling is below the agents' lines.
    let mut config = CampaignConfig::default();
    config.pacing.mode = PacingMode::Power;
    config.pacing.power_ratio = 3.0;
    config.trunk.max_calls = 4;
    let mut c = Campaign::try_new(config).unwrap();
    for a in 1..=3 {
        step(&mut c, 0.0, Event::AgentReady(AgentId(a)));
    }
    assert_eq!(c.calls().count(), 4);
    assert_eq!(c.restraint(), Restraint::TrunkCalls);
    step(&mut c, 1.0, Event::Failed(CallId(1), FailCause::Busy));
    step(&mut c, 2.0, Event::Tick);
    assert_eq!(c.calls().count(), 4, "the freed line is used, no more");

    // A preview dial waits for the trunk too, with a refusal that says so.
    let mut config = CampaignConfig::default();
    config.pacing.mode = PacingMode::Preview;
    config.trunk.max_calls = 1;
    let mut c = Campaign::try_new(config).unwrap();
    step(&mut c, 0.0, Event::AgentReady(AgentId(1)));
    step(&mut c, 0.0, Event::AgentReady(AgentId(2)));
    step(&mut c, 0.1, Event::PreviewDial(AgentId(1)));
    let mut out = Vec::new();
    let refused = c.handle(at(0.2), Event::PreviewDial(AgentId(2)), &mut out);
    assert_eq!(refused, Err(CoreError::TrunkBusy));
    assert!(out.is_empty());
}

#[test]
fn preview_dials_only_when_the_agent_asks() {
    let mut c = campaign(PacingMode::Preview);
    assert!(step(&mut c, 0.0, Event::AgentReady(AgentId(1))).is_empty());
    let out = step(&mut c, 10.0, Event::PreviewDial(AgentId(1)));
    assert_eq!(
        out,
        vec![Command::Dial {
            call: CallId(1),
            agent: Some(AgentId(1))
        }]
    );
    let mut out = Vec::new();
    assert!(
        c.handle(at(11.0), Event::PreviewDial(AgentId(1)), &mut out)
            .is_err(),
        "already reserved"
    );
    let mut p = campaign(PacingMode::Predictive);
    assert!(p
        .handle(at(0.0), Event::PreviewDial(AgentId(1)), &mut out)
        .is_err());
}

#[test]
fn the_mode_can_change_while_calls_are_in_progress() {
    let mut c = campaign(PacingMode::Progressive);
    step(&mut c, 0.0, Event::AgentReady(AgentId(1)));
    step(&mut c, 0.0, Event::AgentReady(AgentId(2)));
    let mut settings = c.config().pacing;
    settings.mode = PacingMode::Power;
    settings.power_ratio = 3.0;
    step(&mut c, 1.0, Event::SetPacing(settings));
    // The reserved calls keep their agents; power adds calls only for free agents.
    assert_eq!(c.calls().count(), 2);
    step(&mut c, 4.0, Event::Failed(CallId(1), FailCause::Busy));
    assert!(
        c.calls().count() >= 3,
        "agent 1 is free again: power dials for it"
    );
    let mut bad = settings;
    bad.abandon_target = 0.5;
    let mut out = Vec::new();
    assert!(c.handle(at(5.0), Event::SetPacing(bad), &mut out).is_err());
    assert_eq!(
        c.config().pacing.power_ratio,
        3.0,
        "a refused change changes nothing"
    );
}

#[test]
fn stop_halts_new_dials_but_not_calls_in_progress() {
    let mut c = campaign(PacingMode::Progressive);
    step(&mut c, 0.0, Event::AgentReady(AgentId(1)));
    step(&mut c, 1.0, Event::Stop);
    let out = step(&mut c, 5.0, Event::Answered(CallId(1)));
    assert_eq!(
        out,
        vec![Command::Connect {
            call: CallId(1),
            agent: AgentId(1)
        }]
    );
    step(&mut c, 60.0, Event::Hangup(CallId(1)));
    assert!(dials(&step(&mut c, 61.0, Event::AgentReady(AgentId(1)))).is_empty());
    assert_eq!(dials(&step(&mut c, 62.0, Event::Start)), vec![CallId(2)]);
}

#[test]
fn the_dialer_says_what_holds_it_back() {
    use sanjeevani_core::Restraint;
    let mut c = campaign(PacingMode::Progressive);
    step(&mut c, 0.0, Event::Tick);
    assert_eq!(c.restraint(), Restraint::NoAgents);
    step(&mut c, 1.0, Event::AgentReady(AgentId(1)));
    step(&mut c, 2.0, Event::Tick);
    assert_eq!(
        c.restraint(),
        Restraint::NoFreeAgent,
        "its one agent is reserved"
    );

    let mut config = CampaignConfig::default();
    config.pacing.mode = PacingMode::Power;
    config.pacing.max_lines_per_agent = 2.0;
    config.pacing.power_ratio = 2.0;
    let mut c = Campaign::try_new(config).unwrap();
    step(&mut c, 0.0, Event::AgentReady(AgentId(1)));
    step(&mut c, 1.0, Event::Tick);
    assert_eq!(c.restraint(), Restraint::LineCeiling);

    let mut c = campaign(PacingMode::Preview);
    step(&mut c, 0.0, Event::AgentReady(AgentId(1)));
    step(&mut c, 1.0, Event::Tick);
    assert_eq!(c.restraint(), Restraint::AgentAsks);
}

#[test]
fn an_agent_paused_on_a_call_gets_no_new_call_after_it() {
    let mut c = campaign(PacingMode::Progressive);
    step(&mut c, 0.0, Event::AgentReady(AgentId(1)));
    step(&mut c, 1.0, Event::Ringing(CallId(1)));
    step(&mut c, 3.0, Event::Answered(CallId(1)));
    assert!(dials(&step(&mut c, 10.0, Event::AgentPause(AgentId(1)))).is_empty());
    step(&mut c, 60.0, Event::Hangup(CallId(1)));
    let out = step(&mut c, 70.0, Event::AgentReady(AgentId(1)));
    assert!(dials(&out).is_empty(), "{out:?}");
    let agent = c.agent(AgentId(1)).unwrap();
    assert_eq!(agent.state, AgentState::Paused);
    assert_eq!(agent.totals.calls, 1);
}

/// The answered person is connected, but the agent's phone cannot take the
/// call: another ready agent takes it within the grace; with none, the person
/// hears the information message at the end of the grace and the call counts
/// as abandoned, once. The agent whose phone failed is paused.
#[test]
fn a_connect_the_phone_cannot_take_goes_to_another_agent_or_is_dropped_in_the_grace() {
    for another_agent_ready in [true, false] {
        let mut c = campaign(PacingMode::Preview);
        step(&mut c, 0.0, Event::AgentReady(AgentId(1)));
        if another_agent_ready {
            step(&mut c, 0.0, Event::AgentReady(AgentId(2)));
        }
        assert_eq!(
            dials(&step(&mut c, 1.0, Event::PreviewDial(AgentId(1)))),
            [CallId(1)]
        );
        let connect = |agent| Command::Connect {
            call: CallId(1),
            agent: AgentId(agent),
        };
        assert_eq!(step(&mut c, 5.0, Event::Answered(CallId(1))), [connect(1)]);
        let out = step(&mut c, 6.0, Event::ConnectFailed(CallId(1)));
        assert_eq!(c.agent(AgentId(1)).unwrap().state, AgentState::Paused);
        if another_agent_ready {
            assert_eq!(out, [connect(2)]);
            assert_eq!(c.stats().connected, 1);
            assert_eq!(c.window_counts(at(6.0)), (1, 0), "counted once");
            continue;
        }
        assert!(out.is_empty(), "{out:?}");
        assert!(
            step(&mut c, 6.9, Event::Tick).is_empty(),
            "still in the grace"
        );
        let out = step(&mut c, 7.0, Event::Tick);
        assert_eq!(
            out,
            [
                Command::Drop { call: CallId(1) },
                Command::Ended {
                    call: CallId(1),
                    outcome: Outcome::Abandoned(AbandonKind::Dropped)
                }
            ]
        );
        assert_eq!((c.stats().connected, c.stats().dropped), (0, 1));
        assert_eq!(
            c.window_counts(at(7.0)),
            (1, 1),
            "answered once, abandoned once"
        );
    }
}
