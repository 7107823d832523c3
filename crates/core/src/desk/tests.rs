//! Every path of an escalation, one test each, and a property test over
//! arbitrary event sequences: every escalation ends exactly once and
//! releases its agent exactly once, every ticket is resolved at most once,
//! and no member is asked for two things at once.

use super::*;
use proptest::prelude::*;
use std::collections::HashMap;

const CALL: CallId = CallId(7);
const AGENT: AgentId = AgentId(3);
const E1: EscalationId = EscalationId(1);
const DR_A: MemberId = MemberId(1);
const DR_B: MemberId = MemberId(2);

fn at(secs: u64) -> Instant {
    Instant::from_millis(secs * 1000)
}

struct Run {
    desk: Desk,
}

impl Run {
    fn new(members: &[(MemberId, &str)]) -> Run {
        let mut run = Run {
            desk: Desk::new(DeskConfig::default()),
        };
        for (member, language) in members {
            run.ok(
                0,
                DeskEvent::MemberIn {
                    member: *member,
                    languages: vec![language.to_string()],
                },
            );
        }
        run
    }

    fn ok(&mut self, secs: u64, event: DeskEvent) -> Vec<DeskCommand> {
        let mut out = Vec::new();
        self.desk
            .handle(at(secs), event, &mut out)
            .expect("a valid event");
        out
    }

    fn escalate(
        &mut self,
        secs: u64,
        id: EscalationId,
        urgency: Urgency,
        language: &str,
    ) -> Vec<DeskCommand> {
        self.ok(
            secs,
            DeskEvent::Escalate {
                id,
                call: CallId(id.0 + 6),
                agent: AGENT,
                urgency,
                language: language.into(),
            },
        )
    }

    fn record(&self, id: EscalationId) -> EscalationRecord {
        *self.desk.records().find(|r| r.id == id).unwrap()
    }
}

fn consult(id: EscalationId, member: MemberId) -> DeskCommand {
    DeskCommand::Consult {
        id,
        call: CallId(id.0 + 6),
        member,
    }
}

fn ticket(reason: TicketReason, due: u64, member: Option<MemberId>) -> DeskCommand {
    DeskCommand::OpenTicket {
        ticket: TicketId(1),
        urgency: Urgency::Urgent,
        reason,
        due: at(due),
        member,
    }
}

#[test]
fn the_desk_answers_and_the_caller_is_handed_over_live() {
    let mut run = Run::new(&[(DR_A, "hi")]);
    assert_eq!(
        run.escalate(10, E1, Urgency::Urgent, "hi"),
        [consult(E1, DR_A)]
    );
    assert_eq!(
        run.ok(14, DeskEvent::MemberAnswered(E1)),
        [DeskCommand::Consulting {
            id: E1,
            member: DR_A
        }]
    );
    assert_eq!(
        run.ok(50, DeskEvent::AgentCompletes(E1)),
        [DeskCommand::CompleteTransfer { id: E1, call: CALL }]
    );
    assert_eq!(
        run.ok(51, DeskEvent::HandedOver(E1)),
        [
            DeskCommand::ReleaseAgent {
                id: E1,
                agent: AGENT,
                with_contact: false
            },
            DeskCommand::Ended {
                id: E1,
                outcome: EscalationOutcome::Live { member: DR_A }
            }
        ]
    );
    let record = run.record(E1);
    assert_eq!(
        record.doctor_at,
        Some(at(14)),
        "the doctor on the line 4 s after"
    );
    assert_eq!(run.desk.open(), (0, 0));
    // The doctor is busy with the caller until that call ends.
    assert!(run
        .escalate(60, EscalationId(2), Urgency::Urgent, "hi")
        .is_empty());
    assert_eq!(
        run.ok(100, DeskEvent::LiveCallEnded(DR_A)),
        [consult(EscalationId(2), DR_A)]
    );
}

