//! Who wrote a coded attempt, for an admin who must know; every reveal is
//! audited.

use super::*;
use crate::domain::ids::PersonId;

/// Who wrote a coded attempt: for an admin who must know (a complaint, a
/// suspected irregularity). Every reveal is in the audit trail with who and
/// when.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Identity {
    /// The attempt's blind code.
    pub code: String,
    /// The attempt's id.
    pub attempt_id: i64,
    /// The candidate's person id.
    #[schema(value_type = i64)]
    pub person_id: PersonId,
    /// The candidate's name.
    pub name: String,
}

pub async fn reveal(ctx: &Ctx, caller: &Caller, code: &str, reason: &str) -> Result<Identity> {
    require(ctx, caller, Permission::ManageExams).await?;
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            "say why the candidate's identity is needed",
        ));
    }
    let code = code.trim().to_uppercase();
    let mut event = audit::event(
        caller,
        "identity.reveal",
        Some(format!("code:{code}")),
        Outcome::Ok,
    );
    event.detail = Some(reason);
    ctx.db
        .write(move |conn| {
            let attempt = store_grading::attempt_by_code(conn, &code)?.ok_or(Error::NotFound)?;
            let person = people::find(conn, attempt.person_id)?.ok_or(Error::NotFound)?;
            audit::record(conn, &event)?;
            Ok(Identity {
                code,
                attempt_id: attempt.id,
                person_id: person.id,
                name: person.name,
            })
        })
        .await
}
