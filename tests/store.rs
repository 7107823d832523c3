//! The store against real databases: every test runs on SQLite (a file in a
//! temporary folder) and on PostgreSQL (a fresh database on 127.0.0.1:5432, or
//! `SANJEEVANI_TEST_POSTGRES`).

use chrono::{TimeZone, Utc};
use sanjeevani_contacts::{
    AttemptOutcome, Category, ColumnMapping, Next, Phone, Region, RiskFlag, SheetFormat,
};
use sanjeevani_store::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

fn postgres_server() -> String {
    std::env::var("SANJEEVANI_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// 2026-11-28 10:00 in India.
fn ten_am() -> Millis {
    chrono_tz::Asia::Kolkata
        .with_ymd_and_hms(2026, 11, 28, 10, 0, 0)
        .unwrap()
        .timestamp_millis()
}

const MINUTE: Millis = 60_000;

struct Backends {
    _dir: tempfile::TempDir,
    stores: Vec<Arc<dyn Store>>,
}

async fn backends(test: &str) -> Backends {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = open(None, dir.path()).await.unwrap();
    let postgres = PostgresStore::fresh(&postgres_server(), &format!("sanjeevani_test_{test}"))
        .await
        .unwrap();
    Backends {
        _dir: dir,
        stores: vec![sqlite, Arc::new(postgres)],
    }
}

fn phone(s: &str) -> Phone {
    Phone::parse(s, Region::default()).unwrap()
}

async fn import_fixture(store: &dyn Store, list: ListId) -> (ImportReport, Vec<Skipped>) {
    let file = std::fs::File::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/contacts-broken.csv"
    ))
    .unwrap();
    let mut errors = Vec::new();
    let report = import_csv(
        store,
        file,
        list,
        &ColumnMapping::default(),
        ten_am(),
        |e| errors.push(e.clone()),
        |_| {},
    )
    .await
    .unwrap();
    (report, errors)
}

#[tokio::test]
async fn a_broken_file_imports_every_good_row_and_reports_every_bad_one() {
    for store in backends("import").await.stores {
        let list = store.create_list("district-pune", ten_am()).await.unwrap();
        store
            .add_do_not_call(&[phone("9876543219")], "asked not to be called", ten_am())
            .await
            .unwrap();
        let (report, errors) = import_fixture(&*store, list).await;
        let label = store.backend();
        assert_eq!(
            report,
            ImportReport {
                imported: 4,
                duplicate: 1,
                do_not_call: 1,
                invalid: 9,
                blank: 1,
                unknown_words: vec![UnknownWord {
                    field: "category".into(),
                    word: "hospital".into(),
                    rows: 1,
                    first_line: 13,
                }],
            },
            "{label}"
        );
        // Every row not imported is named by its line: bad rows with their
        // field, the duplicate with the line it repeats, the do-not-call one.
        let where_: Vec<(u64, SkipKind, &str)> = errors
            .iter()
            .map(|s| (s.error.line, s.kind, s.error.field.as_str()))
            .collect();
        use SkipKind::*;
        assert_eq!(
            where_,
            [
                (4, Invalid, "phone"),
                (5, Invalid, "phone"),
                (6, Invalid, "row"),
                (8, Invalid, "name"),
                (9, Duplicate, "phone"),
                (10, DoNotCall, "phone"),
                (11, Invalid, "age"),
                (12, Invalid, "follow_up_start"),
                (13, Invalid, "category"),
                (18, Invalid, "phone"),
                (19, Invalid, "comorbidity"),
            ],
            "{label}"
        );
        assert!(
            errors[0].error.reason.contains("letters"),
            "{}",
            errors[0].error
        );
        assert_eq!(
            errors[4].error.reason, "the same number as line 2",
            "{label}"
        );
        assert_eq!(
            report.unknown_words[0].mapping_line(),
            r#"[values.category] "hospital" = "<home_isolation | care_centre | general_public>""#
        );
        assert_eq!(store.list_size(list).await.unwrap(), 4, "{label}");

        // The same file again: every good row is now a duplicate of the
        // list, each named by its line.
        let (again, skipped) = import_fixture(&*store, list).await;
        assert_eq!((again.imported, again.duplicate), (0, 5), "{label}");
        let in_list: Vec<u64> = skipped
            .iter()
            .filter(|s| s.error.reason == "the list has this number already")
            .map(|s| s.error.line)
            .collect();
        assert_eq!(in_list, [2, 3, 14, 17], "{label}");
    }
}