#[test]
fn a_busy_or_silent_member_is_followed_by_the_next_one() {
    let mut run = Run::new(&[(DR_A, "en"), (DR_B, "hi")]);
    // The Hindi speaker first.
    assert_eq!(
        run.escalate(0, E1, Urgency::Urgent, "hi"),
        [consult(E1, DR_B)]
    );
    assert_eq!(run.ok(1, DeskEvent::MemberFailed(E1)), [consult(E1, DR_A)]);
    // Dr A does not answer within the ring timeout (20 s): nobody is left to
    // try, so the caller is not held longer. A ticket; the agent is back with
    // the caller to say a doctor will call back.
    assert_eq!(run.desk.next_wake(), Some(at(21)));
    let out = run.ok(21, DeskEvent::Tick);
    assert_eq!(
        out[..5],
        [
            DeskCommand::StopRinging {
                id: E1,
                member: DR_A
            },
            DeskCommand::CancelTransfer { id: E1, call: CALL },
            DeskCommand::ReleaseAgent {
                id: E1,
                agent: AGENT,
                with_contact: true
            },
            // Due 30 min after the escalation, assigned to the Hindi speaker.
            ticket(TicketReason::DeskUnavailable, 1800, Some(DR_B)),
            DeskCommand::Ended {
                id: E1,
                outcome: EscalationOutcome::Ticket {
                    reason: TicketReason::DeskUnavailable
                }
            },
        ]
    );
    // Both members are free: the callback is offered to its assignee at once.
    assert_eq!(
        out[5..],
        [DeskCommand::OfferCallback {
            ticket: TicketId(1),
            member: DR_B
        }]
    );
}

#[test]
fn a_caller_waits_on_hold_for_a_busy_member_up_to_the_wait_limit() {
    let mut run = Run::new(&[(DR_A, "hi")]);
    run.escalate(0, E1, Urgency::Urgent, "hi");
    run.ok(2, DeskEvent::MemberAnswered(E1));
    // Dr A consults on the first caller; the second waits on hold for them.
    assert!(run
        .escalate(5, EscalationId(2), Urgency::Urgent, "hi")
        .is_empty());
    assert_eq!(run.desk.next_wake(), Some(at(125)));
    let out = run.ok(125, DeskEvent::Tick);
    assert!(
        out.contains(&DeskCommand::Ended {
            id: EscalationId(2),
            outcome: EscalationOutcome::Ticket {
                reason: TicketReason::DeskUnavailable
            }
        }),
        "{out:?}"
    );
}

#[test]
fn a_caller_who_hangs_up_on_hold_gets_a_ticket() {
    let mut run = Run::new(&[(DR_A, "hi")]);
    run.escalate(0, E1, Urgency::Urgent, "hi");
    let out = run.ok(5, DeskEvent::ContactHungUp(E1));
    assert_eq!(
        out[..4],
        [
            DeskCommand::StopRinging {
                id: E1,
                member: DR_A
            },
            DeskCommand::ReleaseAgent {
                id: E1,
                agent: AGENT,
                with_contact: false
            },
            ticket(TicketReason::ContactHungUp, 1800, Some(DR_A)),
            DeskCommand::Ended {
                id: E1,
                outcome: EscalationOutcome::Ticket {
                    reason: TicketReason::ContactHungUp
                }
            },
        ]
    );
}

#[test]
fn a_doctor_hanging_up_during_the_consult_is_followed_by_another() {
    let mut run = Run::new(&[(DR_A, "hi"), (DR_B, "hi")]);
    assert_eq!(
        run.escalate(0, E1, Urgency::Urgent, "hi"),
        [consult(E1, DR_A)]
    );
    run.ok(3, DeskEvent::MemberAnswered(E1));
    assert_eq!(run.ok(30, DeskEvent::MemberFailed(E1)), [consult(E1, DR_B)]);
    run.ok(33, DeskEvent::MemberAnswered(E1));
    run.ok(40, DeskEvent::AgentCompletes(E1));
    run.ok(40, DeskEvent::HandedOver(E1));
    assert_eq!(
        run.record(E1).outcome,
        Some(EscalationOutcome::Live { member: DR_B })
    );
    assert_eq!(
        run.record(E1).doctor_at,
        Some(at(3)),
        "first doctor on the line"
    );
}

