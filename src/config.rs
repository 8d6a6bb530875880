//! Settings: command-line flags, then `GATEKEEPER_*` environment variables
//! (clap reads both), then an optional TOML config file, then defaults.
//! README.md documents every setting.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::client_address::TrustedProxies;
use crate::error::{Error, Result};
use crate::store::DatabaseUrl;

/// Options every command accepts. Flags win over environment variables,
/// which win over the config file.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CommonArgs {
    /// TOML file with any of the settings below (keys without the prefix, e.g. `bind`).
    #[arg(long, env = "GATEKEEPER_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Directory for the SQLite database, keys and mail files [default: ./data].
    #[arg(long, env = "GATEKEEPER_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// postgres://… or a SQLite file [default: sqlite://DATA_DIR/gatekeeper.db].
    #[arg(
        long,
        env = "GATEKEEPER_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "GATEKEEPER_BIND", global = true)]
    pub bind: Option<String>,
    /// The URL people use to reach the server, for links in email [default: http://BIND].
    #[arg(long, env = "GATEKEEPER_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Secret for signing cookies, at least 32 characters [default: generated into DATA_DIR/session.key].
    #[arg(
        long,
        env = "GATEKEEPER_SESSION_KEY",
        global = true,
        hide_env_values = true
    )]
    pub session_key: Option<String>,
    /// Secret, at least 32 characters, that seals the credential signing keys in the database; the same on every instance [default: generated into DATA_DIR/signing-key.secret].
    #[arg(
        long,
        env = "GATEKEEPER_SIGNING_KEY_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub signing_key_secret: Option<String>,
    /// SMTP server as a URL, e.g. smtps://user:pass@mail.example.org [default: none; mail is written to DATA_DIR/mail/].
    #[arg(
        long,
        env = "GATEKEEPER_SMTP_URL",
        global = true,
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// Sender of outgoing mail [default: Gatekeeper <noreply@localhost>].
    #[arg(long, env = "GATEKEEPER_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
    /// IANA time zone in which times are shown [default: Asia/Shanghai].
    #[arg(long, env = "GATEKEEPER_TIME_ZONE", global = true)]
    pub time_zone: Option<String>,
    /// Directory of question bank files loaded at start; "none" to skip [default: ./question_banks].
    #[arg(long, env = "GATEKEEPER_QUESTION_BANKS", global = true)]
    pub question_banks: Option<String>,
    /// Directory of course folders and track files loaded at start (after the
    /// question banks); "none" to skip [default: ./courses].
    #[arg(long, env = "GATEKEEPER_COURSES", global = true)]
    pub courses: Option<String>,
    /// The namespace (an absolute URI) of the patient ids in the FHIR export:
    /// `Patient.identifier.system` [default: PUBLIC_URL/fhir/patient-id].
    #[arg(long, env = "GATEKEEPER_FHIR_PATIENT_SYSTEM", global = true)]
    pub fhir_patient_system: Option<String>,
    /// Comma-separated addresses and CIDR ranges of the load balancers and
    /// proxies in front of this server, whose X-Forwarded-For is believed
    /// (domain::client_address) [default: none; the TCP peer is the client].
    #[arg(long, env = "GATEKEEPER_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
}

/// The same settings as they may appear in the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    bind: Option<String>,
    public_url: Option<String>,
    session_key: Option<String>,
    signing_key_secret: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    time_zone: Option<String>,
    question_banks: Option<String>,
    courses: Option<String>,
    fhir_patient_system: Option<String>,
    trusted_proxies: Option<String>,
}

