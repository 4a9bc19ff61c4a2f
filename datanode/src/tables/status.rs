//! What `basalt table status` shows of one datanode: the tables of its store with RocksDB's row and
//! byte estimates, the hints it keeps for other replicas, and the tables found damaged since it
//! started. Runs on a blocking thread (RocksDB property reads and a walk of the hint log).

use crate::tables::local::Local;
use crate::tables::store::TableStoreError;
use basalt_proto::pb;

/// The store's status, names from this node's catalog (empty for a table the catalog no longer has).
pub fn table_status(local: &Local) -> Result<pb::TableStatusResponse, TableStoreError> {
    let catalog = local.schema.catalog();
    let names = |id| {
        catalog
            .table_by_id(id)
            .map(|t| (t.keyspace.clone(), t.name.clone()))
            .unwrap_or_default()
    };
    let mut tables = Vec::new();
    for id in local.store.tables()? {
        let (rows, bytes) = match local.store.estimates(id) {
            Ok(e) => e,
            // Dropped between the listing and now.
            Err(TableStoreError::NoSuchTable { .. }) => continue,
            Err(e) => return Err(e),
        };
        let (keyspace, table) = names(id);
        tables.push(pb::StoredTable {
            table_id: id.0,
            keyspace,
            table,
            rows_estimate: rows,
            bytes_estimate: bytes,
        });
    }
    let hints = local
        .store
        .count_hints()?
        .into_iter()
        .map(|(target, n)| pb::PendingHints {
            target_datanode_id: target.0,
            hints: n,
        })
        .collect();
    let unhealthy = local
        .store
        .health()
        .into_iter()
        .map(|(id, reason)| {
            let (keyspace, table) = names(id);
            pb::UnhealthyTable {
                table_id: id.0,
                keyspace,
                table,
                reason,
            }
        })
        .collect();
    Ok(pb::TableStatusResponse {
        catalog_version: catalog.version(),
        tables,
        hints,
        unhealthy,
    })
}
