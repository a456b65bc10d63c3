//! How the operations commands print: an aligned table for a person, or with `--json` the very
//! rows as a pretty JSON array for a script.

use std::io::Write;

use crate::error::CliError;

/// With `json`, what `rows` encodes (`serde_json::to_string_pretty` of the rows) and a newline;
/// otherwise the text `table` renders. Only the one asked for is computed.
pub fn rows_or_table(
    out: &mut impl Write,
    json: bool,
    rows: impl FnOnce() -> serde_json::Result<String>,
    table: impl FnOnce() -> String,
) -> Result<(), CliError> {
    if json {
        writeln!(out, "{}", rows()?)?;
    } else {
        out.write_all(table().as_bytes())?;
    }
    Ok(())
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let last = cells.len().saturating_sub(1);
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if i == last {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        text.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}
