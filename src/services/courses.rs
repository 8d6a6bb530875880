//! Courses and tracks: importing them from folders (courses/README.md) and
//! authoring them in the browser. An import is all or nothing: every file is
//! checked first (problems reported by file and line), then everything is
//! written in one transaction. Re-importing a course updates it in place: a
//! changed lesson gets a new version, an unchanged one keeps its version and
//! therefore every doctor's progress on it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::domain::access::Permission;
use crate::domain::banks::Problem;
use crate::domain::courses::{
    self, CourseMeta, LessonDoc, Manifest, ModuleSpec, QuizSpec, TrackSpec, WorkshopSpec,
};
use crate::domain::markdown;
use crate::error::{Error, Result};
use crate::services::banks::FileProblems;
use crate::services::{Caller, Ctx, audit, require};
use crate::store::training::{self as store_training, LessonWrite};
use crate::store::{self, Db, DbConn, banks as store_banks};

/// The largest image a course may carry.
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;

/// A lesson read from its file and rendered.
#[derive(Debug, Clone)]
pub struct LessonFile {
    pub key: String,
    pub path: PathBuf,
    pub doc: LessonDoc,
    pub html: String,
}

/// A course folder, checked.
#[derive(Debug, Clone)]
pub struct CourseFolder {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub lessons: Vec<LessonFile>,
    /// (name, content type, bytes) of the folder's `images/`.
    pub images: Vec<(String, &'static str, Vec<u8>)>,
}

/// Everything a path holds: course folders and track files.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub courses: Vec<CourseFolder>,
    pub tracks: Vec<(PathBuf, TrackSpec)>,
}

fn problem(path: &Path, line: usize, message: impl Into<String>) -> FileProblems {
    FileProblems {
        path: path.to_owned(),
        problems: vec![Problem {
            line,
            message: message.into(),
        }],
    }
}

fn is_track_file(path: &Path) -> bool {
    path.is_file()
        && path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".track.toml"))
}

fn image_type(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit('.').next()?;
    match ext {
        "png" => Some("image/png"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        _ => None,
    }
}

/// Checks what a path names: a course folder (it holds `course.toml`), a
/// track file (`*.track.toml`), or a folder of those.
pub fn check_path(path: &Path) -> std::result::Result<Checked, Vec<FileProblems>> {
    let mut checked = Checked::default();
    let mut bad = Vec::new();
    let add_course =
        |dir: &Path, checked: &mut Checked, bad: &mut Vec<FileProblems>| match check_course(dir) {
            Ok(course) => checked.courses.push(course),
            Err(mut problems) => bad.append(&mut problems),
        };
    if is_track_file(path) {
        match check_track(path) {
            Ok(spec) => checked.tracks.push((path.to_owned(), spec)),
            Err(p) => bad.push(p),
        }
    } else if path.join("course.toml").is_file() {
        add_course(path, &mut checked, &mut bad);
    } else {
        let entries = match std::fs::read_dir(path) {
            Ok(entries) => entries,
            Err(e) => return Err(vec![problem(path, 0, format!("cannot read: {e}"))]),
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if is_track_file(&p) {
                match check_track(&p) {
                    Ok(spec) => checked.tracks.push((p, spec)),
                    Err(problems) => bad.push(problems),
                }
            } else if p.join("course.toml").is_file() {
                add_course(&p, &mut checked, &mut bad);
            }
        }
        if checked.courses.is_empty() && checked.tracks.is_empty() && bad.is_empty() {
            bad.push(problem(
                path,
                0,
                "no course folders (with course.toml) or .track.toml files here",
            ));
        }
    }
    let mut course_keys = HashSet::new();
    for c in &checked.courses {
        if !course_keys.insert(c.manifest.course.key.clone()) {
            bad.push(problem(
                &c.dir.join("course.toml"),
                1,
                format!(
                    "course id \"{}\" is used by another folder",
                    c.manifest.course.key
                ),
            ));
        }
    }
    if bad.is_empty() {
        Ok(checked)
    } else {
        Err(bad)
    }
}

fn check_track(path: &Path) -> std::result::Result<TrackSpec, FileProblems> {
    let text =
        std::fs::read_to_string(path).map_err(|e| problem(path, 0, format!("cannot read: {e}")))?;
    courses::parse_track(&text).map_err(|problems| FileProblems {
        path: path.to_owned(),
        problems,
    })
}

/// A lesson's Markdown file as text, or the problem with it: missing (said
/// at the module's line of the manifest), unreadable, or not UTF-8 (said at
/// the first line that is not).
fn read_lesson(
    path: &Path,
    manifest_path: &Path,
    module_key: &str,
    module_line: usize,
    key: &str,
) -> std::result::Result<String, FileProblems> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
            let bytes = e.as_bytes();
            let line = 1 + bytes
                .iter()
                .take(e.utf8_error().valid_up_to())
                .filter(|b| **b == b'\n')
                .count();
            problem(path, line, "the lesson is not UTF-8 text: save it as UTF-8")
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(problem(
            manifest_path,
            module_line,
            format!("module \"{module_key}\" lists lesson \"{key}\" but {key}.md is missing"),
        )),
        Err(e) => Err(problem(path, 0, format!("cannot read: {e}"))),
    }
}

