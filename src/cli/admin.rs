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
}

#[derive(Subcommand, Debug)]
pub enum RaftCommand {
    /// One line per configured member, as the member reports itself: id, address, role, term, commit
    /// index, applied index.
    Status,
    /// Add a member: it joins as a learner, catches up, then becomes a voter.
    Add { id: u64, addr: String },
    /// Remove a member from the group.
    Remove { id: u64 },
    /// Hand leadership to another member.
    TransferLeader { id: u64 },
}

pub async fn run(namenode: &str, cmd: AdminCommand) -> Result<ExitCode> {
    let client = super::client(namenode)?;
    let AdminCommand::Raft { cmd } = cmd;
    match cmd {
        RaftCommand::Status => {
            println!(
                "{:<4} {:<22} {:<10} {:>6} {:>10} {:>10} {:>10}",
                "ID", "ADDRESS", "ROLE", "TERM", "COMMIT", "APPLIED", "LOG"
            );
            let mut unreachable = 0;
            for (addr, res) in client.member_statuses().await {
                match res {
                    Ok(m) => println!(
                        "{:<4} {:<22} {:<10} {:>6} {:>10} {:>10} {:>10}",
                        m.id, m.addr, m.role, m.term, m.commit_index, m.applied_index, m.last_log_index
                    ),
                    Err(e) => {
                        unreachable += 1;
                        println!("{:<4} {:<22} {:<10} ({e})", "?", addr, "down");
                    }
                }
            }
            if unreachable > 0 {
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