/// The same district list as an `.xlsx` made here and as an `.ods`: Hindi
/// headers, the centre's own category words in Hindi and English, phone
/// numbers and ages typed as numbers, a date cell, and a word of the list's
/// own that is summed up once and then taught through the mapping.
fn hindi_xlsx() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (c, h) in ["नाम", "मोबाइल नंबर", "श्रेणी", "उम्र", "जोखिम", "शुरुआत की तारीख़"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "राम शर्मा").unwrap();
    sheet.write_number(1, 1, 9876543210.0).unwrap();
    sheet.write_string(1, 2, "होम आइसोलेशन").unwrap();
    sheet.write_number(1, 3, 67.0).unwrap();
    let start = ExcelDateTime::from_ymd(2026, 11, 28).unwrap();
    sheet
        .write_datetime_with_format(1, 5, &start, &date)
        .unwrap();
    sheet.write_string(2, 0, "सीता देवी").unwrap();
    sheet.write_string(2, 1, "+91 98765-43211").unwrap();
    sheet
        .write_string(2, 2, "admitted to a COVID centre")
        .unwrap();
    sheet.write_number(2, 3, 45.0).unwrap();
    sheet.write_string(2, 4, "गर्भवती").unwrap();
    for (r, name, number, word) in [
        (3, "Farida", 9876543216.0, "quarantine"),
        (4, "Anil", 9876543214.0, "Quarantine"),
    ] {
        sheet.write_string(r, 0, name).unwrap();
        sheet.write_number(r, 1, number).unwrap();
        sheet.write_string(r, 2, word).unwrap();
        sheet.write_number(r, 3, 50.0).unwrap();
    }
    sheet.write_string(5, 0, "Ravi").unwrap();
    sheet.write_string(5, 1, "98765O4321").unwrap();
    sheet.write_string(5, 2, "आम जनता").unwrap();
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn spreadsheets_in_hindi_import_like_csv_and_name_the_words_to_map() {
    let ods = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/contacts-hindi.ods"
    ))
    .unwrap();
    for store in backends("sheets").await.stores {
        let label = store.backend();
        for (name, bytes, format) in [
            ("xlsx", hindi_xlsx(), SheetFormat::Xlsx),
            ("ods", ods.clone(), SheetFormat::Ods),
        ] {
            let list = store.create_list(name, ten_am()).await.unwrap();
            let import = |mapping: ColumnMapping, bytes: Vec<u8>| {
                let store = store.clone();
                async move {
                    let mut skipped = Vec::new();
                    let report = import_contacts(
                        &*store,
                        ContactFile::<std::io::Empty>::Sheet(bytes, format),
                        list,
                        &mapping,
                        ten_am(),
                        |s| skipped.push(s.clone()),
                        |_| {},
                    )
                    .await
                    .unwrap();
                    (report, skipped)
                }
            };
            let (report, skipped) = import(ColumnMapping::default(), bytes.clone()).await;
            assert_eq!(
                (report.imported, report.invalid),
                (2, 3),
                "{label} {name}: {report:?}"
            );
            let lines: Vec<(u64, &str)> = skipped
                .iter()
                .map(|s| (s.error.line, s.error.field.as_str()))
                .collect();
            assert_eq!(
                lines,
                [(4, "category"), (5, "category"), (6, "phone")],
                "{label} {name}"
            );
            assert_eq!(
                report.unknown_words,
                [UnknownWord {
                    field: "category".into(),
                    word: "quarantine".into(),
                    rows: 2,
                    first_line: 4
                }],
                "{label} {name}: one line for the word, whatever its case"
            );
            let mut contacts = Vec::new();
            for id in 1..=20 {
                if let Ok(c) = store.contact(sanjeevani_store::ContactId(id)).await {
                    if c.list == list {
                        contacts.push(c);
                    }
                }
            }
            let ram = contacts
                .iter()
                .find(|c| c.name == "राम शर्मा")
                .expect("imported");
            assert_eq!(
                ram.phone.as_str(),
                "+919876543210",
                "{label} {name}: a number cell is a phone"
            );
            assert_eq!(ram.category, Category::HomeIsolation);
            assert_eq!(
                ram.risk,
                [RiskFlag::AgeOver60],
                "{label} {name}: the age column by its Hindi name"
            );
            assert_eq!(
                ram.follow_up.map(|f| f.start.to_string()).as_deref(),
                Some("2026-11-28"),
                "{label} {name}: a date cell"
            );
            let sita = contacts.iter().find(|c| c.name == "सीता देवी").unwrap();
            assert_eq!(
                (sita.category, &sita.risk[..]),
                (Category::CareCentre, &[RiskFlag::Pregnant][..])
            );

            // Taught the word in the mapping, the same file imports those rows.
            let mapping: ColumnMapping =
                toml::from_str("[values.category]\n\"Quarantine\" = \"home_isolation\"\n").unwrap();
            let (again, _) = import(mapping, bytes).await;
            assert_eq!(
                (again.imported, again.duplicate, again.invalid),
                (2, 2, 1),
                "{label} {name}"
            );
            assert!(again.unknown_words.is_empty());
        }
    }
}

