//! CPU time of the processes a run uses, from `/proc/<pid>/stat` (Linux):
//! the PostgreSQL server's processes, the gatekeeper server(s) and the bench
//! itself, read before and after the measured phases.
//!
//! PostgreSQL runs one process per connection, and connections come and go.
//! A process's own time (`utime` + `stime`) moves, when it exits and its
//! parent waits for it, into the parent's `cutime` + `cstime` (`man 5 proc`:
//! "time that this process's waited-for children have been scheduled").
//! So the sum over every `postgres` process of all four fields only grows,
//! and counts each CPU tick once: a backend alive at both readings by its
//! own difference, one that started in between by its whole own time, one
//! that ended in between through the postmaster's children fields.

use std::collections::HashMap;

/// The four CPU fields of one `/proc/<pid>/stat` line, in clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ticks {
    pub utime: u64,
    pub stime: u64,
    pub cutime: u64,
    pub cstime: u64,
}

impl Ticks {
    /// The process's own time.
    pub fn own(&self) -> u64 {
        self.utime + self.stime
    }

    /// Its own time and its waited-for children's.
    pub fn with_children(&self) -> u64 {
        self.own() + self.cutime + self.cstime
    }
}

/// The command name and CPU fields of a `/proc/<pid>/stat` line. The name
/// is in parentheses and may itself hold spaces and parentheses, so the
/// fields are counted from the last `)`: `utime` is field 14 of the line,
/// the 12th after the name.
pub fn parse_stat(line: &str) -> Option<(String, Ticks)> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let name = line.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = line.get(close + 1..)?.split_whitespace().collect();
    // fields[0] is field 3 (state); field n is fields[n - 3].
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    Some((
        name,
        Ticks {
            utime: field(14)?,
            stime: field(15)?,
            cutime: field(16)?,
            cstime: field(17)?,
        },
    ))
}

/// The CPU fields of one process; None once it has gone.
pub fn of_pid(pid: u32) -> Option<Ticks> {
    let line = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&line).map(|(_, t)| t)
}

/// Every process named `name`, by pid.
pub fn by_name(name: &str) -> HashMap<u32, Ticks> {
    let mut found = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Ok(line) = std::fs::read_to_string(entry.path().join("stat"))
            && let Some((comm, ticks)) = parse_stat(&line)
            && comm == name
        {
            found.insert(pid, ticks);
        }
    }
    found
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a constant of the system.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        gatekeeper::domain::numbers::i64_f64(t)
    } else {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_after_the_name() {
        // A PostgreSQL backend's line, as the kernel writes it.
        let line = "4711 (postgres) S 2219 2219 2219 0 -1 4194624 1139 0 0 0 37 12 5 3 20 0 1 0 41227 229826560 3420 18446744073709551615 1 1 0 0 0 0 4194304 19935232 84487 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        assert_eq!(
            parse_stat(line),
            Some((
                "postgres".to_owned(),
                Ticks {
                    utime: 37,
                    stime: 12,
                    cutime: 5,
                    cstime: 3
                }
            ))
        );
        assert_eq!(
            parse_stat(line).map(|(_, t)| (t.own(), t.with_children())),
            Some((49, 57))
        );
    }

    #[test]
    fn a_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let line = "12 (a) b (c) R 1 12 12 0 -1 0 0 0 0 0 100 200 300 400 20 0 1 0 5 0 0";
        assert_eq!(
            parse_stat(line),
            Some((
                "a) b (c".to_owned(),
                Ticks {
                    utime: 100,
                    stime: 200,
                    cutime: 300,
                    cstime: 400
                }
            ))
        );
    }

    #[test]
    fn a_short_or_garbled_line_is_none() {
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat("12 (x) R 1 12"), None);
        assert_eq!(parse_stat("12 x R 1 12 12 0 -1 0 0 0 0 0 1 2 3 4"), None);
        assert_eq!(
            parse_stat("12 (x) R 1 12 12 0 -1 0 0 0 0 0 1 two 3 4"),
            None
        );
    }

    #[test]
    fn this_process_is_found_and_its_time_grows() {
        let me = std::process::id();
        let before = of_pid(me).unwrap_or_default().own();
        let mut x = 0u64;
        let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
        while std::time::Instant::now() < until {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let after = of_pid(me).unwrap_or_default().own();
        assert!(after > before, "{before} -> {after}");
        assert!(ticks_per_second() >= 1.0);
    }
}
