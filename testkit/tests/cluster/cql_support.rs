//! Helpers of the CQL tests in process (`types`, `cells`): a three-datanode cluster with keyspace
//! `ks` at RF=3, statements at QUORUM, strict value comparison, value constructors.

use basalt_client::Client;
use basalt_client::cql::{CqlOptions, CqlResult};
use basalt_table::{Consistency, Decimal, Uuid, Value};
use basalt_testkit::{Cluster, Options};
use std::net::IpAddr;
use std::time::Duration;

pub const DEADLINE: Duration = Duration::from_secs(30);

pub type Row = Vec<Option<Value>>;

pub fn at(consistency: Consistency) -> CqlOptions {
    CqlOptions {
        consistency,
        ..Default::default()
    }
}

pub async fn ok(client: &Client, stmt: &str, values: &[Option<Value>]) -> CqlResult {
    client
        .cql(stmt, values, &at(Consistency::Quorum))
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", short(stmt)))
}

pub async fn rows(client: &Client, stmt: &str, values: &[Option<Value>], consistency: Consistency) -> Vec<Row> {
    client
        .cql_all(stmt, values, &at(consistency))
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", short(stmt)))
}

/// A statement for messages (a 1 MiB literal is not).
pub fn short(stmt: &str) -> String {
    if stmt.len() > 300 {
        format!("{}... ({} bytes)", &stmt[..300], stmt.len())
    } else {
        stmt.to_string()
    }
}

/// Strict equality: `Debug` tells a decimal's scale, -0.0 from 0.0 and NaN from NaN (where `Value`'s
/// `Eq` is the CQL comparison).
pub fn same(a: &[Option<Value>], b: &[Option<Value>]) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

pub async fn cluster() -> (Cluster, Client) {
    let c = Cluster::start(Options::default()).await;
    c.wait_ready().await;
    let client = c.client();
    ok(
        &client,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
        &[],
    )
    .await;
    (c, client)
}

pub fn v1(t: u64, clock: u16, node: u64) -> Uuid {
    let mut b = [0u8; 16];
    b[0..4].copy_from_slice(&((t & 0xffff_ffff) as u32).to_be_bytes());
    b[4..6].copy_from_slice(&(((t >> 32) & 0xffff) as u16).to_be_bytes());
    b[6..8].copy_from_slice(&((((t >> 48) & 0x0fff) as u16) | 0x1000).to_be_bytes());
    b[8..10].copy_from_slice(&((clock & 0x3fff) | 0x8000).to_be_bytes());
    b[10..16].copy_from_slice(&node.to_be_bytes()[2..]);
    Uuid(b)
}

pub fn uuid(s: &str) -> Uuid {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    Uuid(b)
}

pub fn ip(s: &str) -> Value {
    Value::Inet(s.parse::<IpAddr>().unwrap())
}

pub fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

pub fn dec(unscaled: i128, scale: i32) -> Value {
    Value::Decimal(Decimal { unscaled, scale })
}

pub const MAX38: i128 = 99_999_999_999_999_999_999_999_999_999_999_999_999;
