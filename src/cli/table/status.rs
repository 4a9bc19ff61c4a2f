//! `basalt table status`: each datanode's table store (as `nodetool tablestats` and `nodetool
//! listpendinghints`, in one view).

use basalt_client::NodeTableStatus;
use std::fmt::Write;

/// The report `basalt table status` prints.
pub fn status_text(nodes: &[NodeTableStatus]) -> String {
    let mut out = String::new();
    for n in nodes {
        let _ = writeln!(out, "Datanode {} ({})", n.datanode.short(), n.addr);
        let st = match &n.status {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(out, "  unavailable: {e}");
                continue;
            }
        };
        if st.tables.is_empty() {
            let _ = writeln!(out, "  no tables");
        } else {
            let _ = writeln!(out, "  {:<32} {:>14} {:>12}", "TABLE", "ROWS (EST.)", "BYTES (EST.)");
            for t in &st.tables {
                let name = if t.keyspace.is_empty() {
                    format!("(dropped table {})", t.table_id)
                } else {
                    format!("{}.{}", t.keyspace, t.table)
                };
                let _ = writeln!(
                    out,
                    "  {:<32} {:>14} {:>12}",
                    name,
                    t.rows_estimate,
                    basalt_common::units::format_bytes(t.bytes_estimate)
                );
            }
        }
        let hints: u64 = st.hints.iter().map(|h| h.hints).sum();
        if hints == 0 {
            let _ = writeln!(out, "  pending hints: none");
        } else {
            let per: Vec<String> = st
                .hints
                .iter()
                .map(|h| {
                    format!(
                        "{} for {}",
                        h.hints,
                        basalt_common::DatanodeId(h.target_datanode_id).short()
                    )
                })
                .collect();
            let _ = writeln!(out, "  pending hints: {hints} ({})", per.join(", "));
        }
        if st.unhealthy.is_empty() {
            let _ = writeln!(out, "  unhealthy tables: none");
        } else {
            for u in &st.unhealthy {
                let _ = writeln!(out, "  UNHEALTHY {}.{}: {}", u.keyspace, u.table, u.reason);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_common::DatanodeId;
    use basalt_proto::pb;

    #[test]
    fn status_lists_tables_hints_and_damage() {
        let ok = NodeTableStatus {
            datanode: DatanodeId(1),
            addr: "10.0.0.1:9866".into(),
            status: Ok(pb::TableStatusResponse {
                catalog_version: 3,
                tables: vec![pb::StoredTable {
                    table_id: 7,
                    keyspace: "ks".into(),
                    table: "t".into(),
                    rows_estimate: 1000,
                    bytes_estimate: 2048,
                }],
                hints: vec![pb::PendingHints {
                    target_datanode_id: 2,
                    hints: 5,
                }],
                unhealthy: vec![pb::UnhealthyTable {
                    table_id: 7,
                    keyspace: "ks".into(),
                    table: "t".into(),
                    reason: "corrupt entry".into(),
                }],
            }),
        };
        let text = status_text(&[ok]);
        assert!(text.contains("ks.t"), "{text}");
        assert!(text.contains("1000"), "{text}");
        assert!(text.contains("pending hints: 5"), "{text}");
        assert!(text.contains("UNHEALTHY ks.t: corrupt entry"), "{text}");
    }
}