/// Resolved settings.
#[derive(Clone)]
pub struct Settings {
    pub bind: String,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub public_url: String,
    pub session_key: cookie::Key,
    /// Seals the credential signing keys in the database
    /// (`domain::signing::SealingKey`); never printed.
    pub signing_key_secret: String,
    pub smtp_url: Option<String>,
    pub mail_from: lettre::message::Mailbox,
    pub time_zone: chrono_tz::Tz,
    /// Bank files imported at start (None: skip).
    pub question_banks: Option<PathBuf>,
    /// Courses and tracks imported at start (None: skip).
    pub courses: Option<PathBuf>,
    /// `Patient.identifier.system` of the FHIR export: an absolute URI
    /// naming our patient ids.
    pub fhir_patient_system: String,
    /// The proxies whose `X-Forwarded-For` is believed; empty: none.
    pub trusted_proxies: TrustedProxies,
    /// Serving the demo alliance (`gatekeeper demo`): every page says so.
    pub demo: bool,
    pub tuning: Tuning,
}

/// Knobs tests turn; production uses the defaults.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Failed sign-ins to one account from one address before throttling,
    /// and seconds until one more (`domain::throttle`).
    pub sign_in_account_address_burst: u32,
    pub sign_in_account_address_refill_secs: u64,
    /// Failed sign-ins from one address, whatever the account.
    pub sign_in_address_burst: u32,
    pub sign_in_address_refill_secs: u64,
    /// Failed sign-ins to one account from every address together: the
    /// ceiling against guesses spread over many addresses.
    pub sign_in_account_burst: u32,
    pub sign_in_account_refill_secs: u64,
    /// Failed sign-ins from one trusted device (device cookie).
    pub sign_in_device_burst: u32,
    pub sign_in_device_refill_secs: u64,
    /// How often the mail worker looks for due mail.
    pub mail_poll_millis: u64,
    /// How often overdue exam attempts are looked for and submitted.
    pub auto_submit_poll_millis: u64,
    /// How often workshop reminders are looked for.
    pub reminder_poll_secs: u64,
    /// Public credential lookups per client address before throttling, and
    /// seconds per refill.
    pub verify_burst: u32,
    pub verify_refill_secs: u64,
    /// How often the certification job re-checks open cases and expires
    /// credentials.
    pub certification_poll_secs: u64,
    /// How often the cases-due job takes the evidence that a request noted
    /// but could not take itself (it crashed or failed after its commit).
    pub cases_due_poll_secs: u64,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// PostgreSQL connections per server instance.
    pub pg_pool_size: u32,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            sign_in_account_address_burst: 5,
            sign_in_account_address_refill_secs: 180,
            sign_in_address_burst: 30,
            sign_in_address_refill_secs: 20,
            sign_in_account_burst: 50,
            sign_in_account_refill_secs: 600,
            sign_in_device_burst: 10,
            sign_in_device_refill_secs: 180,
            mail_poll_millis: 2_000,
            auto_submit_poll_millis: 5_000,
            reminder_poll_secs: 600,
            verify_burst: 30,
            verify_refill_secs: 6,
            certification_poll_secs: 3600,
            cases_due_poll_secs: 60,
            max_body_bytes: 256 * 1024,
            pg_pool_size: 16,
        }
    }
}

impl std::fmt::Debug for Settings {
    /// Never prints the session key or the SMTP URL (it may hold a password).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field("backend", &self.database_url.backend())
            .field("public_url", &self.public_url)
            .field("smtp", &self.smtp_url.as_ref().map(|_| "configured"))
            .field("time_zone", &self.time_zone)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

/// The address people reach us at (default: the bound address over http),
/// without a trailing slash.
fn public_url_of(picked: Option<String>, bind: &str) -> Result<String> {
    let public_url = picked
        .unwrap_or_else(|| format!("http://{bind}"))
        .trim_end_matches('/')
        .to_owned();
    if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
        return Err(Error::invalid(
            "public_url",
            "must start with http:// or https://",
        ));
    }
    Ok(public_url)
}

/// The alliance's time zone (default Asia/Shanghai).
fn time_zone_of(picked: Option<String>) -> Result<chrono_tz::Tz> {
    picked
        .unwrap_or_else(|| "Asia/Shanghai".to_owned())
        .parse::<chrono_tz::Tz>()
        .map_err(|_detail| {
            Error::invalid(
                "time_zone",
                "is not an IANA time zone such as Asia/Shanghai",
            )
        })
}