/// A sheet whose table starts lower and to the right (B3), with an empty
/// row inside it and a note beside it in a column without a header: rows
/// are numbered as the spreadsheet shows them, the empty one counted, the
/// note ignored.
#[tokio::test]
async fn a_spreadsheet_table_away_from_the_corner_keeps_its_row_numbers() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let store = open(None, dir.path()).await.unwrap();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(2, 1, "name").unwrap();
    sheet.write_string(2, 2, "phone").unwrap();
    sheet.write_string(3, 1, "Meena").unwrap();
    sheet.write_number(3, 2, 9876543220.0).unwrap();
    sheet.write_string(3, 4, "call after 5").unwrap();
    sheet.write_string(5, 1, "Kiran").unwrap();
    sheet.write_string(5, 2, "98765O4321").unwrap();
    sheet.write_string(6, 1, "Joseph").unwrap();
    sheet.write_number(6, 2, 9876543221.0).unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let list = store.create_list("corner", ten_am()).await.unwrap();
    let mut skipped = Vec::new();
    let report = import_contacts(
        &*store,
        ContactFile::<std::io::Empty>::Sheet(bytes, SheetFormat::Xlsx),
        list,
        &ColumnMapping::default(),
        ten_am(),
        |s| skipped.push(s.clone()),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (report.imported, report.invalid, report.blank),
        (2, 1, 1),
        "{report:?}"
    );
    let lines: Vec<(u64, &str)> = skipped
        .iter()
        .map(|s| (s.error.line, s.error.field.as_str()))
        .collect();
    assert_eq!(lines, [(6, "phone")]);
}

async fn campaign_with(
    store: &dyn Store,
    name: &str,
    contacts: &[(&str, &str)],
) -> (CampaignId, ListId) {
    let list = store.create_list(name, ten_am()).await.unwrap();
    let csv = std::iter::once("name,phone,risk".to_string())
        .chain(
            contacts
                .iter()
                .map(|(number, risk)| format!("{number},{number},{risk}")),
        )
        .collect::<Vec<_>>()
        .join("\n");
    let report = import_csv(
        store,
        std::io::Cursor::new(csv),
        list,
        &ColumnMapping::default(),
        ten_am(),
        |e| panic!("{}", e.error),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.imported as usize, contacts.len());
    let campaign = store
        .create_campaign(name, &CampaignSettings::default(), &[list], ten_am())
        .await
        .unwrap();
    store
        .set_campaign_state(campaign, CampaignState::Running)
        .await
        .unwrap();
    (campaign, list)
}

fn attempt(contact: &LeasedContact, campaign: CampaignId, node: &str, at: Millis) -> NewAttempt {
    NewAttempt {
        contact: contact.id,
        campaign,
        node: node.into(),
        dial_at: at,
        agent: None,
    }
}

/// A list attached to a running campaign is dialled from the next lease on,
/// once: attaching it again changes nothing.
#[tokio::test]
async fn a_list_attached_to_a_campaign_is_leased_from_then_on() {
    for store in backends("attach_list").await.stores {
        let (campaign, first) = campaign_with(&*store, "attach", &[("9876500011", "")]).await;
        let (_, second) = campaign_with(&*store, "attach-more", &[("9876500012", "")]).await;
        let leased = store
            .lease(campaign, "node-a", 5, ten_am(), MINUTE)
            .await
            .unwrap();
        assert_eq!(leased.len(), 1, "{}", store.backend());

        assert!(store.attach_list(campaign, second).await.unwrap());
        assert!(
            !store.attach_list(campaign, second).await.unwrap(),
            "attached once"
        );
        assert!(!store.attach_list(campaign, first).await.unwrap());
        let lists = store.campaign(campaign).await.unwrap().lists;
        assert_eq!(lists, vec![first, second], "{}", store.backend());
        let more = store
            .lease(campaign, "node-a", 5, ten_am(), MINUTE)
            .await
            .unwrap();
        let phones: Vec<&str> = more.iter().map(|c| c.phone.as_str()).collect();
        assert_eq!(phones, ["+919876500012"], "{}", store.backend());
    }
}

#[tokio::test]
async fn leases_go_to_high_risk_first_and_only_the_holder_may_dial() {
    for store in backends("lease_order").await.stores {
        let (campaign, _) = campaign_with(
            &*store,
            "order",
            &[
                ("9876500001", ""),
                ("9876500002", "age_over_60;comorbidity"),
                ("9876500003", "age_over_60"),
            ],
        )
        .await;
        let now = ten_am();
        let first = store
            .lease(campaign, "node-a", 2, now, MINUTE)
            .await
            .unwrap();
        let phones: Vec<&str> = first.iter().map(|c| c.phone.as_str()).collect();
        assert_eq!(
            phones,
            ["+919876500002", "+919876500003"],
            "{}",
            store.backend()
        );

        // Another node gets only what is left; nothing twice.
        let second = store
            .lease(campaign, "node-b", 5, now, MINUTE)
            .await
            .unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].phone.as_str(), "+919876500001");

        // Only the holder may dial, and never twice at once.
        let err = store
            .begin_attempt(&attempt(&first[0], campaign, "node-b", now))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotLeased(_)), "{err}");
        let a = store
            .begin_attempt(&attempt(&first[0], campaign, "node-a", now))
            .await
            .unwrap();
        let err = store
            .begin_attempt(&attempt(&first[0], campaign, "node-a", now))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotLeased(_)), "{err}");

        // A busy outcome frees the lease and makes the contact due in 10 minutes.
        store
            .mark_attempt(a, AttemptMark::Ringing { at: now + 1_000 })
            .await
            .unwrap();
        let end = AttemptEnd {
            outcome: AttemptOutcome::Busy,
            at: now + 5_000,
            cause: Some("486".into()),
        };
        let decision = store.finish_attempt(a, &end).await.unwrap();
        assert_eq!(
            decision.next,
            Next::Due {
                at: utc(now + 5_000 + 10 * MINUTE),
                agent_required: false
            }
        );
        assert!(matches!(
            store.finish_attempt(a, &end).await,
            Err(StoreError::AttemptClosed(_))
        ));
        // (The other leases have lapsed by then and come back too.)
        let early = store
            .lease(campaign, "node-a", 5, now + 6 * MINUTE, 60 * MINUTE)
            .await
            .unwrap();
        assert_eq!(early.len(), 2);
        assert!(early.iter().all(|c| c.id != first[0].id));
        let again = store
            .lease(campaign, "node-a", 5, now + 11 * MINUTE, MINUTE)
            .await
            .unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!((again[0].id, again[0].attempts_total), (first[0].id, 1));

        let history = store.attempts_of(first[0].id).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(
            (history[0].ring_at, history[0].end_at),
            (Some(now + 1_000), Some(now + 5_000))
        );
        assert_eq!(history[0].outcome, Some(AttemptOutcome::Busy));
    }
}

