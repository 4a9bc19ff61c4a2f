//! Result rows as `basalt cql` prints them: cqlsh's aligned table, CSV (a header line, then one line
//! per row, values as cqlsh prints them, quoted where CSV needs it), or JSON (one object per row, typed
//! values). A cell arrives as cqlsh's text for it and its JSON value; null is `None`.

use std::fmt::Write as _;

/// One printed value: its cqlsh text and its JSON form.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub text: String,
    pub json: serde_json::Value,
}

/// How `basalt cql` prints rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
}

/// Renders a result set.
pub fn render(format: Format, columns: &[String], rows: &[Vec<Option<Cell>>]) -> String {
    match format {
        Format::Table => table(columns, rows),
        Format::Csv => csv(columns, rows),
        Format::Json => json(columns, rows),
    }
}

/// cqlsh's layout: right-aligned columns separated by ` | `, a dashed rule, and `(N rows)`.
fn table(columns: &[String], rows: &[Vec<Option<Cell>>]) -> String {
    let text = |c: &Option<Cell>| c.as_ref().map_or("null", |c| c.text.as_str()).to_string();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(text(c).chars().count());
        }
    }
    let mut out = String::from("\n");
    let line = |cells: Vec<String>| -> String {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:>w$}", c, w = *w))
            .collect();
        format!(" {}\n", parts.join(" | "))
    };
    out.push_str(&line(columns.to_vec()));
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
    let _ = writeln!(out, "{}", rule.join("+"));
    for row in rows {
        out.push_str(&line(row.iter().map(text).collect()));
    }
    let _ = writeln!(out, "\n({} rows)", rows.len());
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv(columns: &[String], rows: &[Vec<Option<Cell>>]) -> String {
    let mut out = String::new();
    let header: Vec<String> = columns.iter().map(|c| csv_field(c)).collect();
    let _ = writeln!(out, "{}", header.join(","));
    for row in rows {
        let fields: Vec<String> = row
            .iter()
            .map(|c| c.as_ref().map_or(String::new(), |c| csv_field(&c.text)))
            .collect();
        let _ = writeln!(out, "{}", fields.join(","));
    }
    out
}

fn json(columns: &[String], rows: &[Vec<Option<Cell>>]) -> String {
    let mut out = String::new();
    for row in rows {
        let obj: serde_json::Map<String, serde_json::Value> = columns
            .iter()
            .zip(row)
            .map(|(k, c)| {
                (
                    k.clone(),
                    c.as_ref().map_or(serde_json::Value::Null, |c| c.json.clone()),
                )
            })
            .collect();
        let _ = writeln!(out, "{}", serde_json::Value::Object(obj));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(text: &str, json: serde_json::Value) -> Option<Cell> {
        Some(Cell {
            text: text.into(),
            json,
        })
    }

    fn sample() -> (Vec<String>, Vec<Vec<Option<Cell>>>) {
        let cols = vec!["id".to_string(), "name".to_string()];
        let rows = vec![
            vec![cell("1", 1.into()), cell("alice, b", "alice, b".into())],
            vec![cell("22", 22.into()), None],
        ];
        (cols, rows)
    }

    #[test]
    fn table_is_cqlsh_shaped() {
        let (cols, rows) = sample();
        let out = render(Format::Table, &cols, &rows);
        assert_eq!(
            out,
            "\n id |     name\n----+----------\n  1 | alice, b\n 22 |     null\n\n(2 rows)\n"
        );
    }

    #[test]
    fn csv_quotes_where_needed_and_leaves_null_empty() {
        let (cols, rows) = sample();
        assert_eq!(render(Format::Csv, &cols, &rows), "id,name\n1,\"alice, b\"\n22,\n");
    }

    #[test]
    fn json_is_one_typed_object_per_row() {
        let (cols, rows) = sample();
        assert_eq!(
            render(Format::Json, &cols, &rows),
            "{\"id\":1,\"name\":\"alice, b\"}\n{\"id\":22,\"name\":null}\n"
        );
    }
}
