//! The demo centre a fresh install starts with: accounts for every role, a
//! list of made-up contacts (numbers from the unallocated-looking `+91 9 9999`
//! range) and a running round-the-clock campaign. Seeded only when the
//! database has no users, so a real centre's data is never touched.

use crate::auth::hash_password;
use crate::centre::DEMO_CAMPAIGN;
use crate::config::DemoConfig;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use sanjeevani_contacts::{
    AlwaysOpen, CallingWindow, Category, FollowUp, NewContact, Phone, Region, RiskFlag,
};
use sanjeevani_store::{CampaignSettings, CampaignState, NewUser, Role, Store, StoreError};

/// Demo accounts: username, display name, role.
pub const DEMO_USERS: [(&str, &str, Role); 6] = [
    ("admin", "Administrator", Role::Admin),
    ("supervisor", "Meera (supervisor)", Role::Supervisor),
    ("agent1", "Asha (agent)", Role::Agent),
    ("agent2", "Ravi (agent)", Role::Agent),
    ("agent3", "Salma (agent)", Role::Agent),
    ("doctor", "Dr. Kiran (medical desk)", Role::Medical),
];

const NAMES: [&str; 12] = [
    "रमेश कुमार",
    "सुनीता देवी",
    "Anil Sharma",
    "प्रिया सिंह",
    "Mohammed Iqbal",
    "गीता यादव",
    "Joseph Thomas",
    "कविता मिश्रा",
    "Harpreet Kaur",
    "राजेश गुप्ता",
    "Lakshmi Narayanan",
    "अनीता वर्मा",
];

/// Seeds the demo on an empty database; returns whether it did.
pub async fn seed(store: &dyn Store, demo: &DemoConfig, now: i64) -> Result<bool, StoreError> {
    if !demo.seed || !store.users().await?.is_empty() {
        return Ok(false);
    }
    let hash = hash_password(&demo.password);
    for (username, display_name, role) in DEMO_USERS {
        store
            .create_user(
                &NewUser {
                    username: username.into(),
                    display_name: display_name.into(),
                    role,
                    password_hash: hash.clone(),
                    must_change_password: false,
                },
                now,
            )
            .await?;
    }
    let list = match store.list_by_name("demo-contacts").await? {
        Some(list) => list,
        None => store.create_list("demo-contacts", now).await?,
    };
    store
        .insert_contacts(list, &contacts(demo.contacts), now)
        .await?;
    if store.campaign_by_name(DEMO_CAMPAIGN).await?.is_none() {
        let mut settings = CampaignSettings::default();
        settings.contacts.window = CallingWindow::Always(AlwaysOpen::TwentyFourSeven);
        settings.questionnaire = Some("wellness".into());
        let id = store
            .create_campaign(DEMO_CAMPAIGN, &settings, &[list], now)
            .await?;
        store.set_campaign_state(id, CampaignState::Running).await?;
    }
    Ok(true)
}

/// `n` made-up contacts, the same ones on every machine.
fn contacts(n: u32) -> Vec<NewContact> {
    let mut rng = Pcg64::seed_from_u64(7);
    let today = chrono::Utc::now().date_naive();
    (0..n)
        .filter_map(|i| {
            let phone = Phone::parse(&format!("99999{:05}", i), Region::default()).ok()?;
            let category = Category::ALL[rng.random_range(0..3)];
            let mut risk = Vec::new();
            if rng.random::<f64>() < 0.2 {
                risk.push(RiskFlag::AgeOver60);
            }
            if rng.random::<f64>() < 0.1 {
                risk.push(RiskFlag::Comorbidity);
            }
            let follow_up = (category != Category::GeneralPublic).then(|| FollowUp {
                start: today - chrono::Days::new(rng.random_range(0..10)),
                days: 14,
            });
            Some(NewContact {
                phone,
                name: NAMES[i as usize % NAMES.len()].into(),
                language: Some(if i % 3 == 0 { "en" } else { "hi" }.into()),
                category,
                risk,
                follow_up,
                district: Some("Demo district".into()),
                block: Some(format!("Block {}", 1 + i % 5)),
                timezone: None,
                attributes: Default::default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_contacts_are_valid_and_distinct() {
        let contacts = super::contacts(500);
        assert_eq!(contacts.len(), 500);
        let distinct: std::collections::HashSet<_> = contacts.iter().map(|c| &c.phone).collect();
        assert_eq!(distinct.len(), 500);
    }
}
