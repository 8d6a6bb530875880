//! Fair decisions (issue 14) over HTTP on both databases: concurrent
//! starts that draw papers keep exposure balanced.

use std::collections::BTreeMap;

use reqwest::Method;

use crate::exams::{doctor, exam_body, load_bank, register, scheduled, setup};
use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(concurrent_starts_that_draw_papers_keep_exposure_balanced,);

async fn concurrent_starts_that_draw_papers_keep_exposure_balanced(app: TestApp) {
    let (admin, _, _) = setup(&app).await;
    load_bank(&app);
    let (_, insts) = app
        .api(Method::GET, "/api/v1/institutions", &admin, None)
        .await;
    let longxi = insts[0]["id"].as_i64().unwrap();
    let exam = scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    let mut tokens = Vec::new();
    for i in 0..16 {
        let (id, token) = doctor(&app, &admin, longxi, &format!("cand{i:02}")).await;
        register(&app, &admin, exam, id).await;
        tokens.push(token);
    }
    // No paper is drawn ahead: every start draws one, all at once.
    let path = format!("/api/v1/exams/{exam}/attempts");
    let starts = tokens.iter().map(|t| app.api(Method::POST, &path, t, None));
    let outcomes = futures_util::future::join_all(starts).await;
    for (status, body) in &outcomes {
        assert_eq!(*status, 200, "{body}");
    }
    assert_eq!(app.count("attempts"), 16);
    // Each cell of the blueprint (section, difficulty): every question
    // drawn, and no question drawn more than once more than another.
    #[derive(diesel::QueryableByName)]
    struct Drawn {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        section: i32,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        difficulty: i32,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!(
        "SELECT ai.section AS section, qv.difficulty AS difficulty, COUNT(*) AS n \
         FROM attempt_items ai JOIN question_versions qv ON qv.id = ai.version_id \
         JOIN attempts a ON a.id = ai.attempt_id WHERE a.exam_id = {exam} \
         GROUP BY ai.question_id, ai.section, qv.difficulty"
    );
    let rows = app
        .ctx
        .db
        .read_blocking(move |conn| {
            Ok(diesel::RunQueryDsl::load::<Drawn>(
                diesel::sql_query(sql),
                conn,
            )?)
        })
        .unwrap();
    let mut cells: BTreeMap<(i32, i32), Vec<i64>> = BTreeMap::new();
    for r in rows {
        cells
            .entry((r.section, r.difficulty))
            .or_default()
            .push(r.n);
    }
    // 8 questions of difficulty 2 (3 a paper), 4 of 3 (2), 2 cases (1).
    let sizes: BTreeMap<(i32, i32), usize> = [((0, 2), 8), ((0, 3), 4), ((1, 4), 2)]
        .into_iter()
        .collect();
    for (cell, counts) in &cells {
        assert_eq!(Some(&counts.len()), sizes.get(cell), "{cell:?}: {counts:?}");
        let spread = counts.iter().max().unwrap() - counts.iter().min().unwrap();
        assert!(
            spread <= 1,
            "exposure spread {spread} in {cell:?}: {counts:?}"
        );
    }
    assert_eq!(cells.len(), 3);
}