/// Checks one course folder: the manifest, every lesson it lists (and only
/// those), and the images the lessons use.
pub fn check_course(dir: &Path) -> std::result::Result<CourseFolder, Vec<FileProblems>> {
    let manifest_path = dir.join("course.toml");
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| vec![problem(&manifest_path, 0, format!("cannot read: {e}"))])?;
    let manifest = courses::parse_manifest(&text).map_err(|problems| {
        vec![FileProblems {
            path: manifest_path.clone(),
            problems,
        }]
    })?;
    let images = read_images(&dir.join("images")).map_err(|p| vec![p])?;
    let mut bad = Vec::new();
    let mut lessons = Vec::new();
    for module in &manifest.modules {
        for key in &module.lessons {
            let path = dir.join(format!("{key}.md"));
            let text = match read_lesson(&path, &manifest_path, &module.key, module.line, key) {
                Ok(text) => text,
                Err(p) => {
                    bad.push(p);
                    continue;
                }
            };
            let doc = match courses::parse_lesson(&text) {
                Ok(doc) => doc,
                Err(problems) => {
                    bad.push(FileProblems { path, problems });
                    continue;
                }
            };
            let rendered = markdown::render(&manifest.course.key, &doc.body);
            let missing: Vec<Problem> = rendered
                .local_images
                .iter()
                .filter(|(name, _)| !images.iter().any(|(n, _, _)| n == name))
                .map(|(name, line)| Problem {
                    line: doc.body_line + line - 1,
                    message: format!("image \"{name}\" is not in the course's images/ folder"),
                })
                .collect();
            if !missing.is_empty() {
                bad.push(FileProblems {
                    path,
                    problems: missing,
                });
                continue;
            }
            lessons.push(LessonFile {
                key: key.clone(),
                path,
                doc,
                html: rendered.html,
            });
        }
    }
    if bad.is_empty() {
        Ok(CourseFolder {
            dir: dir.to_owned(),
            manifest,
            lessons,
            images,
        })
    } else {
        Err(bad)
    }
}

type Image = (String, &'static str, Vec<u8>);

fn read_images(dir: &Path) -> std::result::Result<Vec<Image>, FileProblems> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut images = Vec::new();
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths.into_iter().filter(|p| p.is_file()) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let Some(content_type) = image_type(&name).filter(|_| courses::is_key(name_stem(&name)))
        else {
            return Err(problem(
                &path,
                0,
                "images must be .png, .jpg, .gif or .webp with a lower-case name of letters, digits and dashes",
            ));
        };
        let bytes =
            std::fs::read(&path).map_err(|e| problem(&path, 0, format!("cannot read: {e}")))?;
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(problem(&path, 0, "an image may be at most 2 MiB"));
        }
        images.push((name, content_type, bytes));
    }
    Ok(images)
}

