//! The JSON API: health, the OpenAPI document, bad input, integration tokens.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    health_says_only_that_it_is_up_and_openapi_describes_every_endpoint,
    bad_input_is_refused_clearly_and_writes_nothing,
    integration_tokens_are_shown_once_scoped_and_revocable,
);

async fn health_says_only_that_it_is_up_and_openapi_describes_every_endpoint(app: TestApp) {
    // Anyone may ask whether the server is up, and learns nothing more:
    // not the database, not the release; an admin neither.
    let res = app
        .client
        .get(app.url("/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"status": "ok"}));
    let admin = app.admin_token().await;
    let (status, body) = app.api(Method::GET, "/api/v1/health", &admin, None).await;
    assert_eq!((status, body), (200, json!({"status": "ok"})));

    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/health", "get"),
        ("/api/v1/auth/token", "post"),
        ("/api/v1/auth/token", "delete"),
        ("/api/v1/me", "get"),
        ("/api/v1/me/password", "put"),
        ("/api/v1/me/locale", "put"),
        ("/api/v1/password-setup", "post"),
        ("/api/v1/institutions", "post"),
        ("/api/v1/institutions/{id}", "put"),
        ("/api/v1/people", "post"),
        ("/api/v1/people/{id}", "put"),
        ("/api/v1/people/{id}/deactivate", "post"),
        ("/api/v1/people/{id}/reactivate", "post"),
        ("/api/v1/people/{id}/setup-link", "post"),
        ("/api/v1/api-tokens", "post"),
        ("/api/v1/api-tokens/{id}/revoke", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from OpenAPI"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // Every schema the document refers to is in it (a response type that
    // gains a member of a new type must bring that type along).
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 20, "{} refs", refs.len());
    let missing: Vec<&String> = refs
        .iter()
        .filter(|r| {
            let name = r.trim_start_matches("#/components/schemas/");
            doc["components"]["schemas"].get(name).is_none()
        })
        .collect();
    assert!(missing.is_empty(), "unresolved: {missing:?}");
    // Every operation documents the errors its kind can give: 401 (with
    // WWW-Authenticate) where a token is needed, 400/413/415/422 where it
    // takes a body.
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let responses = &op["responses"];
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                assert!(
                    responses["401"]["headers"]["WWW-Authenticate"].is_object(),
                    "{method} {path}: 401 with WWW-Authenticate"
                );
            }
            if op["requestBody"]["content"]
                .get("application/json")
                .is_some()
            {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses[status].is_object(), "{method} {path}: {status}");
                }
            }
        }
    }
    assert!(operations > 90, "{operations} operations");
    // The photo's upload takes the image's bytes: no JSON parse errors.
    let photo = &paths["/api/v1/me/photo"]["put"]["responses"];
    assert!(photo["413"].is_object() && photo["422"].is_object());
    assert!(
        photo.get("400").is_none() && photo.get("415").is_none(),
        "{photo}"
    );
    // And an outside validator accepts it (OpenAPI 3.1: unique operation
    // ids, every path parameter in its path, valid schemas).
    validate_openapi(&doc);

    // Integrators generate clients from it: every operation has a summary,
    // every parameter, schema and member of one a description (a reference
    // carries its schema's own).
    let undocumented = undocumented(&doc);
    assert!(
        undocumented.is_empty(),
        "{} undocumented:\n{}",
        undocumented.len(),
        undocumented.join("\n")
    );
    // Unknown API paths answer JSON, not a page.
    let res = app
        .client
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    // A path the API has, asked with a method it does not take: 405 with
    // the methods it takes, as JSON (and as an OperationOutcome on FHIR).
    let res = app
        .client
        .patch(app.url("/api/v1/exams"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET, POST");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
    let res = app
        .client
        .delete(app.url("/api/v1/exams/1/close"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    let res = app
        .client
        .post(app.url("/api/v1/fhir/metadata"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+json")
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["issue"][0]["code"], "not-supported");
}

fn error_of(body: &Value) -> (String, Option<String>) {
    (
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["error"]["field"].as_str().map(str::to_owned),
    )
}

async fn bad_input_is_refused_clearly_and_writes_nothing(app: TestApp) {
    let token = app.admin_token().await;
    let people = || app.count("people");
    let before = people();
    let mail_before = app.count("outbox");

    // Malformed email: 422 naming the field.
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/people",
            &token,
            Some(json!({"email": "not-an-email", "name": "X"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        error_of(&body),
        ("invalid_input".into(), Some("email".into()))
    );
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());

    // Unknown role: 422 naming the field and the role.
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/people",
            &token,
            Some(json!({"email": "a@b.example", "name": "X", "roles": ["surgeon"]})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(error_of(&body).1.as_deref(), Some("roles"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("surgeon")
    );

    // Wrong JSON type and a misspelt member are named too.
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/people",
            &token,
            Some(json!({"email": 5, "name": "X"})),
        )
        .await;
    assert_eq!((status, error_of(&body).1.as_deref()), (422, Some("email")));
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/people",
            &token,
            Some(json!({"email": "a@b.example", "nmae": "X"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(error_of(&body).1.as_deref(), Some("nmae"));

    // An institution that does not exist.
    let (status, body) = app
        .api(Method::POST, "/api/v1/people", &token, Some(json!({"email": "a@b.example", "name": "X", "roles": ["examiner"], "institution_id": 999})))
        .await;
    assert_eq!(
        (status, error_of(&body).1.as_deref()),
        (422, Some("institution_id"))
    );

    // Duplicate email, whatever the case: 409 naming the field.
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/people",
            &token,
            Some(json!({"email": "dup@b.example", "name": "X"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/people",
            &token,
            Some(json!({"email": "DUP@B.example", "name": "Y"})),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(error_of(&body), ("conflict".into(), Some("email".into())));
    assert_eq!(people(), before + 1);
    assert_eq!(
        app.count("outbox"),
        mail_before + 1,
        "only the one good person was mailed"
    );

    // Broken JSON: 400.
    let res = app
        .client
        .post(app.url("/api/v1/people"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "malformed_body"
    );

    // Wrong content type: 415.
    let res = app
        .client
        .post(app.url("/api/v1/people"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("{\"email\": \"c@b.example\", \"name\": \"Z\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "unsupported_media_type"
    );

    // Oversized body: 413.
    let huge = json!({"email": "big@b.example", "name": "x".repeat(400 * 1024)});
    let res = app
        .client
        .post(app.url("/api/v1/people"))
        .bearer_auth(&token)
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "payload_too_large"
    );

    // Over-long but within the body limit: 422 on the field.
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/people",
            &token,
            Some(json!({"email": "long@b.example", "name": "x".repeat(101)})),
        )
        .await;
    assert_eq!((status, error_of(&body).1.as_deref()), (422, Some("name")));

    assert_eq!(people(), before + 1, "nothing half written");
}

async fn integration_tokens_are_shown_once_scoped_and_revocable(app: TestApp) {
    let admin = app.admin_token().await;
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/api-tokens",
            &admin,
            Some(json!({"name": "District HIS", "scopes": ["people:read"]})),
        )
        .await;
    assert_eq!(status, 201);
    let secret = body["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("gki_"));
    let id = body["api_token"]["id"].as_i64().unwrap();

    // Listed without the secret; stored only as a hash.
    let (_, list) = app
        .api(Method::GET, "/api/v1/api-tokens", &admin, None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&secret));
    assert!(app.count("api_tokens") >= 2);

    // It may read people, nothing more.
    assert_eq!(
        app.api(Method::GET, "/api/v1/people", &secret, None)
            .await
            .0,
        200
    );
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/people",
            &secret,
            Some(json!({"email": "x@y.example", "name": "X"})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "forbidden");
    assert_eq!(
        app.api(Method::GET, "/api/v1/institutions", &secret, None)
            .await
            .0,
        403
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/api-tokens", &secret, None)
            .await
            .0,
        403,
        "tokens never manage tokens"
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", &secret, None).await.0,
        403
    );

    // An integration token cannot sign itself out: refused, audited, and it
    // keeps working until an admin revokes it.
    let (status, body) = app
        .api(Method::DELETE, "/api/v1/auth/token", &secret, None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("integration_token")),
        "{body}"
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/people", &secret, None)
            .await
            .0,
        200
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'api_token_sign_out' \
             AND outcome = 'refused'"
        ),
        1
    );
    // Its other refusals are audited under its name too.
    assert!(
        app.scalar(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE actor = 'token:{id}' \
             AND outcome = 'refused'"
        )) >= 4
    );

    // Unknown scopes are refused by name.
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/api-tokens",
            &admin,
            Some(json!({"name": "Bad", "scopes": ["root"]})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("scopes"))
    );

    // Revoked: refused at once.
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/api-tokens/{id}/revoke"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(body["revoked_at"].is_string());
    assert_eq!(
        app.api(Method::GET, "/api/v1/people", &secret, None)
            .await
            .0,
        401
    );

    // A personal token ends with DELETE /auth/token.
    assert_eq!(
        app.api(Method::DELETE, "/api/v1/auth/token", &admin, None)
            .await
            .0,
        204
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", &admin, None).await.0,
        401
    );
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                match (k.as_str(), child) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

/// Every operation without a summary, component schema without a
/// description and schema property with neither a description nor a `$ref`
/// (a nullable reference, `oneOf` null and a `$ref`, counts as one), looking
/// inside `allOf`/`oneOf`/`anyOf`, array items, maps and inline objects.
fn undocumented(doc: &Value) -> Vec<String> {
    fn described(s: &Value) -> bool {
        s["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    }
    fn is_ref(s: &Value) -> bool {
        s.get("$ref").is_some()
            || s["oneOf"].as_array().is_some_and(|members| {
                members
                    .iter()
                    .all(|m| m.get("$ref").is_some() || m["type"] == "null")
            })
    }
    fn walk(at: &str, s: &Value, out: &mut Vec<String>) {
        for key in ["allOf", "oneOf", "anyOf"] {
            for (i, member) in s[key].as_array().into_iter().flatten().enumerate() {
                walk(&format!("{at}/{key}[{i}]"), member, out);
            }
        }
        for key in ["items", "additionalProperties"] {
            if s[key].is_object() {
                walk(&format!("{at}/{key}"), &s[key], out);
            }
        }
        for (name, property) in s["properties"].as_object().into_iter().flatten() {
            if !described(property) && !is_ref(property) {
                out.push(format!("property {at}.{name}"));
            }
            walk(&format!("{at}.{name}"), property, out);
        }
    }
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let operation = ["get", "put", "post", "delete", "patch"].contains(&method.as_str());
            if operation && op["summary"].as_str().is_none_or(|s| s.trim().is_empty()) {
                out.push(format!("operation {method} {path}: no summary"));
            }
            for parameter in op["parameters"].as_array().into_iter().flatten() {
                if operation && !described(parameter) {
                    out.push(format!(
                        "parameter {} of {method} {path}",
                        parameter["name"].as_str().unwrap_or("?")
                    ));
                }
            }
        }
    }
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if !described(schema) {
            out.push(format!("schema {name}"));
        }
        walk(name, schema, &mut out);
    }
    out
}

/// Runs `openapi-spec-validator` (pinned in tests/validators/requirements.txt)
/// on the document, through `helpers::run_validator`.
fn validate_openapi(doc: &Value) {
    let args = ["-m", "openapi_spec_validator", "--validation-errors", "all"];
    if let Some((ok, said)) = crate::helpers::run_validator("openapi-spec-validator", &args, doc) {
        assert!(
            ok && said.contains(": OK"),
            "openapi-spec-validator: {said}"
        );
    }
}
