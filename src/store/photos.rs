//! Queries for holders' photos (see `domain::photos`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::ids::PersonId;
use crate::store::DbConn;
use crate::store::schema::holder_photos;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = holder_photos)]
pub struct PhotoRow {
    pub person_id: PersonId,
    pub jpeg: Vec<u8>,
    pub public: bool,
    pub updated_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, person_id: PersonId) -> QueryResult<Option<PhotoRow>> {
    holder_photos::table.find(person_id).first(conn).optional()
}

/// Stores a person's photo, replacing the one they had, with their choice
/// of showing it.
pub fn save(
    conn: &mut DbConn,
    person_id: PersonId,
    jpeg: &[u8],
    public: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let changed = diesel::update(holder_photos::table.find(person_id))
        .set((
            holder_photos::jpeg.eq(jpeg),
            holder_photos::public.eq(public),
            holder_photos::updated_at.eq(now),
        ))
        .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(holder_photos::table)
            .values((
                holder_photos::person_id.eq(person_id),
                holder_photos::jpeg.eq(jpeg),
                holder_photos::public.eq(public),
                holder_photos::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Gives or withdraws consent; false when the person has no photo.
pub fn set_public(
    conn: &mut DbConn,
    person_id: PersonId,
    public: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(holder_photos::table.find(person_id))
        .set((
            holder_photos::public.eq(public),
            holder_photos::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|n| n > 0)
}

/// Deletes the photo; false when there was none.
pub fn remove(conn: &mut DbConn, person_id: PersonId) -> QueryResult<bool> {
    diesel::delete(holder_photos::table.find(person_id))
        .execute(conn)
        .map(|n| n > 0)
}