fn name_stem(name: &str) -> &str {
    name.rsplit_once('.').map(|(stem, _)| stem).unwrap_or(name)
}

/// What an import changed in one course or track.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// A track (whose summary is its courses and workshops) or a course.
    pub track: bool,
    pub name: String,
    pub version: i32,
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub retired: usize,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.track {
            return write!(
                f,
                "track {}: {} required courses, {} workshops",
                self.name, self.added, self.unchanged
            );
        }
        write!(
            f,
            "{} (version {}): {} lessons added, {} changed, {} unchanged, {} retired",
            self.name, self.version, self.added, self.changed, self.unchanged, self.retired
        )
    }
}

/// Writes checked courses and tracks in one transaction.
pub fn import(db: &Db, checked: &Checked) -> Result<Vec<ImportSummary>> {
    db.write_blocking(|conn| {
        let now = store::now();
        let mut summaries = Vec::new();
        for course in &checked.courses {
            summaries.push(write_course(conn, course, now)?);
        }
        for (path, spec) in &checked.tracks {
            summaries.push(write_track(conn, path, spec, now)?);
        }
        Ok(summaries)
    })
}

/// Checks and imports everything under `path`.
pub fn import_path(db: &Db, path: &Path) -> Result<Vec<ImportSummary>> {
    match check_path(path) {
        Ok(checked) => import(db, &checked),
        Err(problems) => Err(Error::Invalid {
            field: "courses".to_owned(),
            message: problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        }),
    }
}

/// A quiz must be able to draw its questions from the practice banks.
fn check_quiz(conn: &mut DbConn, quiz: &QuizSpec) -> Result<std::result::Result<(), String>> {
    let available = store_banks::practice_pool(conn, &quiz.topics)?
        .into_iter()
        .filter(|v| v.kind != "case")
        .count();
    Ok(match courses::quiz_shortfall(quiz, available) {
        Some(message) => Err(message),
        None => Ok(()),
    })
}

/// Objective practice questions per topic in checked bank files (those not
/// retired): what module quizzes can draw once the files are loaded.
pub fn practice_topics(files: &[crate::services::banks::CheckedFile]) -> HashMap<String, usize> {
    let mut topics = HashMap::new();
    for file in files
        .iter()
        .filter(|f| f.bank.meta.use_for == crate::domain::banks::BankUse::Practice)
    {
        for q in file
            .bank
            .questions
            .iter()
            .filter(|q| !q.retired && q.content.body.kind().is_objective())
        {
            *topics.entry(q.topic.clone()).or_default() += 1;
        }
    }
    topics
}

/// What `course import` would refuse about module quizzes, found without a
/// database: each quiz whose topics have fewer practice questions in
/// `practice` (see [`practice_topics`]) than it draws, at its module's line.
pub fn quiz_problems(checked: &Checked, practice: &HashMap<String, usize>) -> Vec<FileProblems> {
    let mut bad = Vec::new();
    for course in &checked.courses {
        let manifest_path = course.dir.join("course.toml");
        let problems: Vec<Problem> = course
            .manifest
            .modules
            .iter()
            .filter_map(|module| {
                let quiz = module.quiz.as_ref()?;
                let available = quiz
                    .topics
                    .iter()
                    .map(|t| practice.get(t).copied().unwrap_or(0))
                    .sum();
                courses::quiz_shortfall(quiz, available).map(|message| Problem {
                    line: module.line,
                    message: format!("module \"{}\": {message}", module.key),
                })
            })
            .collect();
        if !problems.is_empty() {
            bad.push(FileProblems {
                path: manifest_path,
                problems,
            });
        }
    }
    bad
}