/// The FHIR identifier system of patients (default: under the public URL).
fn fhir_patient_system_of(picked: Option<String>, public_url: &str) -> Result<String> {
    let system = picked
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| format!("{public_url}/fhir/patient-id"));
    if !is_absolute_uri(&system) {
        return Err(Error::invalid(
            "fhir_patient_system",
            "must be an absolute URI without spaces, such as https://hospital.example/patient-id or urn:oid:1.2.3",
        ));
    }
    Ok(system)
}

/// A folder to load at start: `none` or empty for none, else the one named
/// (default `default`).
fn folder(picked: Option<String>, default: &str) -> Option<PathBuf> {
    match picked.as_deref() {
        Some("none" | "") => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None => Some(PathBuf::from(default)),
    }
}

impl Settings {
    pub fn resolve(args: &CommonArgs) -> Result<Settings> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let pick =
            |flag: &Option<String>, file: &Option<String>| flag.clone().or_else(|| file.clone());

        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let bind = pick(&args.bind, &file.bind).unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let database_url = match pick(&args.database_url, &file.database_url) {
            Some(url) => DatabaseUrl::parse(&url)?,
            None => DatabaseUrl::Sqlite(data_dir.join("gatekeeper.db")),
        };
        let public_url = public_url_of(pick(&args.public_url, &file.public_url), &bind)?;
        let session_key = match pick(&args.session_key, &file.session_key) {
            Some(secret) => key_from_secret(&secret)?,
            None => load_or_create_key(&data_dir)?,
        };
        let signing_key_secret = match pick(&args.signing_key_secret, &file.signing_key_secret) {
            Some(secret) => long_enough("signing_key_secret", secret)?,
            None => load_or_create_secret(&data_dir, "signing-key.secret", "signing_key_secret")?,
        };
        let mail_from = pick(&args.mail_from, &file.mail_from)
            .unwrap_or_else(|| "Gatekeeper <noreply@localhost>".to_owned())
            .parse()
            .map_err(|e| Error::invalid("mail_from", format!("is not a mailbox: {e}")))?;
        let time_zone = time_zone_of(pick(&args.time_zone, &file.time_zone))?;
        let fhir_patient_system = fhir_patient_system_of(
            pick(&args.fhir_patient_system, &file.fhir_patient_system),
            &public_url,
        )?;
        let trusted_proxies = TrustedProxies::parse(
            &pick(&args.trusted_proxies, &file.trusted_proxies).unwrap_or_default(),
        )
        .map_err(|e| {
            Error::invalid(
                "trusted_proxies",
                format!("GATEKEEPER_TRUSTED_PROXIES: {e}"),
            )
        })?;
        Ok(Settings {
            bind,
            data_dir,
            database_url,
            public_url,
            session_key,
            signing_key_secret,
            smtp_url: pick(&args.smtp_url, &file.smtp_url).filter(|s| !s.trim().is_empty()),
            mail_from,
            time_zone,
            question_banks: folder(
                pick(&args.question_banks, &file.question_banks),
                "question_banks",
            ),
            courses: folder(pick(&args.courses, &file.courses), "courses"),
            fhir_patient_system,
            trusted_proxies,
            demo: false,
            tuning: Tuning::default(),
        })
    }

    /// Cookies get `Secure` (and the `__Host-` prefix) only when people reach
    /// us over https; on plain http a browser would drop them.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }
}

/// Whether `s` is an absolute URI as FHIR's `uri` wants one: a scheme
/// (a letter, then letters, digits, `+`, `-` or `.`), a colon, something
/// after it, and no whitespace.
fn is_absolute_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !s.chars().any(char::is_whitespace)
}

fn read_file(path: &Path) -> Result<FileSettings> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid("config", format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(0);
        Error::invalid(format!("{}:{line}", path.display()), e.message().to_owned())
    })
}

