//! Crash safety: a dialer process killed with SIGKILL in the middle of a
//! campaign, then started again. Nothing may be lost (every contact ends with
//! an outcome) and nothing duplicated (no one is dialed twice at once, no one
//! is completed twice); the attempts the crash left open end as `interrupted`.

use sanjeevani_contacts::AttemptOutcome;
use sanjeevani_store::{Attempt, ContactId, Store};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CONTACTS: u64 = 100;

fn fixture(name: &str) -> String {
    format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn start_dialer(data: &Path) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sanjeevani"));
    command
        .args([
            "dial",
            "--campaign",
            "wellness",
            "--list",
            "ward-12",
            "--node",
            "node-a",
            "--exit-when-done",
        ])
        .args([
            "--settings",
            &fixture("crash-campaign.toml"),
            "--simulate",
            &fixture("crash-scenario.toml"),
        ])
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command.spawn().expect("the dialer starts")
}

/// Kills the child on drop, so that a failing test leaves no process behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn all_attempts(store: &dyn Store) -> Vec<Vec<Attempt>> {
    let mut all = Vec::new();
    for id in 1..=CONTACTS as i64 {
        all.push(store.attempts_of(ContactId(id)).await.unwrap());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dialer_killed_mid_campaign_loses_nothing_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let csv = data.join("contacts.csv");
    let numbers: Vec<String> = (0..CONTACTS)
        .map(|i| (9_870_000_000 + i).to_string())
        .collect();
    std::fs::write(&csv, format!("phone\n{}\n", numbers.join("\n"))).unwrap();
    let import = Command::new(env!("CARGO_BIN_EXE_sanjeevani"))
        .args(["import", "contacts"])
        .arg(&csv)
        .args(["--list", "ward-12", "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let store = sanjeevani_store::open(None, data).await.unwrap();

    // Run until a good part of the list is done and calls are in progress, then SIGKILL.
    let mut dialer = Running(start_dialer(data));
    let deadline = Instant::now() + Duration::from_secs(60);
    let open_at_kill = loop {
        assert!(Instant::now() < deadline, "the dialer made no progress");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let Some(campaign) = store.campaign_by_name("wellness").await.unwrap() else {
            continue;
        };
        let done = store.contact_counts(campaign.id, 0).await.unwrap().done;
        let open = store.open_attempts(campaign.id).await.unwrap();
        if done >= CONTACTS / 4 && !open.is_empty() {
            dialer.0.kill().unwrap(); // SIGKILL
            dialer.0.wait().unwrap();
            break store.open_attempts(campaign.id).await.unwrap();
        }
    };
    assert!(
        !open_at_kill.is_empty(),
        "the kill caught calls in progress"
    );
    let campaign = store
        .campaign_by_name("wellness")
        .await
        .unwrap()
        .unwrap()
        .id;

    // Start again on the same node and let it finish the list.
    let mut dialer = Running(start_dialer(data));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = dialer.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted dialer did not finish the list"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success());

    let counts = store.contact_counts(campaign, 0).await.unwrap();
    assert_eq!(counts.pending, 0, "{counts:?}");
    assert_eq!(
        counts.done + counts.exhausted,
        CONTACTS,
        "every contact ends with an outcome: {counts:?}"
    );
    assert!(store.open_attempts(campaign).await.unwrap().is_empty());

    let attempts = all_attempts(&*store).await;
    for history in &attempts {
        let completed = history
            .iter()
            .filter(|a| a.outcome == Some(AttemptOutcome::Completed))
            .count();
        assert!(completed <= 1, "completed twice: {history:?}");
        for pair in history.windows(2) {
            assert!(
                pair[0].end_at.unwrap() <= pair[1].dial_at,
                "dialed twice at once: {history:?}"
            );
        }
    }
    // Exactly the attempts open at the kill ended as interrupted, and each was
    // counted: its contact was dialed again or ran out of tries.
    let interrupted: Vec<&Attempt> = attempts
        .iter()
        .flatten()
        .filter(|a| a.outcome == Some(AttemptOutcome::Interrupted))
        .collect();
    let mut expected: Vec<_> = open_at_kill.iter().map(|a| a.id).collect();
    let mut found: Vec<_> = interrupted.iter().map(|a| a.id).collect();
    expected.sort();
    found.sort();
    assert_eq!(found, expected);
    for a in interrupted {
        let history = &attempts[(a.contact.0 - 1) as usize];
        assert!(
            history.last().unwrap().id != a.id || history.len() >= 3,
            "interrupted and never retried: {history:?}"
        );
    }
}