/// Every module quiz can be filled from the banks loaded, or the error
/// names the module at its manifest line.
fn check_quizzes(conn: &mut DbConn, course: &CourseFolder) -> Result<()> {
    let manifest_path = course.dir.join("course.toml");
    for module in &course.manifest.modules {
        if let Some(quiz) = &module.quiz
            && let Err(message) = check_quiz(conn, quiz)?
        {
            return Err(Error::invalid(
                "courses",
                format!(
                    "{}:{}: module \"{}\": {message}",
                    manifest_path.display(),
                    module.line,
                    module.key
                ),
            ));
        }
    }
    Ok(())
}

/// The course's images, stored where new or changed.
fn write_images(
    conn: &mut DbConn,
    course_id: i64,
    images: &[Image],
    now: chrono::NaiveDateTime,
) -> Result<()> {
    for (name, content_type, bytes) in images {
        let digest = hex::encode(Sha256::digest(bytes));
        let stored = store_training::find_media(conn, course_id, name)?;
        if stored.as_ref().map(|m| m.digest.as_str()) != Some(digest.as_str()) {
            store_training::save_media(conn, course_id, name, content_type, &digest, bytes, now)?;
        }
    }
    Ok(())
}

/// A module's or lesson's position in its course, as stored.
fn position_of(index: usize) -> Result<i32> {
    i32::try_from(index)
        .map_err(|_detail| Error::internal(format!("position {index} is beyond i32")))
}

/// A lesson's minutes (validated to 1..=240) as the column's `i32`.
fn lesson_minutes(minutes: u32) -> Result<i32> {
    i32::try_from(minutes).map_err(|e| Error::internal_from("the lesson's minutes", e))
}

fn write_course(
    conn: &mut DbConn,
    course: &CourseFolder,
    now: chrono::NaiveDateTime,
) -> Result<ImportSummary> {
    check_quizzes(conn, course)?;
    let existed = store_training::find_course(conn, &course.manifest.course.key)?.is_some();
    let row = store_training::save_course(conn, &course.manifest.course, now)?;
    let mut summary = ImportSummary {
        name: row.course_key.clone(),
        ..ImportSummary::default()
    };
    let before: HashSet<String> = store_training::lesson_heads(conn, &[row.id])?
        .into_iter()
        .map(|l| l.lesson_key)
        .collect();
    let mut any_change = false;
    let mut module_ids = Vec::new();
    let mut lesson_ids = Vec::new();
    for (position, module) in course.manifest.modules.iter().enumerate() {
        let (m, changed) =
            store_training::save_module(conn, row.id, module, position_of(position)?)?;
        any_change |= changed;
        module_ids.push(m.id);
        for (lesson_position, key) in module.lessons.iter().enumerate() {
            let Some(file) = course.lessons.iter().find(|l| &l.key == key) else {
                continue;
            };
            let hash = file.doc.content_hash();
            let (lesson, changed) = store_training::save_lesson(
                conn,
                &LessonWrite {
                    course_id: row.id,
                    module_id: m.id,
                    key,
                    position: position_of(lesson_position)?,
                    title: &file.doc.title,
                    minutes: lesson_minutes(file.doc.minutes)?,
                    video_url: file.doc.video.as_deref(),
                    markdown: &file.doc.body,
                    html: &file.html,
                    content_hash: &hash,
                },
                now,
            )?;
            lesson_ids.push(lesson.id);
            if !before.contains(key) {
                summary.added += 1;
            } else if changed {
                summary.changed += 1;
            } else {
                summary.unchanged += 1;
            }
            any_change |= changed;
        }
    }
    summary.retired = store_training::retire_lessons_except(conn, row.id, &lesson_ids, now)?;
    let retired_modules = store_training::retire_modules_except(conn, row.id, &module_ids, now)?;
    any_change |= summary.retired > 0 || retired_modules > 0;
    write_images(conn, row.id, &course.images, now)?;
    if existed && any_change {
        store_training::bump_version(conn, row.id, now)?;
    }
    summary.version = store_training::find_course_by_id(conn, row.id)?
        .map(|c| c.version)
        .unwrap_or(row.version);
    Ok(summary)
}

