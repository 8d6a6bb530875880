//! A property-based fuzzer against the published document: schemathesis
//! (pinned in tests/validators/requirements.txt) generates requests for
//! every operation from the OpenAPI document, valid and not, sends them to
//! the real server holding a certified doctor's journey, and checks each
//! answer: no server error, a status the document lists, the documented
//! content type and headers, and a body matching the documented schema.
//!
//! Bounded: a fixed number of examples per operation and a fixed seed, so a
//! failure can be replayed (`GATEKEEPER_FUZZ_SEED` and
//! `GATEKEEPER_FUZZ_EXAMPLES` change them). It runs as the admin with a
//! personal token; the operations that would end that token (sign out,
//! password change, deactivating people, who may be the admin) are left
//! out, since every later request would then only meet 401.

use crate::certification::certify;
use crate::helpers::{TestApp, outside_validator};
use crate::on_both_databases;

/// What each answer is checked for (schemathesis's names).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,unsupported_method";

/// Operations not fuzzed: each would end the admin's token.
const EXCLUDED: &str = r"^/api/v1/(auth/token|me/password|people/\{id\}/deactivate)$";

async fn the_api_answers_generated_requests_as_its_document_says(app: TestApp) {
    let (admin, ..) = Box::pin(certify(&app)).await;
    let seed = std::env::var("GATEKEEPER_FUZZ_SEED").unwrap_or_else(|_| "20261204".to_owned());
    let examples = std::env::var("GATEKEEPER_FUZZ_EXAMPLES").unwrap_or_else(|_| "10".to_owned());
    let authorization = format!("Authorization: Bearer {admin}");
    let document = app.url("/api/v1/openapi.json");
    let args: Vec<String> = [
        "-m",
        "schemathesis.cli",
        "run",
        &document,
        "--header",
        &authorization,
        "--checks",
        CHECKS,
        "--exclude-path-regex",
        EXCLUDED,
        "--max-examples",
        &examples,
        "--seed",
        &seed,
        "--workers",
        "1",
        // A connection dropped on a machine loaded by the rest of the suite
        // is retried; an answer, however wrong, is never retried away.
        "--request-retries",
        "2",
        "--no-color",
        // Nothing kept between runs (no .hypothesis folder in the checkout).
        "--generation-database",
        "none",
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    let Some((passed, said)) =
        tokio::task::spawn_blocking(move || outside_validator("schemathesis", &args))
            .await
            .expect("schemathesis ran")
    else {
        return;
    };
    let summary: String = said
        .lines()
        .skip_while(|l| !l.contains("FAILURES") && !l.contains("SUMMARY"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        passed,
        "schemathesis found answers that break the document (seed {seed}):\n{summary}"
    );
    eprintln!("schemathesis, seed {seed}, {examples} examples per operation:\n{summary}");
}

on_both_databases!(the_api_answers_generated_requests_as_its_document_says);
