//! The ARI adapter against Asterisk's own API declarations (ARI 11, Asterisk
//! 23, copied unchanged into `tests/fixtures/ari/api-docs/`; see SOURCE.md):
//! every REST operation the adapter can make exists with that method, path and
//! parameter names, and every event and field it reads is declared. A
//! deliberately wrong operation and a wrong field are caught.

use sanjeevani_ari::{events, rest};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Asterisk's declarations: operations and models.
struct Declarations {
    /// (method, path) → parameter names by kind (`query`, `path`, `body`).
    operations: BTreeMap<(String, String), Vec<(String, String)>>,
    /// model → its properties, with those of the models it extends.
    models: BTreeMap<String, BTreeSet<String>>,
}

fn load() -> Declarations {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ari/api-docs");
    let mut operations = BTreeMap::new();
    let mut own: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut parent: BTreeMap<String, String> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("the declarations are in the repository") {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() == "resources.json" {
            continue;
        }
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for api in doc["apis"].as_array().into_iter().flatten() {
            for op in api["operations"].as_array().unwrap() {
                let params = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap().to_string(),
                            p["paramType"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect();
                let key = (
                    op["httpMethod"].as_str().unwrap().to_string(),
                    api["path"].as_str().unwrap().to_string(),
                );
                operations.insert(key, params);
            }
        }
        for (name, model) in doc["models"].as_object().into_iter().flatten() {
            let props = model["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            own.insert(name.clone(), props);
            for sub in model["subTypes"].as_array().into_iter().flatten() {
                parent.insert(sub.as_str().unwrap().to_string(), name.clone());
            }
        }
    }
    let models = own
        .keys()
        .map(|name| {
            let mut fields = BTreeSet::new();
            let mut at = Some(name.clone());
            while let Some(model) = at {
                fields.extend(own[&model].iter().cloned());
                at = parent.get(&model).cloned();
            }
            (name.clone(), fields)
        })
        .collect();
    Declarations { operations, models }
}

impl Declarations {
    /// What is wrong with `ops` and `reads`, one line each.
    fn check(&self, ops: &[rest::Operation], reads: &[(&str, &[&str])]) -> Vec<String> {
        let mut problems = Vec::new();
        for op in ops {
            let key = (op.method.as_str().to_string(), op.path.to_string());
            let Some(params) = self.operations.get(&key) else {
                problems.push(format!("{op}: not declared"));
                continue;
            };
            let declared =
                |name: &str, kind: &str| params.iter().any(|(n, k)| n == name && k == kind);
            for name in op.query {
                if !declared(name, "query") {
                    problems.push(format!("{op}: no query parameter {name}"));
                }
            }
            for segment in op.path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_matches(|c| c == '{' || c == '}');
                if !declared(name, "path") {
                    problems.push(format!("{op}: no path parameter {name}"));
                }
            }
        }
        for (model, fields) in reads {
            let Some(declared) = self.models.get(*model) else {
                problems.push(format!("model {model}: not declared"));
                continue;
            };
            for field in *fields {
                if !declared.contains(*field) {
                    problems.push(format!("{model}.{field}: not declared"));
                }
            }
        }
        problems
    }
}

#[test]
fn every_call_and_field_the_adapter_uses_is_declared_by_asterisk() {
    let declarations = load();
    assert!(
        declarations.operations.len() > 90,
        "the declarations loaded"
    );
    let problems = declarations.check(rest::ALL, events::READS);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_wrong_call_or_field_is_caught() {
    let declarations = load();
    let wrong_ops = [
        // A parameter ARI does not have.
        rest::Operation {
            query: &["endpoint", "number"],
            ..rest::ORIGINATE
        },
        // A method the path does not take.
        rest::Operation {
            method: rest::Method::Delete,
            ..rest::ADD_CHANNEL
        },
        // A path that does not exist.
        rest::Operation {
            path: "/channels/{channelId}/transfer",
            ..rest::HANGUP
        },
    ];
    let wrong_reads: &[(&str, &[&str])] =
        &[("StasisStart", &["caller"]), ("AgentLogin", &["agent"])];
    let problems = declarations.check(&wrong_ops, wrong_reads);
    assert_eq!(
        problems,
        [
            "POST /channels: no query parameter number",
            "DELETE /bridges/{bridgeId}/addChannel: not declared",
            "DELETE /channels/{channelId}/transfer: not declared",
            "StasisStart.caller: not declared",
            "model AgentLogin: not declared",
        ]
    );
}