fn utc(ms: Millis) -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap()
}

#[tokio::test]
async fn the_calling_window_do_not_call_callbacks_and_alerts_are_applied() {
    for store in backends("rules").await.stores {
        let label = store.backend();
        let (campaign, _) = campaign_with(
            &*store,
            "rules",
            &[
                ("9876500011", "comorbidity"),
                ("9876500012", ""),
                ("9876500013", ""),
            ],
        )
        .await;

        // At 22:00 the window is closed: nothing is leased and contacts move to 08:00.
        let late = ten_am() + 12 * 60 * MINUTE;
        assert!(
            store
                .lease(campaign, "n", 10, late, MINUTE)
                .await
                .unwrap()
                .is_empty(),
            "{label}"
        );
        let next_morning = ten_am() + 22 * 60 * MINUTE;
        assert_eq!(store.contact_counts(campaign, late).await.unwrap().due, 0);

        // A number put on the do-not-call list after import is never leased.
        store
            .add_do_not_call(&[phone("9876500013")], "request", next_morning)
            .await
            .unwrap();
        let leased = store
            .lease(campaign, "n", 10, next_morning, MINUTE)
            .await
            .unwrap();
        assert_eq!(leased.len(), 2, "{label}");
        let counts = store.contact_counts(campaign, next_morning).await.unwrap();
        assert_eq!((counts.do_not_call, counts.leased), (1, 2), "{label}");

        // The high-risk contact fails three times in a day: one alert.
        let risky = leased.iter().find(|c| !c.risk.is_empty()).unwrap().clone();
        let mut t = next_morning;
        for _ in 0..3 {
            store.lease(campaign, "n", 10, t, MINUTE).await.unwrap();
            let a = store
                .begin_attempt(&attempt(&risky, campaign, "n", t))
                .await
                .unwrap();
            store
                .finish_attempt(
                    a,
                    &AttemptEnd {
                        outcome: AttemptOutcome::NoAnswer,
                        at: t + 25_000,
                        cause: None,
                    },
                )
                .await
                .unwrap();
            t += 31 * MINUTE;
        }
        let alerts = store.open_alerts().await.unwrap();
        assert_eq!(alerts.len(), 1, "{label}");
        assert_eq!(
            (alerts[0].contact, alerts[0].kind.as_str()),
            (risky.id, "unreachable_high_risk")
        );

        // A scheduled callback comes first once due, with its agent.
        let other = leased.iter().find(|c| c.risk.is_empty()).unwrap();
        store.release(other.id, "n").await.unwrap();
        store
            .schedule_callback(other.id, t, Some(7), t)
            .await
            .unwrap();
        let next = store.lease(campaign, "n", 1, t, MINUTE).await.unwrap();
        assert_eq!(
            (next[0].id, next[0].callback_agent),
            (other.id, Some(7)),
            "{label}"
        );
    }
}

/// The person asks to be called back in two hours; the agent saves the call,
/// which then ends as completed. Before, the end moved the contact to its
/// plan (done, or tomorrow) and the callback was lost.
#[tokio::test]
async fn a_callback_asked_for_during_a_call_outlives_its_end() {
    for store in backends("callback_call").await.stores {
        let label = store.backend();
        let (campaign, _) = campaign_with(&*store, "callback_call", &[("9876500031", "")]).await;
        let now = ten_am();
        let leased = store.lease(campaign, "n", 1, now, MINUTE).await.unwrap();
        let person = leased[0].id;
        let first = store
            .begin_attempt(&attempt(&leased[0], campaign, "n", now))
            .await
            .unwrap();
        let at = now + 120 * MINUTE;
        store
            .schedule_callback(person, at, Some(7), now + 20_000)
            .await
            .unwrap();
        let completed = |at| AttemptEnd {
            outcome: AttemptOutcome::Completed,
            at,
            cause: None,
        };
        store
            .finish_attempt(first, &completed(now + 40_000))
            .await
            .unwrap();
        let early = store
            .lease(campaign, "n", 1, at - MINUTE, MINUTE)
            .await
            .unwrap();
        assert!(early.is_empty(), "{label}: not before the callback");
        let due = store.lease(campaign, "n", 1, at, MINUTE).await.unwrap();
        assert_eq!(
            due.iter()
                .map(|c| (c.id, c.callback_agent))
                .collect::<Vec<_>>(),
            [(person, Some(7))],
            "{label}"
        );
        // The callback itself, completed: done, as the plan says.
        let second = store
            .begin_attempt(&attempt(&due[0], campaign, "n", at))
            .await
            .unwrap();
        store
            .finish_attempt(second, &completed(at + 40_000))
            .await
            .unwrap();
        let tomorrow = at + 24 * 60 * MINUTE;
        let later = store
            .lease(campaign, "n", 1, tomorrow, MINUTE)
            .await
            .unwrap();
        assert!(later.is_empty(), "{label}: {later:?}");
    }
}

