//! Conflicts of interest over HTTP on both databases: nobody acts on their
//! own case or credential, and no committee member acts on a colleague's from
//! their own institution — votes, dossier reads, suspension, reinstatement and
//! both steps of a revocation — each refused with 403 and its code, and
//! audited.

use reqwest::Method;
use serde_json::{Value, json};

use crate::certification::{certify, change_status};
use crate::grading::person;
use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(nobody_acts_on_their_own_or_a_colleagues_credential);

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// How many refusals of `action` the audit trail holds with `detail`.
fn refusals(app: &TestApp, action: &str, detail: &str) -> i64 {
    app.scalar(&format!(
        "SELECT COUNT(*) AS n FROM audit_events WHERE action = '{action}' \
         AND outcome = 'refused' AND detail = '{detail}'"
    ))
}

async fn dossier(app: &TestApp, token: &str, case: i64) -> (u16, Value) {
    app.api(
        Method::GET,
        &format!("/api/v1/cases/{case}/dossier"),
        token,
        None,
    )
    .await
}

async fn nobody_acts_on_their_own_or_a_colleagues_credential(app: TestApp) {
    let (admin, li_id, li, members, number) = Box::pin(certify(&app)).await;

    // Li, certified, joins the committee; Wu sits on it from Li's clinic.
    let (_, li_person) = app
        .api(
            Method::GET,
            &format!("/api/v1/people/{li_id}"),
            &admin,
            None,
        )
        .await;
    let longxi = li_person["institution_id"].as_i64().unwrap();
    let mut update = json!({"roles": ["doctor", "committee"]});
    for member in [
        "email",
        "name",
        "phone",
        "practising_certificate",
        "institution_id",
        "locale",
    ] {
        if !li_person[member].is_null() {
            update[member] = li_person[member].clone();
        }
    }
    let (status, body) = app
        .api(
            Method::PUT,
            &format!("/api/v1/people/{li_id}"),
            &admin,
            Some(update),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, wu) = person(
        &app,
        &admin,
        "wu.committee@longxi.example",
        "wu",
        json!(["committee"]),
        Some(longxi),
    )
    .await;

    // A suspension by an impartial member stands.
    let (status, body) = change_status(&app, &members[0], &number, "suspend").await;
    assert_eq!(status, 200, "{body}");

    // The holder, now on the committee, cannot lift it; nor can a colleague.
    let (status, body) = change_status(&app, &li, &number, "reinstate").await;
    assert_eq!((status, code(&body)), (403, "own_credential"), "{body}");
    let (status, body) = change_status(&app, &wu, &number, "reinstate").await;
    assert_eq!((status, code(&body)), (403, "same_institution"), "{body}");
    assert_eq!(refusals(&app, "credential_reinstate", "own_credential"), 1);
    assert_eq!(
        refusals(&app, "credential_reinstate", "same_institution"),
        1
    );
    // Nor suspend it again, nor propose its revocation.
    let (status, body) = change_status(&app, &wu, &number, "suspend").await;
    assert_eq!((status, code(&body)), (403, "same_institution"), "{body}");
    let (status, body) = change_status(&app, &li, &number, "revoke").await;
    assert_eq!((status, code(&body)), (403, "own_credential"), "{body}");
    let (_, credential) = app
        .api(
            Method::GET,
            &format!("/api/v1/credentials/{number}"),
            &members[0],
            None,
        )
        .await;
    assert_eq!(credential["status"], "suspended", "{credential}");

    // Revocation: proposed by one impartial member, not confirmable by the
    // holder or a colleague, confirmed by a second impartial member.
    let (status, body) = change_status(&app, &members[0], &number, "revoke").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revocation_proposed"], true);
    let (status, body) = change_status(&app, &li, &number, "revoke").await;
    assert_eq!((status, code(&body)), (403, "own_credential"), "{body}");
    let (status, body) = change_status(&app, &wu, &number, "revoke").await;
    assert_eq!((status, code(&body)), (403, "same_institution"), "{body}");
    assert_eq!(refusals(&app, "credential_revoke", "own_credential"), 2);
    let (status, body) = change_status(&app, &members[1], &number, "revoke").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("revoked")),
        "{body}"
    );

    // The case: its dossier is read by impartial members and the admin only.
    let (_, cases) = app.api(Method::GET, "/api/v1/me/cases", &li, None).await;
    let case = cases[0]["id"].as_i64().unwrap();
    let (status, body) = dossier(&app, &li, case).await;
    assert_eq!((status, code(&body)), (403, "own_case"), "{body}");
    let (status, body) = dossier(&app, &wu, case).await;
    assert_eq!((status, code(&body)), (403, "same_institution"), "{body}");
    assert_eq!(refusals(&app, "committee_dossier", "same_institution"), 1);
    assert_eq!(dossier(&app, &members[2], case).await.0, 200);
    assert_eq!(dossier(&app, &admin, case).await.0, 200);

    // Votes: the conflict is refused whatever the stage; an impartial member
    // is told the case does not wait for the committee.
    let vote = |token: String| {
        let app = &app;
        async move {
            app.api(
                Method::POST,
                &format!("/api/v1/cases/{case}/votes"),
                &token,
                Some(json!({"vote": "approve", "reason": "complete evidence"})),
            )
            .await
        }
    };
    let (status, body) = vote(li.clone()).await;
    assert_eq!((status, code(&body)), (403, "own_case"), "{body}");
    let (status, body) = vote(wu.clone()).await;
    assert_eq!((status, code(&body)), (403, "same_institution"), "{body}");
    let (status, body) = vote(members[2].clone()).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(refusals(&app, "committee_vote", "own_case"), 1);
}
