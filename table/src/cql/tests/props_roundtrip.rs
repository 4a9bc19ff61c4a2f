//! Round trips as properties: DESCRIBE output of any table parses back to the same definition;
//! timestamps and dates printed as text parse back to the same value; decimals likewise.

use super::super::ast::{ColumnSpec, CreateTable, PrimaryKey, QualifiedName, Span, TableProperties};
use super::super::describe::create_table_cql;
use super::super::literal::{civil_from_days, parse_date, parse_decimal, parse_timestamp};
use super::super::schema::table_def;
use super::super::{Statement, parse};
use crate::schema::ClusteringOrder;
use crate::types::{CqlType, NativeType};
use crate::value::Decimal;
use basalt_common::TableId;
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_]{0,8}",
        "[A-Za-z][A-Za-z0-9 \"]{0,8}",
        proptest::sample::select(vec!["select", "key", "token", "ttl", "from"]).prop_map(String::from),
    ]
}

fn native() -> impl Strategy<Value = NativeType> {
    proptest::sample::select(NativeType::ALL.to_vec())
}

fn column_type() -> impl Strategy<Value = CqlType> {
    prop_oneof![
        4 => native().prop_map(CqlType::Native),
        1 => native().prop_map(CqlType::List),
        1 => native().prop_map(CqlType::Set),
        1 => (native(), native()).prop_map(|(k, v)| CqlType::Map(k, v)),
    ]
}

prop_compose! {
    /// A valid CREATE TABLE: 1..4 partition key columns, 0..3 clustering columns, 0..4 others.
    fn create_table()(
        names in proptest::collection::btree_set(name(), 2..10),
        types in proptest::collection::vec(column_type(), 10),
        split in (1usize..4, 0usize..3),
        orders in proptest::collection::vec(any::<bool>(), 3),
        statics in proptest::collection::vec(any::<bool>(), 10),
        comment in ".{0,10}",
        ttl in 0u32..1_000_000,
    ) -> CreateTable {
        let names: Vec<String> = names.into_iter().collect();
        let pk = split.0.min(names.len() - 1).max(1);
        let ck = split.1.min(names.len() - pk);
        let columns = names.iter().enumerate().map(|(i, n)| {
            let key = i < pk + ck;
            let ty = if key { CqlType::Native(match types[i] { CqlType::Native(t) => t, _ => NativeType::Int }) } else { types[i] };
            ColumnSpec { name: n.clone(), ty, is_static: !key && ck > 0 && statics[i], primary_key: false, span: Span::default() }
        }).collect();
        let mut properties = TableProperties::default();
        if ck > 0 {
            properties.clustering_order = (0..ck).map(|i| (names[pk + i].clone(), if orders[i] { ClusteringOrder::Desc } else { ClusteringOrder::Asc })).collect();
        }
        let ttl = format!("default_time_to_live = {ttl} AND comment = '{}'", comment.replace('\'', "''"));
        let Statement::AlterTable(a) = parse(&format!("ALTER TABLE t WITH {ttl}")).unwrap() else { unreachable!() };
        let super::super::ast::AlterTableAction::With(p) = a.action else { unreachable!() };
        properties.properties = p.properties;
        CreateTable {
            table: QualifiedName { keyspace: Some("ks".into()), name: "t".into() },
            if_not_exists: false,
            columns,
            primary_key: Some(PrimaryKey { partition: names[..pk].to_vec(), clustering: names[pk..pk + ck].to_vec() }),
            properties,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn describe_round_trips(stmt in create_table()) {
        let def = table_def(&stmt, "ks", TableId(9)).unwrap();
        let cql = create_table_cql(&def);
        let Statement::CreateTable(again) = parse(&cql).map_err(|e| TestCaseError::fail(format!("{cql}: {e}")))? else {
            return Err(TestCaseError::fail("not a CREATE TABLE"));
        };
        prop_assert_eq!(table_def(&again, "ks", TableId(9)).unwrap(), def, "{}", cql);
    }

    #[test]
    fn timestamps_round_trip(ms in -50_000_000_000_000i64..50_000_000_000_000) {
        let days = ms.div_euclid(86_400_000);
        let rest = ms.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        let text = format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}+0000",
            rest / 3_600_000, rest / 60_000 % 60, rest / 1000 % 60, rest % 1000);
        prop_assert_eq!(parse_timestamp(&text), Ok(ms));
        prop_assert_eq!(parse_date(&format!("{y:04}-{m:02}-{d:02}")), Ok(days as i32));
    }

    #[test]
    fn decimals_round_trip(unscaled in any::<i64>(), scale in 0i32..20) {
        let digits = unscaled.unsigned_abs().to_string();
        let s = scale as usize;
        let padded = format!("{digits:0>width$}", width = s + 1);
        let (int, frac) = padded.split_at(padded.len() - s);
        let text = format!("{}{int}{}{frac}", if unscaled < 0 { "-" } else { "" }, if s > 0 { "." } else { "" });
        prop_assert_eq!(parse_decimal(&text), Ok(Decimal { unscaled: unscaled as i128, scale }));
    }
}
