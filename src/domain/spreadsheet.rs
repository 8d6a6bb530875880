//! CSV for people who open it in a spreadsheet. Every export goes through
//! [`Csv`], so every cell is neutralised against formula injection (OWASP
//! "CSV Injection"): a cell that a spreadsheet would read as a formula gets
//! a single quote in front, which spreadsheets show as text.
//!
//! A cell is neutralised when it starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return (OWASP's list), or a line feed; and also when its first
//! character after leading whitespace is `=`, `+`, `-` or `@`, since some
//! spreadsheets trim before deciding; and for the full-width forms `＝`
//! `＋` `－` `＠`, which Chinese input methods type and some spreadsheets
//! take as their ASCII twins. The price is that a negative number such as
//! `-3` reads `'-3`; our exports hold none.

use std::borrow::Cow;

const TRIGGERS: [char; 8] = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];

/// The cell as it is safe to write.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let starts_with_control = cell.starts_with(['\t', '\r', '\n']);
    let formula = cell.trim_start().starts_with(TRIGGERS);
    if starts_with_control || formula {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A CSV document built row by row; every cell neutralised, quoted where
/// needed (RFC 4180, by the `csv` crate).
pub struct Csv {
    writer: csv::Writer<Vec<u8>>,
}

impl Csv {
    pub fn new<I, S>(header: I) -> Result<Csv, csv::Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut table = Csv {
            writer: csv::Writer::from_writer(Vec::new()),
        };
        table.row(header)?;
        Ok(table)
    }

    pub fn row<I, S>(&mut self, cells: I) -> Result<(), csv::Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|c| neutralise(c.as_ref()).into_owned())
            .collect();
        self.writer.write_record(&cells)
    }

    pub fn finish(self) -> Result<String, csv::Error> {
        let bytes = self
            .writer
            .into_inner()
            .map_err(csv::IntoInnerError::into_error)?;
        // Every cell was a `str`, so the bytes are UTF-8; a failure here
        // would be the csv crate's.
        String::from_utf8(bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_get_a_quote() {
        for (cell, safe) in [
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("=cmd", "'=cmd"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("\n=1", "'\n=1"),
            ("\tplain", "'\tplain"),
            ("  =1+1", "'  =1+1"),
            ("\u{3000}=1", "'\u{3000}=1"),
            ("＝1+1", "'＝1+1"),
            ("＠x", "'＠x"),
        ] {
            assert_eq!(neutralise(cell), safe, "{cell:?}");
        }
    }

    #[test]
    fn ordinary_cells_are_untouched() {
        for cell in [
            "",
            "王小明",
            "Paediatric emergencies",
            "a=b",
            "x-1",
            "3/5",
            "2026-12-01",
            "user@example.org",
            "'quoted already",
            "12",
        ] {
            assert_eq!(neutralise(cell), cell, "{cell:?}");
            assert!(matches!(neutralise(cell), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn the_table_neutralises_every_cell_and_quotes_as_csv_does() {
        let mut t = Csv::new(["name", "note"]).unwrap();
        t.row(["=HYPERLINK(\"http://x\")", "a,b"]).unwrap();
        t.row(["Li", "-1"]).unwrap();
        let text = t.finish().unwrap();
        assert_eq!(
            text,
            "name,note\n\"'=HYPERLINK(\"\"http://x\"\")\",\"a,b\"\nLi,'-1\n"
        );
    }
}
