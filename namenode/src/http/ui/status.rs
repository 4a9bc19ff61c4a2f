//! The live values of the pages: one snapshot of the cluster status (the `ClusterStatus` RPC's own
//! answer, [`crate::service::cluster_status`]) flattened into `KEY → text`. The pages render
//! them into `<span id="v-KEY">`, and `/ui/api/status` serves the same map for the script to refresh
//! them, so a page and its refreshes cannot disagree.

use super::page;
use crate::service::Core;
use basalt_proto::pb;
use serde::Serialize;
use std::collections::BTreeMap;

/// A datanode's state for people: `live`, `dead`, or `live, decommissioning`.
pub fn datanode_state(d: &pb::DatanodeStatus) -> String {
    match (d.live, d.admin_state.as_str()) {
        (false, _) => "dead".into(),
        (true, "in service" | "") => "live".into(),
        (true, admin) => format!("live, {admin}"),
    }
}

/// The values of one snapshot, and the fills of its bars (percent).
#[derive(Debug, Default, Serialize)]
pub struct Live {
    pub values: BTreeMap<String, String>,
    pub bars: BTreeMap<String, u64>,
}

impl Live {
    fn set(&mut self, key: impl Into<String>, value: impl ToString) {
        self.values.insert(key.into(), value.to_string());
    }

    /// The value of `key` as a live element of a page.
    pub fn span(&self, key: &str) -> String {
        page::live(key, self.values.get(key).map_or("", String::as_str))
    }
}

/// A snapshot: the cluster status and its flattened values.
pub fn snapshot(core: &Core) -> (pb::ClusterStatusResponse, Live) {
    let st = crate::service::cluster_status(core);
    let mut live = Live::default();
    live.set("updated", page::clock(crate::service::now_ms()));
    live.set("uptime", page::ago(core.metrics.started.elapsed().as_millis() as u64));
    live.set("safe_mode", if st.safe_mode { "on" } else { "off" });
    live.set("files", st.files);
    live.set("directories", st.directories);
    live.set("blocks", st.blocks);
    live.set("reported_blocks", st.reported_blocks);
    for m in &st.members {
        let k = |f: &str| format!("m-{}-{f}", m.id);
        live.set(k("role"), &m.role);
        live.set(k("term"), m.term);
        live.set(k("commit"), m.commit_index);
        live.set(k("applied"), m.applied_index);
    }
    let (mut used, mut total, mut remaining) = (0u64, 0u64, 0u64);
    let (mut up, mut down, mut decom) = (0, 0, 0);
    for d in &st.datanodes {
        let id = d.info.as_ref().map_or(0, |i| i.id);
        let k = |f: &str| format!("dn-{id}-{f}");
        live.set(k("state"), datanode_state(d));
        live.set(
            k("used"),
            format!("{} / {}", page::bytes(d.used), page::bytes(d.capacity)),
        );
        live.set(k("blocks"), d.block_count);
        live.set(k("heartbeat"), format!("{} ago", page::ago(d.last_heartbeat_ms_ago)));
        live.set(k("transfers"), d.active_transfers);
        // The disk as a whole: Basalt's blocks and whatever else fills it.
        live.bars.insert(
            format!("dn-{id}"),
            page::percent(d.capacity.saturating_sub(d.remaining), d.capacity),
        );
        if d.live {
            up += 1;
            used += d.used;
            total += d.capacity;
            remaining += d.remaining;
        } else {
            down += 1;
        }
        if d.admin_state == "decommissioning" {
            decom += 1;
        }
    }
    live.set("live_datanodes", up);
    live.set("dead_datanodes", down);
    live.set("decommissioning", decom);
    live.set("capacity_used", page::bytes(used));
    live.set("capacity_total", page::bytes(total));
    live.set("capacity_remaining", page::bytes(remaining));
    live.bars
        .insert("capacity".into(), page::percent(total.saturating_sub(remaining), total));
    let h = st.healing.unwrap_or_default();
    live.set("under_replicated", h.under_replicated);
    live.set("missing", h.missing);
    live.set("corrupt", h.corrupt);
    live.set("copies_in_flight", h.copies_in_flight);
    live.set("copies_done", h.copies_done);
    live.set("open_files", h.open_files);
    live.set("lease_recoveries", h.lease_recoveries);
    (st, live)
}
