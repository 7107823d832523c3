//! The one definition of each figure the centre is steered and judged by:
//! the core's live accounting, the runtime's live view and wallboard, the
//! daily report and the simulator all compute them here.
//!
//! A *live answer* is a call a person answered (an answering machine is a
//! failure, not a live answer); it ends either connected to an agent or
//! abandoned. Calls withdrawn or interrupted before an answer are neither.

/// `part` over `whole`, and 0 when there is no whole.
pub fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        part / whole
    } else {
        0.0
    }
}

/// Abandoned calls over live answers (0 before the first answer): the
/// figure the cap is set on, over a whole run or a rolling window.
pub fn abandon_rate(abandoned: u64, live_answers: u64) -> f64 {
    share(abandoned as f64, live_answers as f64)
}

/// Live answers over the dials that reached a result.
pub fn answer_rate(answered: u64, dials_resolved: u64) -> f64 {
    share(answered as f64, dials_resolved as f64)
}

/// Agents' time on calls and wrap-up over their time logged in.
pub fn occupancy(busy_ms: u64, staffed_ms: u64) -> f64 {
    share(busy_ms as f64, staffed_ms as f64)
}

/// Calls in progress per staffed agent.
pub fn dial_level(calls_in_progress: u64, staffed_agents: u64) -> f64 {
    share(calls_in_progress as f64, staffed_agents as f64)
}

/// Connects per hour an agent is logged in.
pub fn connects_per_agent_hour(connects: u64, staffed_ms: u64) -> f64 {
    share(connects as f64, staffed_ms as f64 / 3_600_000.0)
}

/// Inbound callers answered within the target time over those who were
/// answered or left the queue unanswered.
pub fn service_level(answered_in_time: u64, answered_or_lost: u64) -> f64 {
    share(answered_in_time as f64, answered_or_lost as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_with_nothing_to_divide_by_are_zero() {
        assert_eq!(abandon_rate(3, 0), 0.0);
        assert_eq!(occupancy(5, 0), 0.0);
        assert_eq!(abandon_rate(3, 100), 0.03);
        assert_eq!(connects_per_agent_hour(30, 2 * 3_600_000), 15.0);
        assert_eq!(dial_level(3, 2), 1.5);
    }
}