#[test]
fn an_agent_who_cancels_stays_with_the_caller_and_a_ticket_follows() {
    let mut run = Run::new(&[(DR_A, "hi")]);
    run.escalate(0, E1, Urgency::Urgent, "hi");
    run.ok(3, DeskEvent::MemberAnswered(E1));
    let out = run.ok(20, DeskEvent::AgentCancels(E1));
    assert_eq!(
        out[..2],
        [
            DeskCommand::CancelTransfer { id: E1, call: CALL },
            DeskCommand::ReleaseAgent {
                id: E1,
                agent: AGENT,
                with_contact: true
            }
        ]
    );
    assert!(out.contains(&DeskCommand::Ended {
        id: E1,
        outcome: EscalationOutcome::Ticket {
            reason: TicketReason::AgentCancelled
        }
    }));
}

#[test]
fn a_pbx_error_mid_transfer_ends_in_a_ticket() {
    let mut run = Run::new(&[(DR_A, "hi")]);
    run.escalate(0, E1, Urgency::Urgent, "hi");
    run.ok(3, DeskEvent::MemberAnswered(E1));
    run.ok(10, DeskEvent::AgentCompletes(E1));
    let out = run.ok(11, DeskEvent::PbxError(E1));
    assert!(out.contains(&DeskCommand::ReleaseAgent {
        id: E1,
        agent: AGENT,
        with_contact: false
    }));
    assert!(out.contains(&ticket(TicketReason::PbxError, 1800, Some(DR_A))));
    // The doctor is free again and is offered the callback.
    assert!(out.contains(&DeskCommand::OfferCallback {
        ticket: TicketId(1),
        member: DR_A
    }));
}

#[test]
fn with_nobody_at_the_desk_the_escalation_becomes_a_ticket_at_once() {
    let mut run = Run::new(&[]);
    let out = run.escalate(0, E1, Urgency::Routine, "hi");
    assert!(
        out.contains(&DeskCommand::OpenTicket {
            ticket: TicketId(1),
            urgency: Urgency::Routine,
            reason: TicketReason::DeskUnavailable,
            due: at(4 * 3600),
            member: None
        }),
        "{out:?}"
    );
    // A member who comes in is offered the callback.
    let out = run.ok(
        200,
        DeskEvent::MemberIn {
            member: DR_A,
            languages: vec!["en".into()],
        },
    );
    assert_eq!(
        out,
        [DeskCommand::OfferCallback {
            ticket: TicketId(1),
            member: DR_A
        }]
    );
}

#[test]
fn a_ticket_raised_without_a_transfer_is_followed_up_like_the_desks_own() {
    let mut run = Run::new(&[(DR_A, "hi"), (DR_B, "en")]);
    let ticket = TicketId(9);
    let follow = DeskEvent::FollowTicket {
        ticket,
        urgency: Urgency::Urgent,
        language: "en".into(),
        member: Some(DR_B),
        tries: 0,
    };
    // Offered to its assignee at once, since both are free.
    assert_eq!(
        run.ok(0, follow.clone()),
        [DeskCommand::OfferCallback {
            ticket,
            member: DR_B
        }]
    );
    let mut out = Vec::new();
    assert_eq!(
        run.desk.handle(at(1), follow, &mut out),
        Err(DeskError::DuplicateTicket(ticket))
    );
    run.desk.callback_placed(ticket).unwrap();
    run.ok(30, DeskEvent::CallbackReached(ticket));
    assert_eq!(
        run.ok(
            300,
            DeskEvent::Resolve(ticket, Resolution::MedicineDelivered)
        ),
        [DeskCommand::Resolved {
            ticket,
            resolution: Resolution::MedicineDelivered
        }]
    );
    assert_eq!(run.desk.open(), (0, 0));
}

#[test]
fn callbacks_are_retried_then_resolved_as_unreachable() {
    let mut run = Run::new(&[(DR_A, "hi")]);
    run.escalate(0, E1, Urgency::Urgent, "hi");
    run.ok(1, DeskEvent::ContactHungUp(E1));
    let ticket = TicketId(1);
    for attempt in 0..3u64 {
        let t = 1 + attempt * 900;
        run.desk.callback_placed(ticket).unwrap();
        let out = run.ok(t + 30, DeskEvent::CallbackUnreached(ticket));
        if attempt < 2 {
            assert!(out.is_empty(), "{out:?}");
            assert_eq!(run.desk.next_wake(), Some(at(t + 30 + 900)));
            assert_eq!(
                run.ok(t + 30 + 900, DeskEvent::Tick),
                [DeskCommand::OfferCallback {
                    ticket,
                    member: DR_A
                }]
            );
        } else {
            assert_eq!(
                out,
                [DeskCommand::Resolved {
                    ticket,
                    resolution: Resolution::Unreachable
                }]
            );
        }
    }
    assert_eq!(run.desk.open(), (0, 0));
    let record = run.record(E1);
    assert_eq!(record.doctor_at, None);
    assert_eq!(record.resolved.map(|r| r.1), Some(Resolution::Unreachable));
}

