//! The command line: `serve`, `demo`, `migrate`, `admin create`, banks,
//! courses, the audit record and decision records.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use gatekeeper::config::{CommonArgs, Settings};
use gatekeeper::services::{audit, banks, courses, decision, people};

/// mimalloc rather than glibc malloc: under exam-day load the blocking
/// threads spent a sixth of their time in contended malloc/free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use gatekeeper::startup::Application;
use gatekeeper::store::Db;

/// SQLite allocates through the C library's malloc. By default glibc hands
/// freed memory back to the kernel as soon as 128 KiB are free at the top of
/// a heap, and serves blocks from 128 KiB up with fresh mappings: under
/// exam-day load the SQLite writer then spent half its time in the kernel
/// zeroing pages it had just given back. Keep up to 64 MiB freed per heap,
/// and map only blocks of 32 MiB and more.
fn keep_freed_memory() {
    // SAFETY: mallopt only sets allocator parameters; it is called first
    // thing in main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}

#[derive(Parser)]
#[command(
    name = "gatekeeper",
    version,
    about = "Certification of community doctors for a hospital alliance"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the web server (creates and migrates the database first).
    Serve,
    /// Build (or reuse) a demo alliance in ./demo-data and serve it, printing
    /// one sign-in per role. Never touches a database with other data.
    Demo {
        /// The seed the alliance is built from.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Doctors in the current cohort (the programme's 458); everything
        /// else scales with it.
        #[arg(long, default_value_t = gatekeeper::demo::FULL_COHORT)]
        cohort: usize,
        /// Delete the demo data and build it again.
        #[arg(long)]
        fresh: bool,
        /// Build (if needed) and exit without serving.
        #[arg(long)]
        build_only: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Question banks (the bank format, Moodle GIFT or Moodle XML; see question_banks/README.md).
    Bank {
        #[command(subcommand)]
        command: BankCommand,
    },
    /// Courses and tracks (folders of Markdown lessons; see courses/README.md).
    Course {
        #[command(subcommand)]
        command: CourseCommand,
    },
    /// The audit record: a hash chain of every audited event (see README).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Certification decisions.
    Decision {
        #[command(subcommand)]
        command: DecisionCommand,
    },
    /// The credential signing keys (kept in the database, sealed with
    /// GATEKEEPER_SIGNING_KEY_SECRET).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Make a new signing key that signs from now on, on every instance; the
    /// old key's public half stays in the JWK set until every credential it
    /// signed has expired.
    Rotate,
    /// List the keys: the one that signs, the retired ones and until when
    /// they stay published.
    List,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the chain from its first event and report the first broken link
    /// by event id (exit status 1 when it is broken).
    Verify,
    /// Write the chained events of a period as JSON lines with their hashes,
    /// for an outside auditor (a summary goes to standard error).
    Export {
        /// First day (YYYY-MM-DD, in the alliance's time zone).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last day, included.
        #[arg(long)]
        to: chrono::NaiveDate,
        /// File to write (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum DecisionCommand {
    /// Print the evidence a credential's decision rests on, rebuilt from the
    /// stored data and checked against the audit chain, with a verdict (exit
    /// status 1 when something disagrees).
    Show {
        /// The credential number, e.g. PAED-2026-000123-3.
        number: String,
    },
}

#[derive(Subcommand)]
enum CourseCommand {
    /// Report every problem of a course folder, a track file, or a folder of
    /// those, by file and line; writes nothing.
    Check { path: std::path::PathBuf },
    /// Check, then load in one transaction; a course already loaded is
    /// updated in place (changed lessons get a new version).
    Import { path: std::path::PathBuf },
}

#[derive(Subcommand)]
enum BankCommand {
    /// Report every problem of a bank file (or of every bank file in a
    /// directory) with its line; writes nothing.
    Check { path: std::path::PathBuf },
    /// Check, then load the banks in one transaction (nothing if any file has a problem).
    Import { path: std::path::PathBuf },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin. The password is read from standard input (or asked
    /// for twice at a terminal), never from the command line.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    keep_freed_memory();
    init_tracing();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve => serve(&cli.common),
        Command::Demo {
            seed,
            cohort,
            fresh,
            build_only,
        } => demo(
            &cli.common,
            gatekeeper::demo::Options { seed, cohort },
            fresh,
            build_only,
        ),
        Command::Migrate => migrate(&cli.common),
        Command::Admin {
            command: AdminCommand::Create { email, name },
        } => create_admin(&cli.common, &email, &name),
        Command::Bank {
            command: BankCommand::Check { path },
        } => check_banks(&path),
        Command::Bank {
            command: BankCommand::Import { path },
        } => import_banks(&cli.common, &path),
        Command::Course {
            command: CourseCommand::Check { path },
        } => check_courses(&cli.common, &path),
        Command::Course {
            command: CourseCommand::Import { path },
        } => import_courses(&cli.common, &path),
        Command::Audit {
            command: AuditCommand::Verify,
        } => verify_audit(&cli.common),
        Command::Audit {
            command: AuditCommand::Export { from, to, out },
        } => export_audit(&cli.common, from, to, out.as_deref()),
        Command::Decision {
            command: DecisionCommand::Show { number },
        } => show_decision(&cli.common, &number),
        Command::Key {
            command: KeyCommand::Rotate,
        } => rotate_key(&cli.common),
        Command::Key {
            command: KeyCommand::List,
        } => list_keys(&cli.common),
    };
    // Every command has let go of its database by now: the pools are
    // closed and their threads idle (store::PoolThreads), so the exit
    // handlers of the C libraries run with nothing else in them.
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `course check`: every problem of the folders, and every module quiz the
/// practice banks of the configured question bank folder cannot fill (what
/// `course import` would refuse), without a database.
fn check_courses(common: &CommonArgs, path: &std::path::Path) -> Result<(), String> {
    let checked = checked_courses(path)?;
    let settings = Settings::resolve(common).map_err(report)?;
    let bank_files = match settings.question_banks.as_deref().filter(|d| d.is_dir()) {
        Some(dir) => {
            let files = banks::bank_files(dir).map_err(report)?;
            banks::check_all(&files).map_err(|problems| {
                let count: usize = problems.iter().map(|p| p.problems.len()).sum();
                format!(
                    "{}: the question banks have {count} problem(s); run `bank check` on it",
                    dir.display()
                )
            })?
        }
        None => Vec::new(),
    };
    let short = courses::quiz_problems(&checked, &courses::practice_topics(&bank_files));
    if !short.is_empty() {
        let count: usize = short.iter().map(|p| p.problems.len()).sum();
        let lines: Vec<String> = short.iter().map(ToString::to_string).collect();
        return Err(format!(
            "{}\n{count} problem(s) (quizzes checked against the practice banks in {}); nothing was imported",
            lines.join("\n"),
            settings
                .question_banks
                .as_deref()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|| "no folder".into())
        ));
    }
    for c in &checked.courses {
        println!(
            "{}: ok, course \"{}\" with {} lessons",
            c.dir.display(),
            c.manifest.course.key,
            c.lessons.len()
        );
    }
    for (file, track) in &checked.tracks {
        println!("{}: ok, track \"{}\"", file.display(), track.key);
    }
    Ok(())
}

fn serve(common: &CommonArgs) -> Result<(), String> {
    let settings = Settings::resolve(common).map_err(report)?;
    actix_web::rt::System::new().block_on(async move {
        let public_url = settings.public_url.clone();
        let mail_note = match &settings.smtp_url {
            Some(_) => "mail: sent through the configured SMTP server".to_owned(),
            None => format!(
                "mail: no SMTP server set; messages are written to {}",
                settings.mail_dir().display()
            ),
        };
        let app = Application::build(settings).await.map_err(report)?;
        println!(
            "Gatekeeper {} listening on {public_url} (port {}, database: {})",
            env!("CARGO_PKG_VERSION"),
            app.port(),
            app.ctx().db.backend().name()
        );
        println!("{mail_note}");
        let has_admin = people::has_admin(&app.ctx().db).map_err(report)?;
        if !has_admin {
            println!("No admin yet. Create the first one with:");
            println!(
                "  cargo run --release -- admin create --email you@example.org --name \"Your Name\""
            );
        }
        app.run_until_stopped().await.map_err(report)
    })
}

/// `demo`: the demo alliance in its own data directory (./demo-data unless
/// one is given), built once and reused while its seed and size are the
/// same, then served like `serve` with a banner on every page.
fn demo(
    common: &CommonArgs,
    options: gatekeeper::demo::Options,
    fresh: bool,
    build_only: bool,
) -> Result<(), String> {
    use gatekeeper::demo::{self, DatabaseState};
    options.check().map_err(report)?;
    let mut common = common.clone();
    if common.data_dir.is_none() {
        common.data_dir = Some(std::path::PathBuf::from("demo-data"));
    }
    let mut settings = Settings::resolve(&common).map_err(report)?;
    settings.demo = true;
    let marker = demo::done_marker(&settings.data_dir);
    let wanted = format!("seed {} cohort {}", options.seed, options.cohort);
    actix_web::rt::System::new().block_on(async move {
        let db = Db::connect(&settings.database_url).map_err(report)?;
        db.migrate().map_err(report)?;
        let state = demo::check_database(&db).map_err(report)?;
        let built = std::fs::read_to_string(&marker).ok();
        let reuse =
            state == DatabaseState::Demo && !fresh && built.as_deref() == Some(wanted.as_str());
        if !reuse {
            if state == DatabaseState::Demo {
                demo::clear(&db).map_err(report)?;
            }
            let _ = std::fs::remove_file(&marker);
            println!("Building the demo alliance ({wanted}) …");
            let ctx =
                gatekeeper::services::Ctx::new(db.clone(), settings.clone()).map_err(report)?;
            let report = demo::build(&ctx, options).await.map_err(report)?;
            std::fs::write(&marker, &wanted).map_err(|e| format!("{}: {e}", marker.display()))?;
            print_report(&report);
        } else {
            println!(
                "Reusing the demo alliance in {} ({wanted}).",
                settings.data_dir.display()
            );
        }
        print_sign_ins(&db);
        if build_only {
            return Ok(());
        }
        let public_url = settings.public_url.clone();
        let app = Application::build(settings).await.map_err(report)?;
        println!(
            "Demo alliance at {public_url} (port {}). Stop with Ctrl-C.",
            app.port()
        );
        app.run_until_stopped().await.map_err(report)
    })
}

fn print_report(report: &gatekeeper::demo::Report) {
    let f = &report.figures;
    println!(
        "Built in {:.1} s: {} events, {} lesson and quiz completions.",
        report.elapsed.as_secs_f64(),
        report.events,
        report.completions
    );
    println!(
        "  {} districts, {} maternal and child health hospitals, {} community institutions ({} in the alliance), 1 tertiary children's hospital",
        f.districts, f.mch_hospitals, f.community_institutions, f.alliance_members
    );
    println!(
        "  {} doctors in the current cohort, {} certified from it; {} alliance doctors in all ({} renewed, {} suspended, {} revoked)",
        f.cohort,
        f.cohort_certified,
        f.alliance_doctors(),
        f.renewed,
        f.suspended,
        f.revoked
    );
    println!(
        "  {} community first visits, {} referrals up, {} referred back down",
        f.first_visits, f.referrals, f.referred_back
    );
    println!("  where the time went:");
    for (phase, n, d) in &report.phases {
        println!("    {phase:<30} {n:>7} {:>8.1} s", d.as_secs_f64());
    }
}

/// One sign-in per role (the password is the same for all: demo data).
fn print_sign_ins(db: &Db) {
    println!("Sign in (password {}):", gatekeeper::demo::DEMO_PASSWORD);
    match gatekeeper::demo::sign_ins(db) {
        Ok(list) => {
            for s in list {
                println!("  {:<20} {:<40} {}", s.role, s.email, s.name);
            }
        }
        Err(e) => println!("  (cannot list the sign-ins: {e})"),
    }
}

/// The database and signing keys, as `serve` opens them (migrated first).
fn open_keys(common: &CommonArgs) -> Result<(Db, gatekeeper::services::credentials::Keys), String> {
    let settings = Settings::resolve(common).map_err(report)?;
    let db = Db::connect(&settings.database_url).map_err(report)?;
    db.migrate().map_err(report)?;
    let keys = gatekeeper::services::credentials::Keys::open(&db, &settings).map_err(report)?;
    Ok((db, keys))
}

/// `key rotate`: a new signing key for every instance.
fn rotate_key(common: &CommonArgs) -> Result<(), String> {
    let (db, keys) = open_keys(common)?;
    let rotated = keys.rotate(&db).map_err(report)?;
    println!("signing from now on with {}", rotated.kid);
    println!(
        "the key {} no longer signs; it stays in the JWK set until {} (the latest expiry of a credential it may have signed)",
        rotated.retired,
        rotated
            .withdraw_after
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    Ok(())
}

/// `key list`: every key, newest first.
fn list_keys(common: &CommonArgs) -> Result<(), String> {
    let (db, _) = open_keys(common)?;
    let now = gatekeeper::store::now();
    for k in gatekeeper::services::credentials::Keys::list(&db).map_err(report)? {
        let state = match (k.retired_at, k.withdraw_after) {
            (None, _) => "signs".to_owned(),
            (Some(_), Some(w)) if w <= now => format!("withdrawn since {w} UTC"),
            (Some(_), Some(w)) => format!("retired, published until {w} UTC"),
            (Some(_), None) => "retired, published".to_owned(),
        };
        println!(
            "{}  {}  created {} UTC  {state}",
            k.thumbprint, k.algorithm, k.created_at
        );
    }
    Ok(())
}

fn migrate(common: &CommonArgs) -> Result<(), String> {
    let settings = Settings::resolve(common).map_err(report)?;
    let db = Db::connect(&settings.database_url).map_err(report)?;
    let ran = db.migrate().map_err(report)?;
    println!("{ran} migration(s) applied ({})", db.backend().name());
    Ok(())
}

fn read_password() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(report)?;
        let second = rpassword::prompt_password("Repeat password: ").map_err(report)?;
        if first != second {
            return Err("the passwords differ".to_owned());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// What the command line says of an error: its message and every cause
/// beneath it (a server error's causes go to the log; here there is none).
fn report(e: impl std::error::Error + 'static) -> String {
    gatekeeper::error::Chain(&e).to_string()
}

fn create_admin(common: &CommonArgs, email: &str, name: &str) -> Result<(), String> {
    let settings = Settings::resolve(common).map_err(report)?;
    let db = Db::connect(&settings.database_url).map_err(report)?;
    db.migrate().map_err(report)?;
    let password = read_password()?;
    let admin = people::create_admin(&db, email, name, &password).map_err(report)?;
    println!(
        "Admin {} <{}> created (id {}). Sign in at {}/sign-in",
        admin.name, admin.email, admin.id, settings.public_url
    );
    Ok(())
}

fn checked_banks(path: &std::path::Path) -> Result<Vec<banks::CheckedFile>, String> {
    let files = banks::bank_files(path).map_err(report)?;
    if files.is_empty() {
        return Err(format!(
            "{}: no bank files (.toml, .gift, GIFT .txt, Moodle .xml)",
            path.display()
        ));
    }
    banks::check_all(&files).map_err(|problems| {
        let count: usize = problems.iter().map(|p| p.problems.len()).sum();
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        format!(
            "{}\n{count} problem(s); nothing was imported",
            lines.join("\n")
        )
    })
}

fn check_banks(path: &std::path::Path) -> Result<(), String> {
    for file in checked_banks(path)? {
        let bank = &file.bank;
        println!(
            "{}: ok, bank \"{}\" with {} questions (track {}, {})",
            file.path.display(),
            bank.meta.id,
            bank.questions.len(),
            bank.meta.track,
            bank.meta.use_for.as_str()
        );
        print!("{}", gatekeeper::domain::banks::Summary::of(bank));
    }
    Ok(())
}

fn checked_courses(path: &std::path::Path) -> Result<courses::Checked, String> {
    courses::check_path(path).map_err(|problems| {
        let count: usize = problems.iter().map(|p| p.problems.len()).sum();
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        format!(
            "{}\n{count} problem(s); nothing was imported",
            lines.join("\n")
        )
    })
}

fn import_courses(common: &CommonArgs, path: &std::path::Path) -> Result<(), String> {
    let checked = checked_courses(path)?;
    let settings = Settings::resolve(common).map_err(report)?;
    let db = Db::connect(&settings.database_url).map_err(report)?;
    db.migrate().map_err(report)?;
    for summary in courses::import(&db, &checked).map_err(report)? {
        println!("{summary}");
    }
    Ok(())
}

fn import_banks(common: &CommonArgs, path: &std::path::Path) -> Result<(), String> {
    let checked = checked_banks(path)?;
    let settings = Settings::resolve(common).map_err(report)?;
    let db = Db::connect(&settings.database_url).map_err(report)?;
    db.migrate().map_err(report)?;
    for summary in banks::import_checked(&db, &checked).map_err(report)? {
        println!("{summary}");
    }
    Ok(())
}

/// The database of the settings, migrated.
fn database(common: &CommonArgs) -> Result<(Settings, Db), String> {
    let settings = Settings::resolve(common).map_err(report)?;
    let db = Db::connect(&settings.database_url).map_err(report)?;
    db.migrate().map_err(report)?;
    Ok((settings, db))
}

fn verify_audit(common: &CommonArgs) -> Result<(), String> {
    let (_, db) = database(common)?;
    let report = audit::verify(&db).map_err(report)?;
    print!("{report}");
    if report.intact() {
        Ok(())
    } else {
        Err("the audit chain is broken".to_owned())
    }
}

fn export_audit(
    common: &CommonArgs,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    out: Option<&std::path::Path>,
) -> Result<(), String> {
    let (settings, db) = database(common)?;
    let (start, end) = audit::day_bounds(from, to, settings.time_zone).map_err(report)?;
    let summary = match out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            audit::export(&db, start, end, &mut writer)
        }
        None => audit::export(&db, start, end, &mut std::io::stdout().lock()),
    }
    .map_err(report)?;
    eprintln!("exported {summary}");
    Ok(())
}

fn show_decision(common: &CommonArgs, number: &str) -> Result<(), String> {
    let (_, db) = database(common)?;
    let record = decision::show(&db, number).map_err(report)?;
    print!("{record}");
    if record.agrees() {
        Ok(())
    } else {
        Err("the decision record disagrees with the audit chain".to_owned())
    }
}
