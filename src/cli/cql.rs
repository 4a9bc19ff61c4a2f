//! `basalt cql`: a cqlsh-like shell. Statements come from `-e`, from `-f FILE`, or interactively (with
//! line editing and history when stdin is a terminal); each goes to a coordinator found through the
//! namenode like every other command. Shell commands as in cqlsh: `CONSISTENCY [LEVEL]`, `USE`,
//! `EXIT` / `QUIT`; `DESCRIBE` is answered by the server (as in Cassandra 4).

use super::rows::{Cell, Format, render};
use anyhow::Result;
use basalt_client::Client;
use basalt_client::cql::{CqlOptions, CqlResult, ResultPage};
use basalt_table::{Consistency, Value};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct CqlArgs {
    /// Statements to run (separated by `;`), then exit.
    #[arg(short = 'e', long = "execute")]
    pub execute: Option<String>,
    /// A file of statements to run, then exit.
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// Consistency level of every statement, in any case (`quorum`, `QUORUM`, `local_one`).
    #[arg(long, default_value = "ONE")]
    pub consistency: Consistency,
    /// How rows are printed.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Keyspace to start in (as `USE`).
    #[arg(short = 'k', long)]
    pub keyspace: Option<String>,
    /// Rows fetched per page (pages are fetched as they are printed).
    #[arg(long, default_value_t = 5000)]
    pub page_size: u32,
}

/// The shell's state between statements.
struct Session {
    client: Client,
    opts: CqlOptions,
    format: Format,
    failures: usize,
}

pub async fn run(namenode: &str, args: CqlArgs) -> Result<ExitCode> {
    let mut session = Session {
        client: super::client(namenode)?,
        opts: CqlOptions {
            consistency: args.consistency,
            keyspace: args.keyspace.clone(),
            page_size: args.page_size,
            ..Default::default()
        },
        format: args.format,
        failures: 0,
    };
    if let Some(text) = &args.execute {
        session.script(text).await;
    } else if let Some(path) = &args.file {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        session.script(&text).await;
    } else if std::io::stdin().is_terminal() {
        session.interactive().await?;
    } else {
        let mut text = String::new();
        for line in std::io::stdin().lock().lines() {
            text.push_str(&line?);
            text.push('\n');
        }
        session.script(&text).await;
    }
    Ok(if session.failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

impl Session {
    /// Runs every complete statement of `text`, going on after a failure (as `cqlsh -f` does).
    async fn script(&mut self, text: &str) {
        let split = basalt_table::cql::split_statements(text);
        for s in &split.complete {
            self.one(s).await;
        }
        if !split.rest_is_blank() {
            self.one(split.rest).await;
        }
    }

    async fn interactive(&mut self) -> Result<()> {
        let mut editor = rustyline::DefaultEditor::new()?;
        let history = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".basalt_cql_history"));
        if let Some(h) = &history {
            let _ = editor.load_history(h);
        }
        let mut buffer = String::new();
        loop {
            let prompt = match (&self.opts.keyspace, buffer.is_empty()) {
                (_, false) => "   ... ".to_string(),
                (Some(k), true) => format!("basalt:{k}> "),
                (None, true) => "basalt> ".to_string(),
            };
            let line = match editor.readline(&prompt) {
                Ok(l) => l,
                Err(rustyline::error::ReadlineError::Interrupted) => {
                    buffer.clear();
                    continue;
                }
                Err(_) => break,
            };
            buffer.push_str(&line);
            buffer.push('\n');
            let split = basalt_table::cql::split_statements(&buffer);
            let (statements, rest) = (split.complete.clone(), split.rest);
            let word = buffer.trim().trim_end_matches(';').to_ascii_lowercase();
            if matches!(word.as_str(), "exit" | "quit") {
                break;
            }
            // Shell commands need no `;`.
            let shell = word.starts_with("consistency") || word.starts_with("describe") || word.starts_with("desc ");
            if statements.is_empty() && !shell {
                continue;
            }
            let _ = editor.add_history_entry(buffer.trim());
            let owned: Vec<String> = if statements.is_empty() {
                vec![rest.to_string()]
            } else {
                statements.iter().map(|s| s.to_string()).collect()
            };
            let rest = if statements.is_empty() {
                String::new()
            } else {
                rest.to_string()
            };
            for s in owned {
                self.one(&s).await;
            }
            buffer = rest;
        }
        if let Some(h) = &history {
            let _ = editor.save_history(h);
        }
        Ok(())
    }

    /// Runs one statement or shell command and prints its result.
    async fn one(&mut self, statement: &str) {
        let trimmed = statement.trim().trim_end_matches(';').trim();
        if trimmed.is_empty() {
            return;
        }
        let mut words = trimmed.split_whitespace();
        if words.next().is_some_and(|w| w.eq_ignore_ascii_case("consistency")) {
            match words.next() {
                None => println!("Current consistency level is {}.", self.opts.consistency),
                Some(level) => match level.parse::<Consistency>() {
                    Ok(c) => {
                        self.opts.consistency = c;
                        println!("Consistency level set to {c}.");
                    }
                    Err(e) => self.fail(&e),
                },
            }
            return;
        }
        let mut opts = self.opts.clone();
        opts.paging_state = None;
        let mut all: Gathered = None;
        loop {
            let result = match self.client.cql(trimmed, &[], &opts).await {
                Ok(r) => r,
                Err(e) => return self.fail(&e.to_string()),
            };
            match result {
                CqlResult::Void | CqlResult::SchemaChange(_) => return,
                CqlResult::SetKeyspace(k) => {
                    self.opts.keyspace = Some(k);
                    return;
                }
                CqlResult::Rows(page) => {
                    let more = page.paging_state.clone();
                    if let Err(e) = collect(&page, &mut all) {
                        return self.fail(&e);
                    }
                    match more {
                        Some(s) => opts.paging_state = Some(s),
                        None => break,
                    }
                }
            }
        }
        if let Some((columns, rows)) = all {
            print_rows(self.format, &columns, &rows);
        }
    }

    fn fail(&mut self, message: &str) {
        self.failures += 1;
        eprintln!("error: {message}");
        let _ = std::io::stderr().flush();
    }
}