fn key_from_secret(secret: &str) -> Result<cookie::Key> {
    if secret.len() < 32 {
        return Err(Error::invalid(
            "session_key",
            "must be at least 32 characters",
        ));
    }
    Ok(cookie::Key::derive_from(secret.as_bytes()))
}

/// Reads DATA_DIR/session.key, creating it (readable by the owner only) with a
/// random secret on first start, so sessions survive restarts.
fn load_or_create_key(data_dir: &Path) -> Result<cookie::Key> {
    let path = data_dir.join("session.key");
    if let Ok(secret) = std::fs::read_to_string(&path) {
        return key_from_secret(secret.trim());
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| Error::internal_from(format!("cannot create {}", data_dir.display()), e))?;
    let secret = crate::domain::tokens::generate("");
    write_private(&path, &secret)?;
    key_from_secret(&secret)
}

fn long_enough(setting: &str, secret: String) -> Result<String> {
    if secret.len() < 32 {
        return Err(Error::invalid(setting, "must be at least 32 characters"));
    }
    Ok(secret)
}

/// Reads DATA_DIR/`name`, creating it (readable by the owner only) with a
/// random secret on first start. Enough for one instance; several instances
/// are given the same value by the setting instead.
fn load_or_create_secret(data_dir: &Path, name: &str, setting: &str) -> Result<String> {
    let path = data_dir.join(name);
    if let Ok(secret) = std::fs::read_to_string(&path) {
        return long_enough(setting, secret.trim().to_owned());
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| Error::internal_from(format!("cannot create {}", data_dir.display()), e))?;
    let secret = crate::domain::tokens::generate("");
    match write_private(&path, &secret) {
        Ok(()) => Ok(secret),
        // Another process (a second command) created it meanwhile.
        Err(_) if path.exists() => {
            let secret = std::fs::read_to_string(&path)
                .map_err(|e| Error::internal_from(format!("cannot read {}", path.display()), e))?;
            long_enough(setting, secret.trim().to_owned())
        }
        Err(e) => Err(e),
    }
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Error::internal_from(format!("cannot create {}", path.display()), e))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| Error::internal_from(format!("cannot write {}", path.display()), e))
}

