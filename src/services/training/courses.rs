//! The open library and its lessons: reading a course and a lesson, marking a
//! lesson studied, and the course's images.

use super::*;

/// Every published course (all courses for an admin), with the caller's
/// progress: the open library.
pub async fn library(ctx: &Ctx, caller: &Caller) -> Result<Vec<CourseView>> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let all = may_manage(caller);
    ctx.db
        .read(move |conn| {
            let courses = store_training::list_courses(conn, !all)?;
            Ok(load_courses(conn, me, &courses)?.views)
        })
        .await
}

pub(super) fn visible_course(conn: &mut DbConn, key: &str, all: bool) -> Result<CourseRow> {
    store_training::find_course(conn, key)?
        .filter(|c| c.published || all)
        .ok_or(Error::NotFound)
}

/// One course's outline with the caller's progress.
pub async fn course(ctx: &Ctx, caller: &Caller, course_key: &str) -> Result<CourseView> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let all = may_manage(caller);
    let key = course_key.to_owned();
    ctx.db
        .read(move |conn| {
            let course = visible_course(conn, &key, all)?;
            load_courses(conn, me, std::slice::from_ref(&course))?
                .views
                .pop()
                .ok_or(Error::NotFound)
        })
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LessonLink {
    pub key: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LessonView {
    pub course_key: String,
    pub course_title: String,
    pub module_title: String,
    pub key: String,
    pub title: String,
    pub minutes: i32,
    pub video_url: Option<String>,
    /// Sanitised when the lesson was written.
    pub html: String,
    pub version: i32,
    pub studied: bool,
    pub sample: bool,
    pub previous: Option<LessonLink>,
    pub next: Option<LessonLink>,
}

/// A lesson to read, with where it sits in its course. One read.
pub async fn lesson(
    ctx: &Ctx,
    caller: &Caller,
    course_key: &str,
    lesson_key: &str,
) -> Result<LessonView> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let all = may_manage(caller);
    let (course_key, lesson_key) = (course_key.to_owned(), lesson_key.to_owned());
    ctx.db
        .read(move |conn| {
            let course = visible_course(conn, &course_key, all)?;
            let lesson = store_training::find_lesson(conn, course.id, &lesson_key)?
                .ok_or(Error::NotFound)?;
            let heads = store_training::lesson_heads(conn, &[course.id])?;
            let at = heads.iter().position(|h| h.id == lesson.id);
            let link = |h: &LessonHead| LessonLink {
                key: h.lesson_key.clone(),
                title: h.title.clone(),
            };
            let previous = at
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| heads.get(i))
                .map(link);
            let next = at.and_then(|i| heads.get(i + 1)).map(link);
            let module_title = store_training::find_module(conn, lesson.module_id)?
                .map(|m| m.title)
                .unwrap_or_default();
            let studied = store_training::studied(conn, me, &[lesson.id])?
                .get(&lesson.id)
                .is_some_and(|(v, _)| training::lesson_studied(lesson.version, Some(*v)));
            Ok(LessonView {
                course_key: course.course_key,
                course_title: course.title,
                module_title,
                key: lesson.lesson_key,
                title: lesson.title,
                minutes: lesson.minutes,
                video_url: lesson.video_url,
                html: lesson.body_html,
                version: lesson.version,
                studied,
                sample: course.sample,
                previous,
                next,
            })
        })
        .await
}

/// Marks a lesson studied at the version the page showed. If the lesson has
/// changed since, the doctor must read the new version first.
pub async fn mark_studied(
    ctx: &Ctx,
    caller: &Caller,
    course_key: &str,
    lesson_key: &str,
    version: i32,
) -> Result<()> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let all = may_manage(caller);
    let (course_key, lesson_key) = (course_key.to_owned(), lesson_key.to_owned());
    ctx.db
        .write(move |conn| {
            let course = visible_course(conn, &course_key, all)?;
            let lesson = store_training::find_lesson(conn, course.id, &lesson_key)?
                .ok_or(Error::NotFound)?;
            if lesson.version != version {
                return Err(Error::conflict(
                    "version",
                    "this lesson has been updated since you opened it; read the new version",
                ));
            }
            let now = store::now();
            store_training::mark_studied(conn, me, lesson.id, lesson.version, now)?;
            // Completing training moves the doctor's case on.
            store::pipeline::note_due(conn, me, "lesson_studied", now)?;
            Ok(())
        })
        .await?;
    pipeline::settle(ctx, vec![me]).await;
    Ok(())
}

/// A course image, for anyone who may study the course.
pub async fn media(
    ctx: &Ctx,
    caller: &Caller,
    course_key: &str,
    name: &str,
) -> Result<(String, Vec<u8>)> {
    require(ctx, caller, Permission::Study).await?;
    let all = may_manage(caller);
    let (course_key, name) = (course_key.to_owned(), name.to_owned());
    ctx.db
        .read(move |conn| {
            let course = visible_course(conn, &course_key, all)?;
            let m = store_training::find_media(conn, course.id, &name)?.ok_or(Error::NotFound)?;
            Ok((m.content_type, m.bytes))
        })
        .await
}
