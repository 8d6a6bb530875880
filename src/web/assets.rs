//! Static files under content-hashed names: `/assets/app.3f2a1b9c0d.css`.
//! A name changes whenever the file's bytes do, so browsers may keep each
//! one for a year without asking again (`immutable`), and a new release is
//! never read with last week's script. Pages link through [`url`]; the plain
//! `/static/…` paths still answer, checked with the server each time.
//!
//! The files are read once, at the first page, from the static folder
//! (`GATEKEEPER_STATIC_DIR` or `static/`): a handful of small files.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};

/// One static file, in memory, under its hashed name.
struct Asset {
    bytes: web::Bytes,
    content_type: &'static str,
}

struct Assets {
    /// `app.css` → `app.3f2a1b9c0d.css`
    names: HashMap<String, String>,
    /// `app.3f2a1b9c0d.css` → the file
    files: HashMap<String, Asset>,
}

static ASSETS: OnceLock<Assets> = OnceLock::new();

fn assets() -> &'static Assets {
    ASSETS.get_or_init(|| load(&super::static_dir()))
}

/// The hashed name of a file: its stem, ten hex digits of its SHA-256, its
/// extension.
pub fn hashed_name(name: &str, bytes: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(bytes));
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{}.{ext}", &digest[..10]),
        None => format!("{name}.{}", &digest[..10]),
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

fn load(dir: &Path) -> Assets {
    let mut names = HashMap::new();
    let mut files = HashMap::new();
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    for entry in entries {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let Ok(bytes) = std::fs::read(entry.path()) else {
            tracing::warn!(file = %name, "static file unreadable; served without a hashed name");
            continue;
        };
        let hashed = hashed_name(&name, &bytes);
        files.insert(
            hashed.clone(),
            Asset {
                bytes: web::Bytes::from(bytes),
                content_type: content_type(&name),
            },
        );
        names.insert(name, hashed);
    }
    Assets { names, files }
}

/// The URL a page uses for a static file: its hashed name, or the plain
/// `/static/` path if the file was not found at start.
pub fn url(name: &str) -> String {
    match assets().names.get(name) {
        Some(hashed) => format!("/assets/{hashed}"),
        None => format!("/static/{name}"),
    }
}

/// `GET /assets/{name}`: a file under its hashed name, cached for a year.
pub async fn serve(name: web::Path<String>) -> HttpResponse {
    match assets().files.get(name.as_str()) {
        Some(asset) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, asset.content_type))
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(asset.bytes.clone()),
        None => HttpResponse::NotFound()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_name_changes_with_the_bytes_and_keeps_the_extension() {
        let a = hashed_name("app.css", b"body{}");
        let b = hashed_name("app.css", b"body{color:red}");
        assert_ne!(a, b);
        assert!(a.starts_with("app.") && a.ends_with(".css") && a.len() == "app..css".len() + 10);
        assert_eq!(a, hashed_name("app.css", b"body{}"));
    }

    #[test]
    fn every_static_file_has_a_hashed_url() {
        for name in ["app.css", "exam.js", "lesson.js", "print.css"] {
            let url = url(name);
            assert!(url.starts_with("/assets/"), "{name}: {url}");
        }
        assert_eq!(url("missing.css"), "/static/missing.css");
    }
}
