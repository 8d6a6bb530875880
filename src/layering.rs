//! The import graph of each layer, read from the source: which module of
//! `src/<layer>/` names which other of the same layer (`crate::services::x`,
//! `super::x` from a top-level file, `crate::services::{x, y::…}`), and tests
//! that no layer's graph has a cycle and that the layers only import
//! downwards (web and jobs -> services -> store and domain).
//! `cargo test -q --lib module_imports -- --nocapture` prints the edges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `from -> {to}` between the modules directly under `layer_dir` (`src/<layer>/`;
/// a folder module counts as one, its files included).
pub fn module_edges(
    layer_dir: &Path,
    layer: &str,
) -> std::io::Result<BTreeMap<String, BTreeSet<String>>> {
    let modules = module_names(layer_dir)?;
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, owner, depth) in layer_files(layer_dir)? {
        edges.entry(owner.clone()).or_default();
        let text = std::fs::read_to_string(&file)?;
        for name in referenced_modules(&strip_comments(&text), layer, depth) {
            if name != owner && modules.contains(&name) {
                edges.entry(owner.clone()).or_default().insert(name);
            }
        }
    }
    Ok(edges)
}

/// Every cycle's modules (strongly connected components of more than one
/// module, or a module naming itself), each sorted.
pub fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Two modules are in one cycle when each reaches the other.
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&str> = vec![from];
        while let Some(m) = todo.pop() {
            for next in edges.get(m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next);
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        edges.keys().map(|m| (m, reach(m))).collect();
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    for (m, r) in &reached {
        if !r.contains(*m) {
            continue;
        }
        let component: Vec<String> = r
            .iter()
            .filter(|o| reached.get(o).is_some_and(|back| back.contains(*m)))
            .cloned()
            .collect();
        found.insert(component);
    }
    found.into_iter().collect()
}

fn module_names(dir: &Path) -> std::io::Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.is_dir() || (path.extension().is_some_and(|e| e == "rs") && stem != "mod") {
            names.insert(stem.to_owned());
        }
    }
    Ok(names)
}

/// Each `.rs` file under `dir` but the root `mod.rs`, with the top-level
/// module it belongs to and how many `super::` lead from it to the layer.
fn layer_files(dir: &Path) -> std::io::Result<Vec<(PathBuf, String, usize)>> {
    fn walk(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(path)? {
            let p = entry?.path();
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    let mut out = Vec::new();
    for file in files {
        let Ok(rel) = file.strip_prefix(dir) else {
            continue;
        };
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
            .collect();
        let Some(first) = parts.first().cloned() else {
            continue;
        };
        if parts.len() == 1 && first == "mod" {
            continue;
        }
        // services/x.rs and services/x/mod.rs are one level below services;
        // services/x/y.rs two (and so for every layer).
        let depth = parts.iter().filter(|p| p.as_str() != "mod").count();
        out.push((file, first, depth));
    }
    Ok(out)
}

fn strip_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| match l.find(" // ") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first path segment of each item in a `{a, b::{c}, d as e}` group
/// starting at `s` (just after the `{`).
fn group_heads(s: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut at_item = true;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_item = true,
            c if c.is_whitespace() => {}
            _ if at_item && depth == 0 => {
                heads.push(ident_at(&s[i..]).to_owned());
                at_item = false;
            }
            _ => {}
        }
    }
    heads
}

/// Names right after each path that leads to the layer (`layer::`) from a
/// file `depth` modules below it.
fn referenced_modules(text: &str, layer: &str, depth: usize) -> Vec<String> {
    let mut names = Vec::new();
    let mut heads_after = |rest: &str| {
        if let Some(group) = rest.strip_prefix('{') {
            names.extend(group_heads(group));
        } else {
            names.push(ident_at(rest).to_owned());
        }
    };
    let prefix = format!("{layer}::");
    for (i, _) in text.match_indices(&prefix) {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        heads_after(&text[i + prefix.len()..]);
    }
    let supers = "super::".repeat(depth);
    for (i, _) in text.match_indices(&supers) {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &text[i + supers.len()..];
        if rest.starts_with("super::") {
            continue;
        }
        heads_after(rest);
    }
    names
}

/// The crate's top-level modules a text names: `crate::x::…`, `crate::x;`,
/// `crate::x as y` and each head of `crate::{x, y::…}`.
fn crate_heads(text: &str) -> BTreeSet<String> {
    let mut heads = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => heads.extend(group_heads(group)),
            None => {
                heads.insert(ident_at(rest).to_owned());
            }
        }
    }
    heads
}

/// Which files under `dir` name `crate::<other>`, in any form, for one of
/// `others`.
pub fn files_naming(dir: &Path, others: &[&str]) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut found = Vec::new();
    for (file, _, _) in layer_files(dir)? {
        let heads = crate_heads(&strip_comments(&std::fs::read_to_string(&file)?));
        for other in others {
            if heads.contains(*other) {
                found.push((file.clone(), (*other).to_owned()));
            }
        }
    }
    Ok(found)
}

