//! The service modules' import graph, read from the source: which module of
//! `src/services/` names which other (`crate::services::x`, `super::x` from a
//! top-level service file, `crate::services::{x, y::…}`), and a test that the
//! graph has no cycle. `cargo test -q --lib service_imports -- --nocapture`
//! prints the edges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `from -> {to}` between the modules directly under `src/services/` (a
/// folder module counts as one, its files included).
pub fn service_edges(services_dir: &Path) -> std::io::Result<BTreeMap<String, BTreeSet<String>>> {
    let modules = module_names(services_dir)?;
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, owner, depth) in service_files(services_dir)? {
        edges.entry(owner.clone()).or_default();
        let text = std::fs::read_to_string(&file)?;
        for name in referenced_modules(&strip_comments(&text), depth) {
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
/// module it belongs to and how many `super::` lead from it to `services`.
fn service_files(dir: &Path) -> std::io::Result<Vec<(PathBuf, String, usize)>> {
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
        if parts.len() == 1 && parts[0] == "mod" {
            continue;
        }
        // services/x.rs and services/x/mod.rs are one level below services;
        // services/x/y.rs two.
        let depth = parts.iter().filter(|p| p.as_str() != "mod").count();
        out.push((file, parts[0].clone(), depth));
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

/// Names right after each path that leads to `services` from a file
/// `depth` modules below it.
fn referenced_modules(text: &str, depth: usize) -> Vec<String> {
    let mut names = Vec::new();
    let mut heads_after = |rest: &str| {
        if let Some(group) = rest.strip_prefix('{') {
            names.extend(group_heads(group));
        } else {
            names.push(ident_at(rest).to_owned());
        }
    };
    for (i, _) in text.match_indices("services::") {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        heads_after(&text[i + "services::".len()..]);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn services_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/services")
    }

    #[test]
    fn service_imports_have_no_cycle() -> std::io::Result<()> {
        let edges = service_edges(&services_dir())?;
        for (from, to) in &edges {
            let to: Vec<&str> = to.iter().map(String::as_str).collect();
            println!("{from} -> {}", to.join(", "));
        }
        let found = cycles(&edges);
        assert!(
            found.is_empty(),
            "service modules that import each other in a ring: {found:?}"
        );
        Ok(())
    }

    #[test]
    fn the_reader_sees_every_form_of_import() {
        let text = strip_comments(
            "use crate::services::{Caller, audit::{self, Outcome}, grading};\n\
             // use crate::services::commented;\n\
             let x = super::utc(t); crate::services::pipeline::advance(c);\n\
             use super::super::exams::X;",
        );
        let one = referenced_modules(&text, 1);
        assert_eq!(one, ["Caller", "audit", "grading", "pipeline", "utc"]);
        let two = referenced_modules(&text, 2);
        assert_eq!(two, ["Caller", "audit", "grading", "pipeline", "exams"]);
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
