//! The OpenAPI document against the running service: it validates as
//! OpenAPI 3.1 (openapi-spec-validator), and a property-based run of the API
//! generated from it (schemathesis) finds no 5xx, no undocumented status code
//! and no response outside its declared schema, for every role.

mod support;

use std::process::Command;
use support::Server;

fn tool(name: &str) -> Command {
    let mut command = Command::new(name);
    // schemathesis writes its example database and reports to the working directory.
    command.current_dir(env!("CARGO_TARGET_TMPDIR"));
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_validates_and_generated_requests_find_no_server_error() {
    let server = Server::start().await;
    let document = format!("{}/api/openapi.json", server.base);

    let body = server
        .client
        .get(&document)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi.json");
    std::fs::write(&path, &body).unwrap();
    let validated = tool("python3")
        .args(["-c", "import json, sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')"])
        .arg(&path)
        .output()
        .expect("python3 with openapi-spec-validator (pip; .ci/run installs it)");
    assert!(
        validated.status.success(),
        "the OpenAPI document does not validate:\n{}",
        String::from_utf8_lossy(&validated.stderr)
    );

    // The admin goes last: it may disable the other accounts.
    for username in ["doctor", "agent1", "supervisor", "admin"] {
        let token = server.login(username).await;
        let run = tokio::task::spawn_blocking({
            let document = document.clone();
            move || {
                tool("st")
                    .args(["run", &document, "--seed", "1", "--max-examples", "10"])
                    .args(["--header", &format!("Authorization: Bearer {token}")])
                    // Logging out would end the session the run uses.
                    .args(["--exclude-path", "/api/logout"])
                    .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"])
                    .args(["--request-timeout", "10", "--max-time", "60"])
                    .output()
                    .expect("schemathesis (pip install schemathesis; .ci/run installs it)")
            }
        })
        .await
        .unwrap();
        let out = String::from_utf8_lossy(&run.stdout);
        eprintln!(
            "schemathesis as {username}: {}",
            out.lines()
                .rev()
                .find(|l| l.contains("generated"))
                .unwrap_or("")
        );
        assert!(
            run.status.success(),
            "schemathesis as {username} found failures:\n{out}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(out.contains("passed"), "{out}");
    }
    server.stop().await;
}