#[cfg(test)]
// A test that walks every case of a table reads best in one piece.
#[allow(clippy::too_many_lines)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_generated_key() {
        let dir = std::env::temp_dir().join(format!("gk-config-{}", uuid::Uuid::new_v4()));
        let args = CommonArgs {
            data_dir: Some(dir.clone()),
            ..CommonArgs::default()
        };
        let s = Settings::resolve(&args);
        assert!(s.is_ok(), "{:?}", s.err());
        if let Ok(s) = s {
            assert_eq!(s.bind, "127.0.0.1:8080");
            assert_eq!(s.public_url, "http://127.0.0.1:8080");
            assert_eq!(
                s.database_url,
                DatabaseUrl::Sqlite(dir.join("gatekeeper.db"))
            );
            assert_eq!(s.time_zone, chrono_tz::Asia::Shanghai);
            assert_eq!(
                s.fhir_patient_system,
                "http://127.0.0.1:8080/fhir/patient-id"
            );
            assert!(!s.secure_cookies());
            assert!(!format!("{s:?}").contains("session_key"));
        }
        // The key is kept: a second start reads the same one.
        let first = std::fs::read_to_string(dir.join("session.key")).unwrap_or_default();
        let _ = Settings::resolve(&args);
        let second = std::fs::read_to_string(dir.join("session.key")).unwrap_or_default();
        assert!(first.len() >= 32);
        assert_eq!(first, second);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_file_fills_in_and_flags_win() {
        let dir = std::env::temp_dir().join(format!("gk-config-{}", uuid::Uuid::new_v4()));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join("gk.toml");
        let _ = std::fs::write(
            &file,
            "bind = \"0.0.0.0:9000\"\npublic_url = \"https://gk.example.org/\"\ntime_zone = \"UTC\"\nsession_key = \"0123456789abcdef0123456789abcdef\"\n",
        );
        let args = CommonArgs {
            config: Some(file.clone()),
            time_zone: Some("Asia/Urumqi".into()),
            data_dir: Some(dir.clone()),
            ..CommonArgs::default()
        };
        let s = Settings::resolve(&args).ok();
        assert_eq!(s.as_ref().map(|s| s.bind.as_str()), Some("0.0.0.0:9000"));
        assert_eq!(
            s.as_ref().map(|s| s.public_url.as_str()),
            Some("https://gk.example.org")
        );
        assert_eq!(
            s.as_ref().map(|s| s.time_zone),
            Some(chrono_tz::Asia::Urumqi)
        );
        assert_eq!(s.as_ref().map(Settings::secure_cookies), Some(true));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn bad_settings_name_the_setting_or_line() {
        let dir = std::env::temp_dir().join(format!("gk-config-{}", uuid::Uuid::new_v4()));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join("gk.toml");
        let _ = std::fs::write(&file, "bind = \"x\"\n\nno_such_setting = 1\n");
        let args = CommonArgs {
            config: Some(file.clone()),
            data_dir: Some(dir.clone()),
            ..CommonArgs::default()
        };
        let field = Settings::resolve(&args)
            .err()
            .and_then(|e| e.field().map(str::to_owned));
        assert_eq!(field, Some(format!("{}:3", file.display())));
        let args = CommonArgs {
            data_dir: Some(dir.clone()),
            time_zone: Some("Mars/Olympus".into()),
            ..CommonArgs::default()
        };
        let field = Settings::resolve(&args)
            .err()
            .and_then(|e| e.field().map(str::to_owned));
        assert_eq!(field.as_deref(), Some("time_zone"));
        let args = CommonArgs {
            data_dir: Some(dir.clone()),
            session_key: Some("short".into()),
            ..CommonArgs::default()
        };
        let field = Settings::resolve(&args)
            .err()
            .and_then(|e| e.field().map(str::to_owned));
        assert_eq!(field.as_deref(), Some("session_key"));
        for bad in [
            "patient ids",
            "no-scheme",
            "https://x.example/a b",
            "1urn:x",
            "urn:",
        ] {
            let args = CommonArgs {
                data_dir: Some(dir.clone()),
                fhir_patient_system: Some(bad.into()),
                ..CommonArgs::default()
            };
            let field = Settings::resolve(&args)
                .err()
                .and_then(|e| e.field().map(str::to_owned));
            assert_eq!(field.as_deref(), Some("fhir_patient_system"), "{bad}");
        }
        for bad in ["10.0.0.5,proxy.example", "10.0.0.0/33", "10.0.0.5/8"] {
            let args = CommonArgs {
                data_dir: Some(dir.clone()),
                trusted_proxies: Some(bad.into()),
                ..CommonArgs::default()
            };
            let error = Settings::resolve(&args).err();
            assert_eq!(
                error.as_ref().and_then(|e| e.field()),
                Some("trusted_proxies"),
                "{bad}"
            );
            let message = error.map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains("GATEKEEPER_TRUSTED_PROXIES"), "{message}");
        }
        let args = CommonArgs {
            data_dir: Some(dir.clone()),
            trusted_proxies: Some("10.0.0.5, fd00::/8".into()),
            ..CommonArgs::default()
        };
        let trusted = Settings::resolve(&args).ok().map(|s| s.trusted_proxies);
        assert!(trusted.is_some_and(|t| {
            t.trusts(
                "fd00::1"
                    .parse()
                    .unwrap_or(std::net::Ipv6Addr::UNSPECIFIED)
                    .into(),
            )
        }));
        for good in [
            "urn:oid:2.16.156.10011.1.12",
            "https://his.example/patient-id",
        ] {
            let args = CommonArgs {
                data_dir: Some(dir.clone()),
                fhir_patient_system: Some(good.into()),
                ..CommonArgs::default()
            };
            let system = Settings::resolve(&args).ok().map(|s| s.fhir_patient_system);
            assert_eq!(system.as_deref(), Some(good));
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