fn write_track(
    conn: &mut DbConn,
    path: &Path,
    spec: &TrackSpec,
    now: chrono::NaiveDateTime,
) -> Result<ImportSummary> {
    let mut course_ids = Vec::new();
    for key in &spec.courses {
        let course = store_training::find_course(conn, key)?.ok_or_else(|| {
            Error::invalid(
                "courses",
                format!(
                    "{}:1: track \"{}\" requires course \"{key}\", which is not loaded",
                    path.display(),
                    spec.key
                ),
            )
        })?;
        course_ids.push(course.id);
    }
    let track = store_training::save_track(conn, spec, now)?;
    store_training::set_track_courses(conn, track.id, &course_ids)?;
    store_training::save_workshops(conn, track.id, &spec.workshops, now)?;
    Ok(ImportSummary {
        track: true,
        name: spec.key.clone(),
        added: course_ids.len(),
        unchanged: spec.workshops.len(),
        ..ImportSummary::default()
    })
}

// ----- authoring in the browser -----

/// Creates or updates a track from the admin form.
pub async fn save_track(ctx: &Ctx, caller: &Caller, spec: TrackSpec) -> Result<()> {
    require(ctx, caller, Permission::ManageTraining).await?;
    spec.check()?;
    let event = audit::event(
        caller,
        "track.save",
        Some(spec.key.clone()),
        audit::Outcome::Ok,
    );
    ctx.db
        .write(move |conn| {
            write_track(conn, Path::new("form"), &spec, store::now()).map_err(|e| match e {
                Error::Invalid { message, .. } => Error::invalid(
                    "courses",
                    message
                        .split_once(": ")
                        .map(|(_, m)| m.to_owned())
                        .unwrap_or(message),
                ),
                other => other,
            })?;
            audit::record(conn, &event)?;
            Ok(())
        })
        .await
}

/// Creates or updates a course's own fields from the admin form; returns
/// its key.
pub async fn save_course(ctx: &Ctx, caller: &Caller, meta: CourseMeta) -> Result<String> {
    require(ctx, caller, Permission::ManageTraining).await?;
    meta.check()?;
    let event = audit::event(
        caller,
        "course.save",
        Some(meta.key.clone()),
        audit::Outcome::Ok,
    );
    ctx.db
        .write(move |conn| {
            let row = store_training::save_course(conn, &meta, store::now())?;
            audit::record(conn, &event)?;
            Ok(row.course_key)
        })
        .await
}

/// Adds a module to a course, or changes its title and quiz.
pub async fn save_module(
    ctx: &Ctx,
    caller: &Caller,
    course_key: &str,
    module: ModuleSpec,
) -> Result<()> {
    require(ctx, caller, Permission::ManageTraining).await?;
    module.check()?;
    let course_key = course_key.to_owned();
    let event = audit::event(
        caller,
        "course.module",
        Some(format!("{course_key}/{}", module.key)),
        audit::Outcome::Ok,
    );
    ctx.db
        .write(move |conn| {
            let now = store::now();
            let course = store_training::find_course(conn, &course_key)?.ok_or(Error::NotFound)?;
            if let Some(quiz) = &module.quiz
                && let Err(message) = check_quiz(conn, quiz)?
            {
                return Err(Error::invalid("quiz_questions", message));
            }
            let modules = store_training::modules_of(conn, course.id)?;
            let position = modules
                .iter()
                .find(|m| m.module_key == module.key)
                .map(|m| m.position)
                .unwrap_or_else(|| modules.iter().map(|m| m.position + 1).max().unwrap_or(0));
            let (_, changed) = store_training::save_module(conn, course.id, &module, position)?;
            if changed {
                store_training::bump_version(conn, course.id, now)?;
            }
            audit::record(conn, &event)?;
            Ok(())
        })
        .await
}

/// A lesson as written in the browser editor.
#[derive(Debug, Clone)]
pub struct LessonInput {
    pub module_key: String,
    pub key: String,
    pub title: String,
    pub minutes: u32,
    pub video: Option<String>,
    pub markdown: String,
}

