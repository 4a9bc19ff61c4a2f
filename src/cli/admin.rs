//! `basalt admin`: administration of the metadata group.

use anyhow::{Context, Result};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// The Raft metadata group.
    Raft {
        #[command(subcommand)]
        cmd: RaftCommand,
    },
    /// Drain a datanode (id or address, as `cluster status` lists them) before it leaves: its replicas
    /// are copied to other nodes; `cluster status` shows the progress until it is "decommissioned".
    Decommission {
        datanode: String,
        /// Put the datanode back in service instead.
        #[arg(long)]
        cancel: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum RaftCommand {
    /// One line per member, as the member reports itself: id, address, role, term, commit index, applied
    /// index, lag, last log index. Exits with 2 when a member does not answer.
    Status,
    /// Add a member: it joins as a learner, catches up, then becomes a voter.
    Add { id: u64, addr: String },
    /// Remove a member from the group.
    Remove { id: u64 },
    /// Hand leadership to another member.
    TransferLeader { id: u64 },
    /// Snapshot every member's state now and compact its log (HDFS's saveNamespace); members also do
    /// this on their own every `snapshot-interval` log entries.
    Snapshot,
}

pub async fn run(namenode: &str, cmd: AdminCommand) -> Result<ExitCode> {
    let client = super::client(namenode)?;
    let cmd = match cmd {
        AdminCommand::Raft { cmd } => cmd,
        AdminCommand::Decommission { datanode, cancel } => {
            let r = client
                .decommission(&datanode, cancel)
                .await
                .with_context(|| format!("decommissioning datanode {datanode}"))?;
            println!(
                "Datanode {}: {}.",
                basalt_common::DatanodeId(r.datanode_id).short(),
                r.state
            );
            return Ok(ExitCode::SUCCESS);
        }
    };
    match cmd {
        RaftCommand::Status => {
            if super::cluster::print_members(&client.member_statuses(None).await, "") > 0 {
                return Ok(ExitCode::from(2));
            }
        }
        RaftCommand::Add { id, addr } => {
            client
                .add_member(id, &addr)
                .await
                .with_context(|| format!("adding member {id} at {addr}"))?;
            println!("Member {id} ({addr}) added to the metadata group.");
        }
        RaftCommand::TransferLeader { id } => {
            client
                .transfer_leader(id)
                .await
                .with_context(|| format!("transferring leadership to member {id}"))?;
            println!("Member {id} is now the metadata leader.");
        }
        RaftCommand::Snapshot => {
            let mut failed = 0;
            for (addr, status) in client.member_statuses(None).await {
                if status.is_err() {
                    eprintln!("member at {addr}: not answering");
                    failed += 1;
                    continue;
                }
                match client.snapshot_member(&addr).await {
                    Ok((index, bytes)) => println!(
                        "Member at {addr}: snapshot at log index {index}, {}.",
                        basalt_common::units::format_bytes(bytes)
                    ),
                    Err(e) => {
                        eprintln!("member at {addr}: {e}");
                        failed += 1;
                    }
                }
            }
            if failed > 0 {
                return Ok(ExitCode::from(2));
            }
        }
        RaftCommand::Remove { id } => {
            client
                .remove_member(id)
                .await
                .with_context(|| format!("removing member {id}"))?;
            println!("Member {id} removed from the metadata group.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
