//! Bank check: how long `gatekeeper bank check` takes to read and check a
//! large bank, in each format (the bank format, Moodle GIFT, Moodle XML).
//! Writes one file per format and size into a temporary folder (setup, not
//! measured), then times `services::banks::check_file` on each: the whole
//! of what `bank check` does for a file, reading included. Prints a table;
//! the last line is one JSON object.
//!
//!     cargo run --release -p gatekeeper-bench --bin bankcheck -- [--questions 20000,100000]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use gatekeeper::domain::numbers::{count_f64, u64_f64};
use gatekeeper::services::banks;
use serde_json::json;

#[derive(Parser)]
#[command(about = "Bank check benchmark")]
struct Args {
    /// Bank sizes, in questions, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "20000,100000")]
    questions: Vec<usize>,
}

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("bankcheck: {e}");
    std::process::exit(1)
}

const TOPICS: [&str; 10] = [
    "发热",
    "腹泻",
    "咳嗽",
    "皮疹",
    "惊厥",
    "新生儿",
    "营养",
    "疫苗",
    "哮喘",
    "外伤",
];

/// Question `i`'s parts: kind 0 single with partial credit, 1 multiple with
/// weights, 2 true/false; topic and difficulty cycle.
fn shape(i: usize) -> (usize, &'static str, usize) {
    (
        i % 3,
        TOPICS.get(i % TOPICS.len()).copied().unwrap_or_default(),
        1 + i % 5,
    )
}

fn bank_format(n: usize) -> String {
    let mut s = String::with_capacity(n * 420);
    s.push_str("[bank]\nid = \"bench\"\ntitle = \"Bench\"\ntrack = \"paediatrics\"\nversion = 1\n");
    for i in 0..n {
        let (kind, topic, difficulty) = shape(i);
        let _ = write!(
            s,
            "\n[[questions]]\nid = \"q-{i}\"\ntopic = \"{topic}\"\ndifficulty = {difficulty}\npoints = 2\nstem = \"Question {i}: which is right for a child with fever?\"\nexplanation = \"Because of guideline {i}.\"\nreference = \"IMCI 2014\"\n"
        );
        match kind {
            0 => {
                let _ = write!(
                    s,
                    "kind = \"single\"\noptions = [\n  {{ text = \"Best {i}\", weight = 100 }},\n  {{ text = \"Partly {i}\", weight = 50 }},\n  {{ text = \"Wrong {i}\" }},\n  {{ text = \"Other {i}\" }},\n]\n"
                );
            }
            1 => {
                let _ = write!(
                    s,
                    "kind = \"multiple\"\noptions = [\n  {{ text = \"Right a{i}\", weight = 50 }},\n  {{ text = \"Right b{i}\", weight = 50 }},\n  {{ text = \"Wrong {i}\", weight = -100 }},\n  {{ text = \"Other {i}\" }},\n]\n"
                );
            }
            _ => {
                let _ = write!(s, "kind = \"true_false\"\nanswer = {}\n", i % 2 == 0);
            }
        }
    }
    s
}

fn gift(n: usize) -> String {
    let mut s = String::with_capacity(n * 260);
    s.push_str("//! track: paediatrics\n//! id: bench-gift\n");
    let mut topic = "";
    for i in 0..n {
        let (kind, t, _) = shape(i);
        if t != topic {
            let _ = write!(s, "\n$CATEGORY: $course$/儿科/{t}\n");
            topic = t;
        }
        let _ = write!(
            s,
            "\n// question: {i}\n::Q {i}::[html]<p>Question {i}: which is <b>right</b> for a child with fever?</p>{{\n"
        );
        match kind {
            0 => {
                let _ = write!(
                    s,
                    "\t=Best {i}#Yes\n\t~%50%Partly {i}\n\t~Wrong {i}\n\t~Other {i}\n"
                );
            }
            1 => {
                let _ = write!(
                    s,
                    "\t~%50%Right a{i}\n\t~%50%Right b{i}\n\t~%-100%Wrong {i}\n\t~Other {i}\n"
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "\t{}#Look again.#Yes.",
                    if i % 2 == 0 { "TRUE" } else { "FALSE" }
                );
            }
        }
        let _ = writeln!(s, "\t####Because of guideline {i}.\n}}");
    }
    s
}