#[test]
fn a_reached_callback_is_resolved_once() {
    let mut run = Run::new(&[(DR_A, "hi")]);
    run.escalate(0, E1, Urgency::Urgent, "hi");
    run.ok(1, DeskEvent::ContactHungUp(E1));
    let ticket = TicketId(1);
    run.desk.callback_placed(ticket).unwrap();
    run.ok(20, DeskEvent::CallbackReached(ticket));
    assert_eq!(
        run.ok(300, DeskEvent::Resolve(ticket, Resolution::AmbulanceSent)),
        [DeskCommand::Resolved {
            ticket,
            resolution: Resolution::AmbulanceSent
        }]
    );
    assert_eq!(run.record(E1).doctor_at, Some(at(20)));
    let mut out = Vec::new();
    assert_eq!(
        run.desk.handle(
            at(301),
            DeskEvent::Resolve(ticket, Resolution::Admitted),
            &mut out
        ),
        Err(DeskError::UnknownTicket(ticket))
    );
}

#[test]
fn urgent_callers_are_served_first() {
    let mut run = Run::new(&[(DR_A, "hi")]);
    run.escalate(0, E1, Urgency::Urgent, "hi");
    run.escalate(1, EscalationId(2), Urgency::Routine, "hi");
    run.escalate(2, EscalationId(3), Urgency::Urgent, "hi");
    run.ok(3, DeskEvent::MemberAnswered(E1));
    run.ok(4, DeskEvent::AgentCompletes(E1));
    run.ok(4, DeskEvent::HandedOver(E1));
    assert_eq!(
        run.ok(60, DeskEvent::LiveCallEnded(DR_A)),
        [consult(EscalationId(3), DR_A)]
    );
}

#[test]
fn impossible_events_are_refused_and_change_nothing() {
    let mut run = Run::new(&[(DR_A, "hi")]);
    run.escalate(10, E1, Urgency::Urgent, "hi");
    let mut out = Vec::new();
    let before = format!("{:?}", run.desk);
    for event in [
        DeskEvent::AgentCompletes(E1),
        DeskEvent::HandedOver(E1),
        DeskEvent::MemberAnswered(EscalationId(9)),
        DeskEvent::CallbackReached(TicketId(1)),
        DeskEvent::LiveCallEnded(DR_A),
        DeskEvent::MemberOut(DR_B),
        DeskEvent::Escalate {
            id: E1,
            call: CALL,
            agent: AGENT,
            urgency: Urgency::Urgent,
            language: "hi".into(),
        },
    ] {
        assert!(run.desk.handle(at(11), event, &mut out).is_err());
    }
    assert!(run.desk.handle(at(9), DeskEvent::Tick, &mut out).is_err());
    assert!(out.is_empty());
    assert_eq!(format!("{:?}", run.desk), before);
}

#[derive(Debug, Clone)]
enum Step {
    Wait(u64),
    MemberIn(u64),
    MemberOut(u64),
    Escalate(u64, bool),
    Answered(u64),
    Failed(u64),
    Completes(u64),
    HandedOver(u64),
    Cancels(u64),
    HungUp(u64),
    PbxError(u64),
    LiveEnded(u64),
    Place(u64),
    Reached(u64),
    Unreached(u64),
    Resolve(u64),
    Follow(u64),
}

