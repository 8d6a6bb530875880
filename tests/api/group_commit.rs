//! Group commit (`store::group`): many writes share one transaction, each
//! in its own savepoint, on SQLite and on PostgreSQL (where a failed
//! statement would otherwise abort the whole transaction).

use diesel::RunQueryDsl;
use gatekeeper::error::Error;

use crate::helpers::{Backend, TestApp};
use crate::on_both_databases;

on_both_databases!(
    concurrent_grouped_writes_commit_and_a_failing_one_undoes_only_itself,
    a_database_error_in_one_grouped_write_leaves_the_others_committed,
    database_errors_amid_one_lanes_batches_undo_only_their_own_writes,
    an_acknowledged_write_is_synced_to_disk_before_it_returns,
);

fn table(app: &TestApp) {
    app.exec("CREATE TABLE group_probe (k BIGINT PRIMARY KEY, v BIGINT NOT NULL)");
}

fn rows(app: &TestApp) -> i64 {
    app.scalar("SELECT COUNT(*) AS n FROM group_probe")
}

async fn concurrent_grouped_writes_commit_and_a_failing_one_undoes_only_itself(app: TestApp) {
    table(&app);
    let writes = (0..200i64).map(|k| {
        app.ctx.db.write_grouped(k, move |conn| {
            diesel::sql_query(format!("INSERT INTO group_probe (k, v) VALUES ({k}, 1)"))
                .execute(conn)?;
            if k % 10 == 0 {
                // Written, then refused: its savepoint must undo it.
                return Err(Error::invalid("k", "a multiple of ten"));
            }
            Ok(k)
        })
    });
    let outcomes = futures_util::future::join_all(writes).await;
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Err(Error::Invalid { .. })))
        .count();
    assert_eq!(refused, 20, "{:?}", outcomes.iter().find(|o| o.is_err()));
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 180);
    assert_eq!(rows(&app), 180);
}

async fn a_database_error_in_one_grouped_write_leaves_the_others_committed(app: TestApp) {
    table(&app);
    let db = &app.ctx.db;
    db.write_grouped(1, |conn| {
        diesel::sql_query("INSERT INTO group_probe (k, v) VALUES (1, 1)").execute(conn)?;
        Ok(())
    })
    .await
    .unwrap();
    // The duplicate fails inside the database; the write beside it, maybe
    // in the same batch, still commits.
    let (dup, other) = futures_util::join!(
        db.write_grouped(1, |conn| {
            diesel::sql_query("INSERT INTO group_probe (k, v) VALUES (1, 2)").execute(conn)?;
            Ok(())
        }),
        db.write_grouped(1, |conn| {
            diesel::sql_query("INSERT INTO group_probe (k, v) VALUES (2, 2)").execute(conn)?;
            Ok(())
        })
    );
    assert!(matches!(dup, Err(Error::Database(_))), "{dup:?}");
    assert!(other.is_ok(), "{other:?}");
    assert_eq!(rows(&app), 2);
}

/// One lane, so that batches are long and database errors fall amid them:
/// each failed write's own row is undone (its savepoint is rolled back to),
/// and the writes after it in the same batch open theirs and commit.
async fn database_errors_amid_one_lanes_batches_undo_only_their_own_writes(app: TestApp) {
    table(&app);
    app.exec("INSERT INTO group_probe (k, v) VALUES (-1, 0)");
    let writes = (0..200i64).map(|k| {
        app.ctx.db.write_grouped(7, move |conn| {
            diesel::sql_query(format!("INSERT INTO group_probe (k, v) VALUES ({k}, 1)"))
                .execute(conn)?;
            if k % 10 == 0 {
                // A duplicate key: the database refuses it after the row above.
                diesel::sql_query("INSERT INTO group_probe (k, v) VALUES (-1, 1)").execute(conn)?;
            }
            Ok(k)
        })
    });
    let outcomes = futures_util::future::join_all(writes).await;
    let failed: Vec<i64> = (0..200i64)
        .zip(&outcomes)
        .filter(|(_, o)| matches!(o, Err(Error::Database(_))))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        failed,
        (0..200).step_by(10).collect::<Vec<i64>>(),
        "{outcomes:?}"
    );
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 180);
    assert_eq!(rows(&app), 181);
    assert_eq!(
        app.scalar("SELECT COUNT(*) AS n FROM group_probe WHERE k >= 0 AND k % 10 = 0"),
        0
    );
    assert_eq!(app.scalar("SELECT v AS n FROM group_probe WHERE k = -1"), 0);
}

/// A saved answer must survive a power cut, not only a crash of the process:
/// every connection that writes (the writer pool, and so each group-commit
/// lane) syncs its commit before answering. SQLite: `synchronous = FULL`
/// (2) in WAL mode; PostgreSQL: `synchronous_commit = on`, its default, which
/// the app never lowers.
async fn an_acknowledged_write_is_synced_to_disk_before_it_returns(app: TestApp) {
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let query = match app.backend {
        Backend::Sqlite => "SELECT CAST(synchronous AS TEXT) AS value FROM pragma_synchronous",
        Backend::Postgres => {
            "SELECT setting AS value FROM pg_settings WHERE name = 'synchronous_commit'"
        }
    };
    let expected = match app.backend {
        Backend::Sqlite => "2",
        Backend::Postgres => "on",
    };
    // Several grouped writes, so that more than one lane answers on PostgreSQL.
    let reads = (0..8i64).map(|lane| {
        app.ctx.db.write_grouped(lane, move |conn| {
            Ok(diesel::sql_query(query).get_result::<Setting>(conn)?.value)
        })
    });
    for value in futures_util::future::join_all(reads).await {
        assert_eq!(value.unwrap(), expected);
    }
    let value = app
        .ctx
        .db
        .write(move |conn| Ok(diesel::sql_query(query).get_result::<Setting>(conn)?.value))
        .await
        .unwrap();
    assert_eq!(value, expected);
    if app.backend == Backend::Sqlite {
        let mode = app
            .ctx
            .db
            .write(|conn| {
                Ok(
                    diesel::sql_query("SELECT journal_mode AS value FROM pragma_journal_mode")
                        .get_result::<Setting>(conn)?
                        .value,
                )
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