/// `from -> {to}` between the crate's top-level modules (`src/x.rs` or
/// `src/x/`): which names `crate::y::` for another.
pub fn top_level_edges(src: &Path) -> std::io::Result<BTreeMap<String, BTreeSet<String>>> {
    let roots = ["lib", "main", "layering"];
    let modules: BTreeSet<String> = module_names(src)?
        .into_iter()
        .filter(|m| !roots.contains(&m.as_str()))
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, owner, _) in layer_files(src)? {
        if roots.contains(&owner.as_str()) {
            continue;
        }
        let text = strip_comments(&std::fs::read_to_string(&file)?);
        let named = edges.entry(owner.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let head = ident_at(&text[i + "crate::".len()..]);
            if head != owner && modules.contains(head) {
                named.insert(head.to_owned());
            }
        }
    }
    Ok(edges)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;

    /// Every layer folder of `src/`; each is checked for cycles inside it.
    const LAYERS: [&str; 6] = ["web", "jobs", "services", "store", "domain", "demo"];

    fn layer_dir(layer: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(layer)
    }

    #[test]
    fn module_imports_have_no_cycle_in_any_layer() -> std::io::Result<()> {
        for layer in LAYERS {
            let edges = module_edges(&layer_dir(layer), layer)?;
            println!("== {layer}");
            for (from, to) in &edges {
                let to: Vec<&str> = to.iter().map(String::as_str).collect();
                println!("{from} -> {}", to.join(", "));
            }
            let found = cycles(&edges);
            assert!(
                found.is_empty(),
                "{layer} modules that import each other in a ring: {found:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn module_imports_have_no_cycle_between_top_level_modules() -> std::io::Result<()> {
        let edges = top_level_edges(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))?;
        println!("== crate");
        for (from, to) in &edges {
            let to: Vec<&str> = to.iter().map(String::as_str).collect();
            println!("{from} -> {}", to.join(", "));
        }
        let found = cycles(&edges);
        assert!(found.is_empty(), "top-level modules in a ring: {found:?}");
        Ok(())
    }

    #[test]
    fn layers_import_only_downwards() -> std::io::Result<()> {
        // What each layer must never name: the layers above it.
        let above: [(&str, &[&str]); 4] = [
            ("domain", &["web", "jobs", "services", "store", "demo"]),
            ("store", &["web", "jobs", "services", "demo"]),
            ("services", &["web", "jobs", "demo"]),
            ("jobs", &["web", "demo"]),
        ];
        for (layer, others) in above {
            let found = files_naming(&layer_dir(layer), others)?;
            assert!(
                found.is_empty(),
                "{layer} names a layer above it: {found:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn web_reaches_the_database_only_through_services() -> std::io::Result<()> {
        // Handlers get view types from the services, never store rows or
        // queries: what a page or the API shows is decided in one place.
        let found = files_naming(&layer_dir("web"), &["store"])?;
        assert!(found.is_empty(), "web names the store: {found:?}");
        Ok(())
    }

    #[test]
    fn every_form_of_naming_a_module_is_seen() {
        let heads = crate_heads(
            "use crate::store;\nuse crate::{error::Error, services::{self, x}};\n\
             let n = crate::clock::now(); use crate::domain as d;",
        );
        let heads: Vec<&str> = heads.iter().map(String::as_str).collect();
        assert_eq!(heads, ["clock", "domain", "error", "services", "store"]);
    }

    #[test]
    fn the_reader_sees_every_form_of_import() {
        let text = strip_comments(
            "use crate::services::{Caller, audit::{self, Outcome}, grading};\n\
             // use crate::services::commented;\n\
             let x = super::utc(t); crate::services::pipeline::advance(c);\n\
             use super::super::exams::X;",
        );
        let one = referenced_modules(&text, "services", 1);
        assert_eq!(one, ["Caller", "audit", "grading", "pipeline", "utc"]);
        let two = referenced_modules(&text, "services", 2);
        assert_eq!(two, ["Caller", "audit", "grading", "pipeline", "exams"]);
        // Another layer's paths are not this layer's edges.
        let text =
            strip_comments("use crate::domain::credentials::Status;\nlet s = services::x();");
        assert_eq!(referenced_modules(&text, "domain", 1), ["credentials"]);
    }

    #[test]
    fn a_ring_is_found_and_a_chain_is_not() {
        let graph = |pairs: &[(&str, &str)]| {
            let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (a, b) in pairs {
                g.entry((*a).to_owned())
                    .or_default()
                    .insert((*b).to_owned());
                g.entry((*b).to_owned()).or_default();
            }
            g
        };
        assert!(cycles(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])).is_empty());
        assert_eq!(
            cycles(&graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])),
            vec![vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]
        );
    }
}