fn step() -> impl Strategy<Value = Step> {
    let id = 1u64..6;
    let member = 1u64..4;
    prop_oneof![
        (1u64..200).prop_map(Step::Wait),
        member.clone().prop_map(Step::MemberIn),
        member.clone().prop_map(Step::MemberOut),
        (id.clone(), any::<bool>()).prop_map(|(i, u)| Step::Escalate(i, u)),
        id.clone().prop_map(Step::Answered),
        id.clone().prop_map(Step::Failed),
        id.clone().prop_map(Step::Completes),
        id.clone().prop_map(Step::HandedOver),
        id.clone().prop_map(Step::Cancels),
        id.clone().prop_map(Step::HungUp),
        id.clone().prop_map(Step::PbxError),
        member.prop_map(Step::LiveEnded),
        id.clone().prop_map(Step::Place),
        id.clone().prop_map(Step::Reached),
        id.clone().prop_map(Step::Unreached),
        id.clone().prop_map(Step::Resolve),
        id.prop_map(Step::Follow),
    ]
}

/// Commands seen so far, counted per escalation, ticket and member.
#[derive(Default)]
struct Tally {
    ended: HashMap<EscalationId, u32>,
    released: HashMap<EscalationId, u32>,
    opened: HashMap<TicketId, u32>,
    resolved: HashMap<TicketId, u32>,
}

impl Tally {
    fn take(&mut self, out: &mut Vec<DeskCommand>) {
        for command in out.drain(..) {
            match command {
                DeskCommand::Ended { id, .. } => *self.ended.entry(id).or_default() += 1,
                DeskCommand::ReleaseAgent { id, .. } => *self.released.entry(id).or_default() += 1,
                DeskCommand::OpenTicket { ticket, .. } => {
                    *self.opened.entry(ticket).or_default() += 1
                }
                DeskCommand::Resolved { ticket, .. } => {
                    *self.resolved.entry(ticket).or_default() += 1
                }
                _ => {}
            }
        }
    }
}

