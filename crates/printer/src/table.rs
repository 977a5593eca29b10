//! Column-aligned text tables. Widths are measured in characters without ANSI escapes, so
//! colored cells line up too.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

pub struct Table {
    headers: Vec<String>,
    aligns: Vec<Align>,
    rows: Vec<Vec<String>>,
}

/// Visible width: characters outside `ESC [ … m` sequences.
fn visible_width(s: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in s.chars() {
        if in_escape {
            in_escape = c != 'm';
        } else if c == '\x1b' {
            in_escape = true;
        } else {
            width += 1;
        }
    }
    width
}

impl Table {
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            headers: columns.iter().map(|(h, _)| h.to_string()).collect(),
            aligns: columns.iter().map(|&(_, a)| a).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.headers.len());
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders with two spaces between columns; `max_first` truncates the first column.
    pub fn render(&self, max_first: usize) -> String {
        let clip = |s: &str, col: usize| -> String {
            if col == 0 && visible_width(s) > max_first && !s.contains('\x1b') {
                let mut t: String = s.chars().take(max_first.saturating_sub(1)).collect();
                t.push('…');
                t
            } else {
                s.to_string()
            }
        };
        let cells: Vec<Vec<String>> = std::iter::once(&self.headers)
            .chain(&self.rows)
            .map(|r| r.iter().enumerate().map(|(i, c)| clip(c, i)).collect())
            .collect();
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                cells
                    .iter()
                    .map(|r| visible_width(&r[i]))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &cells {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let pad = widths[i] - visible_width(cell);
                if i > 0 {
                    line.push_str("  ");
                }
                match self.aligns[i] {
                    Align::Left => {
                        line.push_str(cell);
                        if i + 1 < row.len() {
                            line.push_str(&" ".repeat(pad));
                        }
                    }
                    Align::Right => {
                        line.push_str(&" ".repeat(pad));
                        line.push_str(cell);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let mut t = Table::new(&[("Class", Align::Left), ("Count", Align::Right)]);
        t.row(vec!["Planted".into(), "1,000".into()]);
        t.row(vec!["(closure)".into(), "7".into()]);
        assert_eq!(
            t.render(40),
            "Class      Count\nPlanted    1,000\n(closure)      7\n"
        );
    }

    #[test]
    fn ignores_color_codes_in_widths() {
        assert_eq!(visible_width("\x1b[1mabc\x1b[0m"), 3);
    }
}