/// Checks an edited lesson the same way as a lesson file.
pub fn check_lesson(input: &LessonInput) -> Result<LessonDoc> {
    if !courses::is_key(&input.key) {
        return Err(Error::invalid(
            "key",
            "lower-case letters, digits and dashes",
        ));
    }
    if input.title.trim().is_empty() {
        return Err(Error::invalid("title", "must not be empty"));
    }
    if !courses::valid_minutes(input.minutes) {
        return Err(Error::invalid("minutes", "must be 1 to 240"));
    }
    if let Some(video) = &input.video
        && !video.starts_with("https://")
    {
        return Err(Error::invalid("video", "must be an https:// link"));
    }
    if input.markdown.trim().is_empty() {
        return Err(Error::invalid("markdown", "the lesson has no text"));
    }
    if let Some(p) = courses::check_body(&input.markdown, 1).into_iter().next() {
        return Err(Error::invalid(
            "markdown",
            format!("line {}: {}", p.line, p.message),
        ));
    }
    Ok(LessonDoc {
        title: input.title.trim().to_owned(),
        minutes: input.minutes,
        video: input.video.clone(),
        body: input.markdown.clone(),
        body_line: 1,
    })
}

/// The preview of an edited lesson: exactly what the lesson page will show.
/// A text past the lesson limits is not rendered: the preview says why.
pub fn preview(course_key: &str, markdown_text: &str) -> String {
    match courses::check_body(markdown_text, 1).into_iter().next() {
        Some(p) => format!(
            "<p>{}</p>",
            ammonia::clean_text(&format!("line {}: {}", p.line, p.message))
        ),
        None => markdown::render(course_key, markdown_text).html,
    }
}

/// Saves a lesson written in the browser (a new version if its content
/// changed).
pub async fn save_lesson(
    ctx: &Ctx,
    caller: &Caller,
    course_key: &str,
    input: LessonInput,
) -> Result<()> {
    require(ctx, caller, Permission::ManageTraining).await?;
    let doc = check_lesson(&input)?;
    let course_key = course_key.to_owned();
    let event = audit::event(
        caller,
        "course.lesson",
        Some(format!("{course_key}/{}", input.key)),
        audit::Outcome::Ok,
    );
    ctx.db
        .write(move |conn| {
            let now = store::now();
            let course = store_training::find_course(conn, &course_key)?.ok_or(Error::NotFound)?;
            let modules = store_training::modules_of(conn, course.id)?;
            let module = modules
                .iter()
                .find(|m| m.module_key == input.module_key)
                .ok_or_else(|| Error::invalid("module", "choose one of the course's modules"))?;
            let rendered = markdown::render(&course.course_key, &doc.body);
            for (name, _) in &rendered.local_images {
                if store_training::find_media(conn, course.id, name)?.is_none() {
                    return Err(Error::invalid(
                        "markdown",
                        format!("image \"{name}\" has not been uploaded to this course"),
                    ));
                }
            }
            let heads = store_training::lesson_heads(conn, &[course.id])?;
            let position = heads
                .iter()
                .find(|l| l.lesson_key == input.key)
                .filter(|l| l.module_id == module.id)
                .map(|l| l.position)
                .unwrap_or_else(|| {
                    heads
                        .iter()
                        .filter(|l| l.module_id == module.id)
                        .map(|l| l.position + 1)
                        .max()
                        .unwrap_or(0)
                });
            let hash = doc.content_hash();
            let (_, changed) = store_training::save_lesson(
                conn,
                &LessonWrite {
                    course_id: course.id,
                    module_id: module.id,
                    key: &input.key,
                    position,
                    title: &doc.title,
                    minutes: lesson_minutes(doc.minutes)?,
                    video_url: doc.video.as_deref(),
                    markdown: &doc.body,
                    html: &rendered.html,
                    content_hash: &hash,
                },
                now,
            )?;
            if changed {
                store_training::bump_version(conn, course.id, now)?;
            }
            audit::record(conn, &event)?;
            Ok(())
        })
        .await
}