/// No member is ringing, consulting or calling back for two things at once.
fn members_do_one_thing(desk: &Desk) -> Result<(), TestCaseError> {
    let mut busy: HashMap<MemberId, u32> = HashMap::new();
    for e in desk.escalations.values() {
        match e.stage {
            Stage::Ringing { member, .. }
            | Stage::Consulting { member }
            | Stage::Handing { member } => *busy.entry(member).or_default() += 1,
            Stage::Waiting => {}
        }
    }
    for t in desk.tickets.values() {
        match t.stage {
            TicketStage::Offered(m) | TicketStage::Calling(m) | TicketStage::Talking(m) => {
                *busy.entry(m).or_default() += 1
            }
            TicketStage::Open { .. } => {}
        }
    }
    for (member, n) in &busy {
        prop_assert!(*n <= 1, "{member:?} does {n} things at once");
        if let Some(m) = desk.members.get(member) {
            prop_assert!(m.state != MemberState::Free, "{member:?} free while busy");
        }
    }
    // And a member taken is taken by something that exists.
    for (id, m) in &desk.members {
        let held = match m.state {
            MemberState::Ringing(e) | MemberState::Consulting(e) => {
                desk.escalations.contains_key(&e)
            }
            MemberState::OnCallback(t) => desk.tickets.contains_key(&t),
            MemberState::Free | MemberState::Live => true,
        };
        prop_assert!(held, "{id:?} stuck in {:?}", m.state);
        prop_assert!(
            m.state == MemberState::Free || m.state == MemberState::Live || busy.contains_key(id),
            "{id:?} in {:?} for nothing",
            m.state
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn every_escalation_ends_once_and_frees_its_agent(steps in prop::collection::vec(step(), 0..80)) {
        let mut desk = Desk::new(DeskConfig::default());
        let mut now = 0u64;
        let mut out = Vec::new();
        let mut tally = Tally::default();
        let mut escalated = Vec::new();
        let mut followed = Vec::new();
        for step in steps {
            let event = match step {
                Step::Wait(s) => { now += s; DeskEvent::Tick }
                Step::MemberIn(m) => DeskEvent::MemberIn { member: MemberId(m), languages: vec![if m % 2 == 0 { "hi" } else { "en" }.into()] },
                Step::MemberOut(m) => DeskEvent::MemberOut(MemberId(m)),
                Step::Escalate(i, urgent) => DeskEvent::Escalate {
                    id: EscalationId(i), call: CallId(i), agent: AgentId(i),
                    urgency: if urgent { Urgency::Urgent } else { Urgency::Routine },
                    language: "hi".into(),
                },
                Step::Answered(i) => DeskEvent::MemberAnswered(EscalationId(i)),
                Step::Failed(i) => DeskEvent::MemberFailed(EscalationId(i)),
                Step::Completes(i) => DeskEvent::AgentCompletes(EscalationId(i)),
                Step::HandedOver(i) => DeskEvent::HandedOver(EscalationId(i)),
                Step::Cancels(i) => DeskEvent::AgentCancels(EscalationId(i)),
                Step::HungUp(i) => DeskEvent::ContactHungUp(EscalationId(i)),
                Step::PbxError(i) => DeskEvent::PbxError(EscalationId(i)),
                Step::LiveEnded(m) => DeskEvent::LiveCallEnded(MemberId(m)),
                Step::Place(i) => { let _ = desk.callback_placed(TicketId(i)); DeskEvent::Tick }
                Step::Reached(i) => DeskEvent::CallbackReached(TicketId(i)),
                Step::Unreached(i) => DeskEvent::CallbackUnreached(TicketId(i)),
                Step::Resolve(i) => DeskEvent::Resolve(TicketId(i), Resolution::TeleconsultationDone),
                Step::Follow(i) => DeskEvent::FollowTicket {
                    ticket: TicketId(i), urgency: Urgency::Routine, language: "en".into(), member: Some(MemberId(1 + i % 3)), tries: (i % 4) as u32,
                },
            };
            let before = format!("{desk:?}");
            match desk.handle(at(now), event.clone(), &mut out) {
                Ok(()) => {
                    if let DeskEvent::Escalate { id, .. } = event {
                        escalated.push(id);
                    }
                    if let DeskEvent::FollowTicket { ticket, .. } = event {
                        followed.push(ticket);
                    }
                }
                Err(_) => {
                    prop_assert!(out.is_empty(), "a refused event gave commands");
                    prop_assert_eq!(before, format!("{desk:?}"), "a refused event changed the desk");
                    if let DeskEvent::Escalate { id, .. } = &event {
                        prop_assert!(
                            escalated.contains(id) || followed.contains(&TicketId(id.0)),
                            "a new escalation refused"
                        );
                    }
                }
            }
            tally.take(&mut out);
            members_do_one_thing(&desk)?;
            for (id, n) in &tally.ended {
                prop_assert_eq!(*n, 1, "{:?} ended {} times", id, n);
            }
            for (ticket, n) in &tally.resolved {
                prop_assert_eq!(*n, 1, "{:?} resolved {} times", ticket, n);
            }
        }
        // Whatever is left: every caller hangs up, then every ticket is resolved.
        let open: Vec<EscalationId> = desk.escalations.keys().copied().collect();
        for id in open {
            desk.handle(at(now), DeskEvent::ContactHungUp(id), &mut out).unwrap();
        }
        let tickets: Vec<TicketId> = desk.tickets.keys().copied().collect();
        for ticket in tickets {
            desk.handle(at(now), DeskEvent::Resolve(ticket, Resolution::NoActionNeeded), &mut out).unwrap();
        }
        tally.take(&mut out);
        prop_assert_eq!(desk.open(), (0, 0));
        for ticket in &followed {
            prop_assert!(!escalated.contains(&EscalationId(ticket.0)), "{:?} followed and escalated", ticket);
            prop_assert_eq!(tally.resolved.get(ticket), Some(&1), "{:?} followed, not resolved once", ticket);
        }
        for id in &escalated {
            prop_assert_eq!(tally.ended.get(id), Some(&1), "{:?} did not end exactly once", id);
            prop_assert_eq!(tally.released.get(id), Some(&1), "{:?} released its agent {:?} times", id, tally.released.get(id));
            let ticket = TicketId(id.0);
            let record = desk.records().find(|r| r.id == *id).unwrap();
            match record.outcome {
                Some(EscalationOutcome::Live { .. }) => prop_assert!(!tally.opened.contains_key(&ticket)),
                Some(EscalationOutcome::Ticket { .. }) => {
                    prop_assert_eq!(tally.opened.get(&ticket), Some(&1));
                    prop_assert_eq!(tally.resolved.get(&ticket), Some(&1));
                }
                None => prop_assert!(false, "{:?} has no outcome", id),
            }
        }
    }
}
