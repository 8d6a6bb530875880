//! The published OpenAPI document as a contract the tests hold the server
//! to. Every answer the test client (`TestApp::api`) receives from
//! `/api/v1` must be an operation the document lists, with a status the
//! document gives for it, and a body that matches the schema documented for
//! that status and content type (checked by the `jsonschema` crate, an
//! implementation of JSON Schema 2020-12, the dialect of OpenAPI 3.1). So
//! the document cannot drift from the code: a new status, a renamed field
//! or a missing one fails the test that met it.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::{Value, json};
use utoipa::OpenApi;

/// The document, as the server serves it at `/api/v1/openapi.json`.
static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    serde_json::to_value(gatekeeper::web::api::ApiDoc::openapi()).expect("the document as JSON")
});

/// Compiled schemas, by operation, status and content type.
static VALIDATORS: LazyLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> =
    LazyLock::new(Mutex::default);

/// Checks one answer against the document; panics naming the operation,
/// the status and every mismatch.
pub fn check(method: &reqwest::Method, path: &str, status: u16, content_type: &str, body: &Value) {
    let path = path.split('?').next().unwrap_or(path);
    if !path.starts_with("/api/v1/") {
        return;
    }
    let method = method.as_str().to_lowercase();
    let template = template_of(path)
        .unwrap_or_else(|| panic!("{method} {path}: no such path in the OpenAPI document"));
    let operation = &DOCUMENT["paths"][&template][&method];
    assert!(
        operation.is_object(),
        "{method} {template}: the OpenAPI document has no such operation"
    );
    let responses = &operation["responses"];
    let response = [status.to_string(), format!("{}XX", status / 100), "default".to_owned()]
        .iter()
        .map(|key| &responses[key])
        .find(|r| r.is_object())
        .unwrap_or_else(|| {
            panic!(
                "{method} {template} answered {status}, which the OpenAPI document does not list (it lists {:?}); body: {body}",
                responses.as_object().map(|r| r.keys().collect::<Vec<_>>())
            )
        });
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let Some(content) = response["content"].as_object().filter(|c| !c.is_empty()) else {
        assert!(
            body.is_null(),
            "{method} {template} answered {status} with a body ({media}), but the document says it has none: {body}"
        );
        return;
    };
    let Some(documented) = content.get(&media) else {
        panic!(
            "{method} {template} answered {status} as {media:?}; the document lists {:?}",
            content.keys().collect::<Vec<_>>()
        );
    };
    let is_json = media == "application/json" || media.ends_with("+json");
    let Some(schema) = documented.get("schema").filter(|_| is_json) else {
        return;
    };
    let key = format!("{method} {template} {status} {media}");
    let validator = validator(&key, schema);
    let problems: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("  at {:?}: {e}", e.instance_path().as_str()))
        .collect();
    assert!(
        problems.is_empty(),
        "{key}: the body does not match its documented schema:\n{}\nbody: {body}",
        problems.join("\n")
    );
}

/// The document's path template for a concrete path: `{name}` matches any
/// one segment, and of several matches the one with the most literal
/// segments wins (`/exams/mine` before `/exams/{id}`).
fn template_of(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    DOCUMENT["paths"]
        .as_object()?
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') && part.ends_with('}') {
                    if segment.is_empty() {
                        return None;
                    }
                } else if part == segment {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, template))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, template)| template.clone())
}

/// The compiled schema for `key`: the documented schema, with the
/// document's components beside it so that its `$ref`s resolve.
fn validator(key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
    let mut cache = VALIDATORS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(v) = cache.get(key) {
        return v.clone();
    }
    let mut components = DOCUMENT["components"].clone();
    close_objects(&mut components);
    let mut root = json!({ "components": components });
    match schema {
        Value::Object(members) => {
            for (name, value) in members {
                root[name] = value.clone();
            }
        }
        other => root = other.clone(),
    }
    let compiled = Arc::new(
        jsonschema::draft202012::options()
            .build(&root)
            .unwrap_or_else(|e| panic!("{key}: the documented schema does not compile: {e}")),
    );
    cache.insert(key.to_owned(), compiled.clone());
    compiled
}

/// Marks every object schema that lists its properties (and is not a
/// composition) as closed, so that a field the server sends but the
/// document does not name is a mismatch too.
fn close_objects(schema: &mut Value) {
    match schema {
        Value::Object(members) => {
            let composed = ["allOf", "oneOf", "anyOf"]
                .iter()
                .any(|k| members.contains_key(*k));
            if members.contains_key("properties")
                && !composed
                && !members.contains_key("additionalProperties")
            {
                members.insert("additionalProperties".to_owned(), Value::Bool(false));
            }
            for value in members.values_mut() {
                close_objects(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}