/// What an agent types for a call is kept until the call is recorded; an
/// answered call without a result stays on the agent's list to record.
#[tokio::test]
async fn a_call_stays_to_record_with_its_draft_until_its_result_is_saved() {
    for store in backends("drafts").await.stores {
        let label = store.backend();
        let (campaign, _) =
            campaign_with(&*store, "drafts", &[("9876500041", ""), ("9876500042", "")]).await;
        let now = ten_am();
        let leased = store.lease(campaign, "n", 2, now, MINUTE).await.unwrap();
        let mut calls = vec![];
        for c in &leased {
            calls.push(
                store
                    .begin_attempt(&attempt(c, campaign, "n", now))
                    .await
                    .unwrap(),
            );
        }
        // Only the first is answered and connected to agent 9.
        store
            .mark_attempt(
                calls[0],
                AttemptMark::Connected {
                    at: now + 5_000,
                    agent: 9,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .unrecorded_calls(9, now - MINUTE)
                .await
                .unwrap()
                .iter()
                .map(|a| a.id)
                .collect::<Vec<_>>(),
            [calls[0]],
            "{label}"
        );
        assert!(store
            .unrecorded_calls(9, now + MINUTE)
            .await
            .unwrap()
            .is_empty());
        assert!(store
            .unrecorded_calls(8, now - MINUTE)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(store.draft(calls[0]).await.unwrap(), None);
        let mut draft = CallDraft {
            answers: serde_json::json!({"fever": true}),
            notes: "coughing".into(),
            code: String::new(),
        };
        store
            .save_draft(calls[0], &draft, now + 10_000)
            .await
            .unwrap();
        draft.code = "symptoms_reported".into();
        store
            .save_draft(calls[0], &draft, now + 12_000)
            .await
            .unwrap();
        assert_eq!(
            store.draft(calls[0]).await.unwrap(),
            Some(draft.clone()),
            "{label}"
        );
        assert!(matches!(
            store.save_draft(AttemptId(999_999), &draft, now).await,
            Err(StoreError::NotFound { .. })
        ));
        store
            .record_disposition(
                &NewDisposition {
                    attempt: calls[0],
                    agent: Some(9),
                    code: draft.code.clone(),
                    answers: draft.answers.clone(),
                    notes: draft.notes.clone(),
                    triage_override: None,
                },
                now + 20_000,
            )
            .await
            .unwrap();
        assert_eq!(store.draft(calls[0]).await.unwrap(), None, "{label}");
        assert!(store
            .unrecorded_calls(9, now - MINUTE)
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn a_restarted_node_closes_its_open_attempts_as_interrupted() {
    for store in backends("recover").await.stores {
        let (campaign, _) = campaign_with(
            &*store,
            "recover",
            &[("9876500021", ""), ("9876500022", "")],
        )
        .await;
        let now = ten_am();
        let leased = store
            .lease(campaign, "node-a", 2, now, MINUTE)
            .await
            .unwrap();
        store
            .begin_attempt(&attempt(&leased[0], campaign, "node-a", now))
            .await
            .unwrap();
        assert_eq!(store.recover_node("node-a", now + 1_000).await.unwrap(), 1);
        assert!(store.open_attempts(campaign).await.unwrap().is_empty());
        let history = store.attempts_of(leased[0].id).await.unwrap();
        assert_eq!(history[0].outcome, Some(AttemptOutcome::Interrupted));
        // Both are due again soon; the interrupted one has its attempt counted.
        let again = store
            .lease(campaign, "node-a", 2, now + 2 * MINUTE, MINUTE)
            .await
            .unwrap();
        let mut counts: Vec<u32> = again.iter().map(|c| c.attempts_total).collect();
        counts.sort();
        assert_eq!(counts, [0, 1], "{}", store.backend());
    }
}

#[tokio::test]
async fn accounts_sessions_audit_and_tickets() {
    for store in backends("desk").await.stores {
        let now = ten_am();
        let user = NewUser {
            username: "asha".into(),
            display_name: "Asha".into(),
            role: Role::Agent,
            password_hash: "$argon2id$stub".into(),
            must_change_password: true,
        };
        let id = store.create_user(&user, now).await.unwrap();
        assert!(matches!(
            store.create_user(&user, now).await,
            Err(StoreError::Exists { .. })
        ));
        let (found, hash) = store.user_for_login("asha").await.unwrap().unwrap();
        assert_eq!(
            (
                found.id,
                found.role,
                hash.as_str(),
                found.must_change_password
            ),
            (id, Role::Agent, "$argon2id$stub", true)
        );
        assert!(store.user_for_login("nobody").await.unwrap().is_none());

        // Sessions expire, end at logout, and die with a disabled account.
        const IDLE: i64 = 10 * MINUTE;
        let hour = 60 * MINUTE;
        store
            .create_session("h1", id, now, now + MINUTE)
            .await
            .unwrap();
        assert_eq!(
            store
                .session_user("h1", now + 1, IDLE)
                .await
                .unwrap()
                .unwrap()
                .id,
            id
        );
        assert!(store
            .session_user("h1", now + MINUTE, IDLE)
            .await
            .unwrap()
            .is_none());
        store
            .create_session("h2", id, now, now + MINUTE)
            .await
            .unwrap();
        store.delete_session("h2").await.unwrap();
        assert!(store.session_user("h2", now, IDLE).await.unwrap().is_none());
        // Unused for longer than the idle limit, a session ends; each use
        // (noted once a minute) keeps it going.
        store
            .create_session("idle", id, now, now + hour)
            .await
            .unwrap();
        for minute in [5, 14, 23] {
            assert!(store
                .session_user("idle", now + minute * MINUTE, IDLE)
                .await
                .unwrap()
                .is_some());
        }
        assert!(store
            .session_user("idle", now + 34 * MINUTE, IDLE)
            .await
            .unwrap()
            .is_none());
        // A new password ends every session but the one that set it.
        for token in ["keep", "other"] {
            store
                .create_session(token, id, now, now + hour)
                .await
                .unwrap();
        }
        store
            .set_user_password(id, "$argon2id$new", false, Some("keep"))
            .await
            .unwrap();
        let kept = store
            .session_user("keep", now, IDLE)
            .await
            .unwrap()
            .unwrap();
        assert!(!kept.must_change_password);
        assert!(store
            .session_user("other", now, IDLE)
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            store.user_for_login("asha").await.unwrap().unwrap().1,
            "$argon2id$new"
        );
        store
            .create_session("h3", id, now, now + MINUTE)
            .await
            .unwrap();
        store.set_user_disabled(id, true).await.unwrap();
        assert!(store.session_user("h3", now, IDLE).await.unwrap().is_none());
        assert!(store
            .session_user("keep", now, IDLE)
            .await
            .unwrap()
            .is_none());

        store
            .audit(&found, "view_contact", "contact/1", "", now)
            .await
            .unwrap();
        store
            .audit(&found, "export", "reports/daily", "", now + 1)
            .await
            .unwrap();
        let log = store.audit_log(10).await.unwrap();
        assert_eq!(
            log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["export", "view_contact"]
        );

        // A ticket is resolved once; the contact record reads back.
        let (campaign, _) = campaign_with(&*store, "desk", &[("9876543210", "age_over_60")]).await;
        let contact = store.lease(campaign, "n", 1, now, MINUTE).await.unwrap()[0].id;
        let ticket = NewTicket {
            contact,
            campaign,
            attempt: None,
            urgency: Urgency::Urgent,
            reason: "breathless".into(),
            answers: serde_json::json!({"spo2": 91}),
            rule: Some(serde_json::json!({"en": "SpO2 below 94", "hi": "SpO2 94 से कम"})),
            raised_by: Some(id),
            transfer_node: None,
            follow_node: Some("n1".into()),
        };
        let t = store.create_ticket(&ticket, now).await.unwrap();
        let stored = store.ticket(t).await.unwrap();
        assert_eq!(stored.transfer, TransferState::None);
        assert_eq!(
            stored.rule,
            ticket.rule,
            "{}: the rule reads back",
            store.backend()
        );
        assert!(matches!(
            store.transfer_went_live(t, id, now).await,
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(store.tickets(false).await.unwrap().len(), 1);
        store.assign_ticket(t, id).await.unwrap();
        store
            .resolve_ticket(t, Resolution::Admitted, Some(id), "", now + MINUTE)
            .await
            .unwrap();
        assert!(matches!(
            store
                .resolve_ticket(t, Resolution::Admitted, Some(id), "", now + MINUTE)
                .await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(store.tickets(false).await.unwrap().is_empty());
        let done = store.ticket(t).await.unwrap();
        assert_eq!(
            (
                done.resolution,
                done.assigned_to,
                done.answers["spo2"].as_i64()
            ),
            (Some(Resolution::Admitted), Some(id), Some(91))
        );
        let of_contact = store.tickets_of(contact).await.unwrap();
        assert_eq!(of_contact.iter().map(|t| t.id).collect::<Vec<_>>(), [t]);
        assert!(store
            .tickets_of(sanjeevani_store::ContactId(contact.0 + 1000))
            .await
            .unwrap()
            .is_empty());
        let record = store.contact(contact).await.unwrap();
        assert_eq!(record.phone.as_str(), "+919876543210");
        assert_eq!(record.risk.len(), 1);

        // Warm transfers: ringing tickets are open until they go live (closed
        // at once) or fall back (open, assigned); each happens once, and what
        // a stopped node left ringing falls back as interrupted.
        let on = |node: &str| NewTicket {
            transfer_node: Some(node.into()),
            follow_node: Some(node.into()),
            ..ticket.clone()
        };
        let live = store.create_ticket(&on("n1"), now).await.unwrap();
        let fallback = store.create_ticket(&on("n1"), now).await.unwrap();
        let stranded = store.create_ticket(&on("n1"), now).await.unwrap();
        let other_node = store.create_ticket(&on("n2"), now).await.unwrap();
        assert_eq!(store.tickets(false).await.unwrap().len(), 4);
        store.transfer_went_live(live, 77, now + 5).await.unwrap();
        store
            .transfer_fell_back(fallback, TicketReason::ContactHungUp.name(), Some(78))
            .await
            .unwrap();
        for again in [
            store.transfer_went_live(live, 77, now + 6).await,
            store.transfer_went_live(fallback, 77, now + 6).await,
            store.transfer_fell_back(live, "pbx_error", None).await,
        ] {
            assert!(
                matches!(again, Err(StoreError::NotFound { .. })),
                "{again:?}"
            );
        }
        assert_eq!(store.recover_transfers("n1").await.unwrap(), 1);
        let states = |t: Ticket| {
            (
                t.transfer,
                t.fallback,
                t.live_to,
                t.assigned_to,
                t.resolved_at,
            )
        };
        assert_eq!(
            states(store.ticket(live).await.unwrap()),
            (TransferState::Live, None, Some(77), Some(77), None),
            "handed over live, open until the doctor records what they did"
        );
        assert_eq!(store.ticket(live).await.unwrap().live_at, Some(now + 5));
        assert_eq!(
            states(store.ticket(fallback).await.unwrap()),
            (
                TransferState::Fallback,
                Some("contact_hung_up".into()),
                None,
                Some(78),
                None
            )
        );
        assert_eq!(
            states(store.ticket(stranded).await.unwrap()),
            (
                TransferState::Fallback,
                Some("interrupted".into()),
                None,
                None,
                None
            )
        );
        assert_eq!(
            store.ticket(other_node).await.unwrap().transfer,
            TransferState::Ringing
        );
        let open: Vec<i64> = store
            .tickets(false)
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(open, [live, fallback, stranded, other_node]);

        // Follow-up survives a restart: the open tickets a node follows (not
        // those still ringing) and the callbacks tried so far.
        assert_eq!(store.callback_unreached(fallback).await.unwrap(), 1);
        assert_eq!(store.callback_unreached(fallback).await.unwrap(), 2);
        assert!(matches!(
            store.callback_unreached(live).await,
            Err(StoreError::NotFound { .. })
        ));
        let followed: Vec<(i64, u32)> = store
            .followed_tickets("n1")
            .await
            .unwrap()
            .iter()
            .map(|t| (t.id, t.callback_tries))
            .collect();
        assert_eq!(followed, [(fallback, 2), (stranded, 0)]);
        store
            .resolve_ticket(
                live,
                Resolution::AdviceGiven,
                Some(77),
                "advised rest",
                now + 9,
            )
            .await
            .unwrap();
        let closed = store.ticket(live).await.unwrap();
        assert_eq!(
            (closed.resolution, closed.resolved_at, closed.transfer),
            (
                Some(Resolution::AdviceGiven),
                Some(now + 9),
                TransferState::Live
            )
        );
        assert!(
            store.followed_tickets("n2").await.unwrap().is_empty(),
            "still ringing"
        );
    }
}

fn wall_clock() -> Millis {
    Utc::now().timestamp_millis()
}

/// What a worker did, kept outside it so that it outlives the worker's death.
#[derive(Default)]
struct WorkLog {
    /// Contacts leased and not yet completed, with the end of their lease.
    held: HashMap<ContactId, Millis>,
    completed: usize,
}

/// Leases, dials and completes until the campaign has nothing pending; renews
/// its leases every few calls, like a dialer's heartbeat. Gives up after 2,000 leases.
async fn worker(
    store: PostgresStore,
    campaign: CampaignId,
    node: String,
    log: Arc<Mutex<WorkLog>>,
) {
    const TTL: Millis = 2_000;
    for _ in 0..2_000 {
        let leased = store
            .lease(campaign, &node, 20, wall_clock(), TTL)
            .await
            .unwrap();
        if leased.is_empty() {
            if store
                .contact_counts(campaign, wall_clock())
                .await
                .unwrap()
                .pending
                == 0
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        }
        log.lock()
            .unwrap()
            .held
            .extend(leased.iter().map(|c| (c.id, c.lease_until)));
        for (n, contact) in leased.iter().enumerate() {
            // A lease can lapse when the machine stalls; the contact is then
            // someone else's, and the store refuses the dial.
            let id = match store
                .begin_attempt(&attempt(contact, campaign, &node, wall_clock()))
                .await
            {
                Ok(id) => id,
                Err(StoreError::NotLeased(_)) => {
                    log.lock().unwrap().held.remove(&contact.id);
                    continue;
                }
                Err(e) => panic!("{e}"),
            };
            let end = AttemptEnd {
                outcome: AttemptOutcome::Completed,
                at: wall_clock(),
                cause: None,
            };
            store.finish_attempt(id, &end).await.unwrap();
            {
                let mut log = log.lock().unwrap();
                log.held.remove(&contact.id);
                log.completed += 1;
            }
            if n % 5 == 4 {
                let now = wall_clock();
                store.renew_leases(&node, now, TTL).await.unwrap();
                let mut log = log.lock().unwrap();
                log.held.values_mut().for_each(|until| *until = now + TTL);
            }
        }
    }
    panic!("{node} did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_postgres_workers_never_share_a_contact_and_a_killed_ones_leases_return() {
    const CONTACTS: usize = 10_000;
    let server = postgres_server();
    let db = "sanjeevani_test_four_workers";
    let store = PostgresStore::fresh(&server, db).await.unwrap();
    let url = format!("{server}/{db}");
    let list = store.create_list("many", wall_clock()).await.unwrap();
    let csv = std::iter::once("phone".to_string())
        .chain((0..CONTACTS).map(|i| format!("98{:08}", i)))
        .collect::<Vec<_>>()
        .join("\n");
    let report = import_csv(
        &store,
        std::io::Cursor::new(csv),
        list,
        &ColumnMapping::default(),
        wall_clock(),
        |e| panic!("{}", e.error),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.imported as usize, CONTACTS);
    let mut settings = CampaignSettings::default();
    settings.contacts.window = serde_json::from_str("\"24x7\"").unwrap();
    settings.contacts.retry.interrupted = std::time::Duration::from_secs(1);
    let campaign = store
        .create_campaign("many", &settings, &[list], wall_clock())
        .await
        .unwrap();

    let mut workers = Vec::new();
    for n in 0..4 {
        let log = Arc::new(Mutex::new(WorkLog::default()));
        let store = PostgresStore::connect(&url).await.unwrap();
        let task = tokio::spawn(worker(store, campaign, format!("worker-{n}"), log.clone()));
        workers.push((task, log));
    }

    // Kill worker-3 in the middle of its work: no goodbye, its leases stay taken.
    let (victim, victim_log) = workers.pop().unwrap();
    let in_the_middle = || {
        let log = victim_log.lock().unwrap();
        log.completed >= 300 && !log.held.is_empty()
    };
    for _ in 0..3_000 {
        if in_the_middle() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    victim.abort();
    assert!(victim.await.unwrap_err().is_cancelled());
    let held = victim_log.lock().unwrap().held.clone();
    let victim_open: Vec<AttemptId> = store
        .open_attempts(campaign)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.node == "worker-3")
        .map(|a| a.id)
        .collect();
    assert!(!held.is_empty(), "worker-3 died holding leases");

    for (task, log) in workers {
        task.await.unwrap();
        assert!(log.lock().unwrap().completed > 0, "every worker took part");
    }
    // Counted in the database: a worker killed between its write and its own
    // tally would make the workers' tallies one short.
    let counts = store.contact_counts(campaign, wall_clock()).await.unwrap();
    assert_eq!((counts.done, counts.pending), (CONTACTS as u64, 0));

    // Every contact: one completed attempt, never two attempts at once; the dead
    // worker's contacts were dialed by others only after its leases lapsed.
    let mut interrupted = Vec::new();
    for id in (1..=CONTACTS as i64).map(ContactId) {
        let attempts = store.attempts_of(id).await.unwrap();
        let completed = attempts
            .iter()
            .filter(|a| a.outcome == Some(AttemptOutcome::Completed))
            .count();
        assert_eq!(completed, 1, "contact {id}: {attempts:?}");
        for pair in attempts.windows(2) {
            assert!(
                pair[0].end_at.unwrap() <= pair[1].dial_at,
                "contact {id} dialed twice at once: {attempts:?}"
            );
        }
        if let Some(lapse) = held.get(&id) {
            let others = attempts.iter().filter(|a| a.node != "worker-3");
            assert!(
                others.clone().all(|a| a.dial_at > *lapse),
                "dialed before the lease lapsed: {attempts:?}"
            );
        }
        interrupted.extend(
            attempts
                .iter()
                .filter(|a| a.outcome == Some(AttemptOutcome::Interrupted))
                .map(|a| (a.id, a.node.clone())),
        );
    }
    // What the dead worker left open (if it died mid-call) was closed as
    // interrupted, and nothing of the others was. Killed while writing, its
    // last attempt may reach the database just after the snapshot above.
    assert!(
        interrupted.iter().all(|(_, node)| node == "worker-3"),
        "{interrupted:?}"
    );
    for id in &victim_open {
        assert!(interrupted.iter().any(|(i, _)| i == id), "{id:?} left open");
    }
}

#[test]
fn the_example_configuration_files_are_the_defaults() {
    let read = |name: &str| {
        std::fs::read_to_string(format!(
            "{}/../../config/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let settings: CampaignSettings = toml::from_str(&read("campaign.example.toml")).unwrap();
    let defaults = CampaignSettings {
        questionnaire: Some("wellness-check".into()),
        ..CampaignSettings::default()
    };
    assert_eq!(settings, defaults);
    let mapping: ColumnMapping = toml::from_str(&read("import-mapping.example.toml")).unwrap();
    assert_eq!(
        format!("{mapping:?}"),
        format!("{:?}", ColumnMapping::default())
    );
}