/// Adds a page's rows, as printed cells, to what is gathered so far.
type Gathered = Option<(Vec<String>, Vec<Vec<Option<Cell>>>)>;

fn collect(page: &ResultPage, all: &mut Gathered) -> std::result::Result<(), String> {
    let rows = page.rows().map_err(|e| e.to_string())?;
    let (_, out) = all.get_or_insert_with(|| (page.columns.iter().map(|c| c.name.clone()).collect(), Vec::new()));
    out.extend(
        rows.into_iter()
            .map(|r| r.into_iter().map(|v| v.map(|v| cell(&v))).collect::<Vec<_>>()),
    );
    Ok(())
}

/// Prints a result; a server-side DESCRIBE prints its CQL (or the names) as cqlsh does.
fn print_rows(format: Format, columns: &[String], rows: &[Vec<Option<Cell>>]) {
    let describe = ["keyspace_name", "type", "name", "create_statement"];
    if format == Format::Table && columns.iter().map(String::as_str).eq(describe) {
        // The raw text (the JSON form), not cqlsh's escaped display of it.
        let text = |r: &Vec<Option<Cell>>, i: usize| {
            r[i].as_ref()
                .and_then(|c| c.json.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        let statements: Vec<String> = rows.iter().map(|r| text(r, 3)).filter(|s| !s.is_empty()).collect();
        if statements.len() == rows.len() {
            println!("\n{}\n", statements.join("\n\n"));
        } else {
            let names: Vec<String> = rows.iter().map(|r| text(r, 2)).collect();
            println!("\n{}\n", names.join("  "));
        }
        return;
    }
    print!("{}", render(format, columns, rows));
}

/// cqlsh's text and the JSON form of a value.
fn cell(v: &Value) -> Cell {
    Cell {
        text: basalt_table::display::display(v),
        json: json_of(v),
    }
}

fn json_of(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::TinyInt(x) => J::from(*x),
        Value::SmallInt(x) => J::from(*x),
        Value::Int(x) => J::from(*x),
        Value::BigInt(x) => J::from(*x),
        Value::Float(x) => serde_json::Number::from_f64(*x as f64).map_or_else(|| J::from(x.to_string()), J::Number),
        Value::Double(x) => serde_json::Number::from_f64(*x).map_or_else(|| J::from(x.to_string()), J::Number),
        Value::Boolean(b) => J::Bool(*b),
        Value::Text(s) | Value::Ascii(s) => J::String(s.clone()),
        Value::List(items) | Value::Set(items) => J::Array(items.iter().map(json_of).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (basalt_table::display::display(k), json_of(v)))
                .collect(),
        ),
        other => J::String(basalt_table::display::display(other)),
    }
}
