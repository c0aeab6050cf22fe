//! Writing results: bordered tables drawn as etcdctl draws them (tablewriter style), JSON, and
//! plain text, all to a locked stdout so that a closed pipe ends the command quietly.

use std::io::{self, Write};

use serde::Serialize;

/// A table: header cells and rows of cells.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<I, S>(header: I) -> Table
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// Renders with `+---+` borders and centred headers, as etcdctl's `-w table`.
    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let border: String = {
            let mut s = String::from("+");
            for w in &widths {
                s.push_str(&"-".repeat(w + 2));
                s.push('+');
            }
            s.push('\n');
            s
        };
        let mut out = border.clone();
        out.push('|');
        for (i, h) in self.header.iter().enumerate() {
            let pad = widths[i] - h.chars().count();
            let left = pad / 2;
            out.push_str(&format!(
                " {}{}{} |",
                " ".repeat(left),
                h,
                " ".repeat(pad - left)
            ));
        }
        out.push('\n');
        out.push_str(&border);
        for row in &self.rows {
            out.push('|');
            for (i, width) in widths.iter().enumerate() {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                let pad = width - cell.chars().count();
                out.push_str(&format!(" {cell}{} |", " ".repeat(pad)));
            }
            out.push('\n');
        }
        out.push_str(&border);
        out
    }
}

/// Writes text to stdout.
pub fn print(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Writes a value as pretty JSON with a trailing newline.
pub fn print_json<T: Serialize>(value: &T) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    text.push('\n');
    print(&text)
}

/// A dash for empty cells, as kubeadm prints them.
pub fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_etcdctl_layout() {
        let mut t = Table::new(["ID", "STATUS"]);
        t.row(["8e9e05c52164694d", "started"]);
        assert_eq!(
            t.render(),
            "+------------------+---------+\n\
             |        ID        | STATUS  |\n\
             +------------------+---------+\n\
             | 8e9e05c52164694d | started |\n\
             +------------------+---------+\n"
        );
    }
}
