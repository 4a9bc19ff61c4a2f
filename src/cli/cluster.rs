//! `basalt cluster`: cluster status.

use super::format::size;
use anyhow::{Context, Result};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// Metadata members and datanodes: roles, liveness, capacity and blocks.
    Status {
        /// Sizes in bytes instead of human-readable units.
        #[arg(long)]
        bytes: bool,
    },
}

pub async fn run(namenode: &str, cmd: ClusterCommand) -> Result<ExitCode> {
    let ClusterCommand::Status { bytes } = cmd;
    let client = super::client(namenode)?;
    let st = client.cluster_status().await.context("cluster status")?;
    let human = !bytes;
    let reports = client.member_statuses(Some(&st)).await;
    let n = reports.len();
    println!("Metadata group ({n} member{}):", if n == 1 { "" } else { "s" });
    print_members(&reports, "  ");
    println!(
        "Namespace: {} files, {} directories, {} blocks ({} with a live replica)",
        st.files, st.directories, st.blocks, st.reported_blocks
    );
    println!(
        "Tables: catalog version {}, {} keyspace{}, {} table{}; ring version {}",
        st.catalog_version,
        st.keyspaces,
        if st.keyspaces == 1 { "" } else { "s" },
        st.tables,
        if st.tables == 1 { "" } else { "s" },
        st.ring_version
    );
    println!("Safe mode: {}", if st.safe_mode { "ON" } else { "off" });
    let h = st.healing.unwrap_or_default();
    println!(
        "Healing: {} under-replicated, {} missing, {} with a corrupt replica; copies: {} in flight, {} done; \
         {} open files, {} leases recovered",
        h.under_replicated, h.missing, h.corrupt, h.copies_in_flight, h.copies_done, h.open_files, h.lease_recoveries
    );
    let live = st.datanodes.iter().filter(|d| d.live).count();
    println!("Datanodes: {} live, {} dead", live, st.datanodes.len() - live);
    if !st.datanodes.is_empty() {
        println!(
            "  {:<18} {:<22} {:<22} {:<22} {:<8} {:<6} {:>12} {:>12} {:>12} {:>8} {:>10}  ADMIN",
            "ID", "ADDRESS", "CQL", "HTTP", "RACK", "STATE", "CAPACITY", "USED", "REMAINING", "BLOCKS", "HEARTBEAT"
        );
    }
    for d in &st.datanodes {
        let info = d.info.clone().unwrap_or_default();
        let admin = match d.admin_state.as_str() {
            "decommissioning" => format!("decommissioning ({} blocks to drain)", d.blocks_to_drain),
            "" => "in service".to_string(),
            s => s.to_string(),
        };
        println!(
            "  {:<18} {:<22} {:<22} {:<22} {:<8} {:<6} {:>12} {:>12} {:>12} {:>8} {:>8}ms  {admin}",
            basalt_common::DatanodeId(info.id).short(),
            info.addr,
            if d.cql_addr.is_empty() { "-" } else { &d.cql_addr },
            if d.http_addr.is_empty() { "-" } else { &d.http_addr },
            if info.rack.is_empty() { "-" } else { &info.rack },
            if d.live { "live" } else { "dead" },
            size(d.capacity, human),
            size(d.used, human),
            size(d.remaining, human),
            d.block_count,
            d.last_heartbeat_ms_ago
        );
    }
    // Executors are the leader's soft state; an older leader without a scheduler has none to show.
    let executors = client.executors().await.unwrap_or_default();
    let slots: u32 = executors.iter().map(|e| e.slots).sum();
    let running: u32 = executors.iter().map(|e| e.running).sum();
    println!(
        "Executors: {} ({slots} slots, {running} tasks running)",
        executors.len()
    );
    if !executors.is_empty() {
        println!(
            "  {:<26} {:<16} {:<22} {:>6} {:>8} {:>10}  HTTP",
            "ID", "HOST", "DATANODE", "SLOTS", "RUNNING", "HEARTBEAT"
        );
    }
    for e in &executors {
        println!(
            "  {:<26} {:<16} {:<22} {:>6} {:>8} {:>8}ms  {}",
            e.id.to_string(),
            e.host,
            e.datanode_addr,
            e.slots,
            e.running,
            e.last_seen_ms_ago,
            if e.http_addr.is_empty() { "-" } else { &e.http_addr }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One row per metadata member as it reports itself, with how far its applied index lags the highest
/// commit index seen. Returns how many members did not answer.
pub fn print_members(reports: &[(String, basalt_client::Result<basalt_client::MemberStatus>)], indent: &str) -> usize {
    println!(
        "{indent}{:<4} {:<22} {:<10} {:>6} {:>10} {:>10} {:>6} {:>10}",
        "ID", "ADDRESS", "ROLE", "TERM", "COMMIT", "APPLIED", "LAG", "LOG"
    );
    let commit = reports
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .map(|m| m.commit_index)
        .max()
        .unwrap_or(0);
    let mut down = 0;
    for (addr, r) in reports {
        match r {
            Ok(m) => println!(
                "{indent}{:<4} {:<22} {:<10} {:>6} {:>10} {:>10} {:>6} {:>10}",
                m.id,
                m.addr,
                m.role,
                m.term,
                m.commit_index,
                m.applied_index,
                commit.saturating_sub(m.applied_index),
                m.last_log_index
            ),
            Err(e) => {
                down += 1;
                println!("{indent}{:<4} {:<22} {:<10} ({e})", "?", addr, "down");
            }
        }
    }
    down
}