fn moodle_xml(n: usize) -> String {
    let mut s = String::with_capacity(n * 900);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quiz>\n<!-- //! track: paediatrics\n     //! id: bench-xml -->\n");
    let mut topic = "";
    for i in 0..n {
        let (kind, t, _) = shape(i);
        if t != topic {
            let _ = writeln!(
                s,
                "  <question type=\"category\"><category><text>$course$/top/儿科/{t}</text></category></question>"
            );
            topic = t;
        }
        let qtype = if kind == 2 {
            "truefalse"
        } else {
            "multichoice"
        };
        let _ = write!(
            s,
            "  <question type=\"{qtype}\">\n    <name><text>Q {i}</text></name>\n    <questiontext format=\"html\"><text><![CDATA[<p>Question {i}: which is <b>right</b> for a child with fever?</p>]]></text></questiontext>\n    <generalfeedback format=\"html\"><text><![CDATA[<p>Because of guideline {i}.</p>]]></text></generalfeedback>\n    <defaultgrade>1.0000000</defaultgrade>\n"
        );
        match kind {
            0 => {
                let _ = write!(
                    s,
                    "    <single>true</single>\n    <answer fraction=\"100\"><text>Best {i}</text></answer>\n    <answer fraction=\"50\"><text>Partly {i}</text></answer>\n    <answer fraction=\"0\"><text>Wrong {i}</text></answer>\n    <answer fraction=\"0\"><text>Other {i}</text></answer>\n"
                );
            }
            1 => {
                let _ = write!(
                    s,
                    "    <single>false</single>\n    <answer fraction=\"50\"><text>Right a{i}</text></answer>\n    <answer fraction=\"50\"><text>Right b{i}</text></answer>\n    <answer fraction=\"-100\"><text>Wrong {i}</text></answer>\n    <answer fraction=\"0\"><text>Other {i}</text></answer>\n"
                );
            }
            _ => {
                let (t, f) = if i % 2 == 0 { (100, 0) } else { (0, 100) };
                let _ = write!(
                    s,
                    "    <answer fraction=\"{t}\"><text>true</text></answer>\n    <answer fraction=\"{f}\"><text>false</text></answer>\n"
                );
            }
        }
        s.push_str("  </question>\n");
    }
    s.push_str("</quiz>\n");
    s
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    path
}

fn main() {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("gatekeeper-bankcheck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(e));
    let mut results = Vec::new();
    println!(
        "{:>8}  {:<10} {:>9}  {:>9}  {:>12}",
        "questions", "format", "MiB", "seconds", "questions/s"
    );
    for &n in &args.questions {
        let files = [
            (
                "bank",
                write_file(&dir, &format!("bench-{n}.toml"), &bank_format(n)),
            ),
            (
                "gift",
                write_file(&dir, &format!("bench-{n}.gift"), &gift(n)),
            ),
            (
                "moodle_xml",
                write_file(&dir, &format!("bench-{n}.xml"), &moodle_xml(n)),
            ),
        ];
        for (format, path) in files {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let started = Instant::now();
            let checked = banks::check_file(&path).unwrap_or_else(|e| fail(e));
            let seconds = started.elapsed().as_secs_f64();
            if checked.bank.questions.len() != n {
                fail(format!(
                    "{format}: {} questions read, {n} written",
                    checked.bank.questions.len()
                ));
            }
            let mib = u64_f64(size) / (1024.0 * 1024.0);
            println!(
                "{n:>8}  {format:<10} {mib:>9.1}  {seconds:>9.2}  {:>12.0}",
                count_f64(n) / seconds
            );
            results.push(json!({"questions": n, "format": format, "mib": (mib * 10.0).round() / 10.0, "seconds": (seconds * 1000.0).round() / 1000.0}));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", json!({ "bankcheck": results }));
}