/// Builds a workshop list from the admin form's lines (`id: title`).
pub fn parse_workshop_lines(text: &str) -> Result<Vec<WorkshopSpec>> {
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (key, title) = line.split_once(':').ok_or_else(|| {
            Error::invalid("workshops", format!("line {}: write \"id: title\"", i + 1))
        })?;
        let key = key.trim();
        if !courses::is_key(key) || title.trim().is_empty() {
            return Err(Error::invalid(
                "workshops",
                format!("line {}: write \"id: title\" with a lower-case id", i + 1),
            ));
        }
        out.push(WorkshopSpec {
            key: key.to_owned(),
            title: title.trim().to_owned(),
            description: String::new(),
        });
    }
    Ok(out)
}

// ----- what the admin pages read -----

/// A track as its form edits it: the spec that saving it takes.
pub async fn track_detail(ctx: &Ctx, caller: &Caller, key: &str) -> Result<TrackSpec> {
    require(ctx, caller, Permission::ManageTraining).await?;
    let key = key.to_owned();
    ctx.db
        .read(move |conn| {
            let track = store_training::find_track(conn, &key)?.ok_or(Error::NotFound)?;
            let course_keys = store_training::courses_of_track(conn, track.id)?
                .into_iter()
                .map(|c| c.course_key)
                .collect();
            let workshops = store_training::workshops_of(conn, track.id)?
                .into_iter()
                .map(|w| WorkshopSpec {
                    key: w.workshop_key,
                    title: w.title,
                    description: w.description,
                })
                .collect();
            Ok(TrackSpec {
                key: track.track_key,
                title: track.title,
                description: track.description,
                validity_months: u32::try_from(track.validity_months)
                    .map_err(|e| Error::internal_from("the track's validity", e))?,
                renewal_credit_hours: track.renewal_credit_hours,
                courses: course_keys,
                workshops,
                sample: track.sample,
            })
        })
        .await
}

/// A workshop to schedule a session of, with its track's title.
#[derive(Debug, Clone)]
pub struct WorkshopChoice {
    pub id: i64,
    pub title: String,
    pub track_key: String,
    pub track_title: String,
}

/// Every current workshop with its track's title, for scheduling sessions.
pub async fn all_workshops(ctx: &Ctx, caller: &Caller) -> Result<Vec<WorkshopChoice>> {
    require(ctx, caller, Permission::ManageTraining).await?;
    ctx.db
        .read(|conn| {
            let mut out = Vec::new();
            for track in store_training::list_tracks(conn)? {
                for w in store_training::workshops_of(conn, track.id)? {
                    out.push(WorkshopChoice {
                        id: w.id,
                        title: w.title,
                        track_key: track.track_key.clone(),
                        track_title: track.title.clone(),
                    });
                }
            }
            Ok(out)
        })
        .await
}

/// A lesson's source for the editor, as saving it takes it.
pub async fn lesson_source(
    ctx: &Ctx,
    caller: &Caller,
    course_key: &str,
    lesson_key: &str,
) -> Result<LessonInput> {
    require(ctx, caller, Permission::ManageTraining).await?;
    let (course_key, lesson_key) = (course_key.to_owned(), lesson_key.to_owned());
    ctx.db
        .read(move |conn| {
            let course = store_training::find_course(conn, &course_key)?.ok_or(Error::NotFound)?;
            let lesson = store_training::find_lesson(conn, course.id, &lesson_key)?
                .ok_or(Error::NotFound)?;
            let module =
                store_training::find_module(conn, lesson.module_id)?.ok_or(Error::NotFound)?;
            Ok(LessonInput {
                module_key: module.module_key,
                key: lesson.lesson_key,
                title: lesson.title,
                minutes: u32::try_from(lesson.minutes)
                    .map_err(|e| Error::internal_from("the lesson's minutes", e))?,
                video: lesson.video_url,
                markdown: lesson.body_markdown,
            })
        })
        .await
}
