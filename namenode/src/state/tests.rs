use super::cluster::{AdminState, ClusterCommand, DatanodeRecord};
use super::namespace::{FsCommand, FsOutput, NamespaceError, Perm};
use super::*;
use basalt_common::{BPath, DatanodeId};

fn p(s: &str) -> BPath {
    BPath::parse(s).unwrap()
}

fn mkdir(name: &str) -> FsCommand {
    FsCommand::Mkdirs {
        path: p(name),
        parents: false,
        perm: Perm {
            owner: "alice".into(),
            group: "staff".into(),
            mode: 0o755,
        },
        mtime_ms: 1,
    }
}

fn create(name: &str) -> FsCommand {
    FsCommand::Create {
        path: p(name),
        overwrite: false,
        create_parent: false,
        replication: 1,
        block_size: 1024,
        perm: Perm {
            owner: "alice".into(),
            group: "staff".into(),
            mode: 0o644,
        },
        mtime_ms: 1,
    }
}

#[test]
fn retried_request_applies_once() {
    let mut s = MetaState::default();
    let req = Request::new("writer-1", 42, create("/once"));
    let first = s.apply(&req);
    assert!(matches!(first.0, Ok(Output::Fs(FsOutput::Created { .. }))));
    assert_eq!(s.apply(&req), first, "a retry returns the first result");
    assert_eq!(s.namespace.counts().0, 1);
    // Another client's request with the same id is its own request.
    assert!(matches!(
        s.apply(&Request::new("writer-2", 42, create("/once"))).0,
        Err(StateError::Fs(NamespaceError::AlreadyExists { .. }))
    ));
}

#[test]
fn retries_are_remembered_for_a_while_however_many_requests_pass() {
    let mut s = MetaState::default();
    let batch = |time_ms, requests| Batch { time_ms, requests };
    let first = Request::new("c1", 1, mkdir("/first"));
    assert!(s.apply_batch(&batch(1_000, vec![first.clone()]))[0].0.is_ok());
    // 100,000 other requests within a minute: the first is still recognised when retried.
    for chunk in 0..100u64 {
        let reqs = (0..1000)
            .map(|i| Request::new("c1", 2 + chunk * 1000 + i, mkdir(&format!("/d{chunk}-{i}"))))
            .collect();
        s.apply_batch(&batch(1_000 + chunk * 600, reqs));
    }
    assert!(
        s.apply_batch(&batch(61_000, vec![first.clone()]))[0].0.is_ok(),
        "a retry is not applied again"
    );
    // Long after, with enough requests since, it is forgotten (and would be applied as new).
    s.apply_batch(&batch(200_000, vec![Request::new("c1", 999_999_999, mkdir("/late"))]));
    assert!(matches!(
        s.apply_batch(&batch(200_001, vec![first]))[0].0,
        Err(StateError::Fs(NamespaceError::AlreadyExists { .. }))
    ));
    assert!(s.dedup_len() <= dedup::MAX_ENTRIES);
}

#[test]
fn sub_machines_apply_their_own_commands() {
    let mut s = MetaState::default();
    let rec = DatanodeRecord {
        id: DatanodeId(7),
        addr: "127.0.0.1:9866".into(),
        host: "h".into(),
        host_id: "hid".into(),
        rack: "/r1".into(),
    };
    let reg = Request::new("datanode", 0, ClusterCommand::RegisterDatanode(rec.clone()));
    assert_eq!(reg.command.gate(), Gate::Leader, "registration works in safe mode");
    assert!(s.apply(&reg).0.is_ok());
    assert_eq!(s.cluster.datanodes().get(&DatanodeId(7)), Some(&rec));
    let cancel_race = Request::new(
        "namenode",
        0,
        ClusterCommand::SetAdminState {
            datanode: DatanodeId(7),
            state: AdminState::Decommissioned,
            from: Some(AdminState::Decommissioning),
        },
    );
    let err = s.apply(&cancel_race).0.unwrap_err();
    assert_eq!(err.kind(), basalt_common::ErrorKind::Conflict);
    assert!(matches!(err, StateError::Cluster(_)));
    assert_eq!(Command::from(mkdir("/x")).gate(), Gate::SafeMode);
}

#[test]
fn a_command_newer_than_this_build_is_refused_unapplied() {
    let mut s = MetaState::default();
    let mut req = Request::new("c", 1, mkdir("/future"));
    req.version = STATE_VERSION + 1;
    assert!(matches!(s.apply(&req).0, Err(StateError::UnsupportedVersion { .. })));
    assert!(s.namespace.stat(&p("/future")).is_err());
    // An older version (a request from a v2 log) applies.
    req.version = legacy::V2_REQUEST_VERSION;
    req.request_id = 2;
    assert!(s.apply(&req).0.is_ok());
}

#[test]
fn the_state_round_trips_through_its_codec() {
    let mut s = MetaState::default();
    s.apply(&Request::new("c", 1, mkdir("/d")));
    s.apply(&Request::new("c", 2, create("/d/f")));
    let back: MetaState = codec::decode(&codec::encode(&s)).unwrap();
    assert_eq!(
        back.namespace.stat(&p("/d/f")).unwrap(),
        s.namespace.stat(&p("/d/f")).unwrap()
    );
    assert_eq!(back.namespace.open_file_count(), 1);
    assert_eq!(back.dedup_len(), 2);
    // The remembered results survive too: a retry after a restart is still recognised.
    let mut back = back;
    assert!(back.apply(&Request::new("c", 2, create("/d/f"))).0.is_ok());
}

#[test]
fn a_v2_log_entry_upgrades() {
    use legacy::{V2Batch, V2Command, V2Perm, V2Request};
    let v2 = V2Batch {
        time_ms: 5,
        requests: vec![
            V2Request {
                version: 2,
                client: "c".into(),
                request_id: 9,
                command: V2Command::Mkdirs {
                    path: p("/old"),
                    parents: true,
                    perm: V2Perm {
                        owner: "bob".into(),
                        group: "g".into(),
                        mode: 0o700,
                    },
                    mtime_ms: 3,
                },
            },
            V2Request {
                version: 2,
                client: "datanode".into(),
                request_id: 0,
                command: V2Command::SetAdminState {
                    datanode: DatanodeId(3),
                    state: legacy::V2AdminState::Decommissioning,
                    from: None,
                },
            },
        ],
    };
    let mut bytes = vec![codec::LEGACY_FORMAT_V2];
    bincode::serialize_into(&mut bytes, &v2).unwrap();
    let batch: Batch = codec::decode_or_upgrade(&bytes, |b: V2Batch| b.into()).unwrap();
    let mut s = MetaState::default();
    assert!(s.apply_batch(&batch).iter().all(|r| r.0.is_ok()));
    let st = s.namespace.stat(&p("/old")).unwrap();
    assert_eq!((st.perm.owner.as_str(), st.perm.mode), ("bob", 0o700));
    assert_eq!(
        s.cluster.admin_states().get(&DatanodeId(3)),
        Some(&AdminState::Decommissioning)
    );
}

#[test]
fn schema_changes_are_version_4_retry_safe_and_persisted() {
    use basalt_table::catalog::{Effect, SchemaChange};
    use basalt_table::{KeyspaceDef, Replication};
    let mut s = MetaState::default();
    let create = Request::new(
        "cql",
        5,
        SchemaChange::CreateKeyspace {
            def: KeyspaceDef {
                name: "shop".into(),
                replication: Replication::Simple { factor: 1 },
                durable_writes: true,
            },
            if_not_exists: false,
        },
    );
    assert_eq!(create.version, 4);
    assert_eq!(
        Request::new("c", 1, mkdir("/x")).version,
        3,
        "older commands keep their version"
    );
    let first = s.apply_batch(&Batch {
        time_ms: 10,
        requests: vec![create.clone()],
    });
    assert!(matches!(&first[0].0, Ok(Output::Catalog(o)) if o.effect == Effect::Created));
    // The retry returns the first result rather than KeyspaceExists.
    assert_eq!(s.apply(&create), first[0]);
    assert_eq!(s.catalog.version(), 1);
    let back: MetaState = codec::decode(&codec::encode(&s)).unwrap();
    assert_eq!(back.catalog, s.catalog);
    let tokens = Request::new(
        "namenode",
        0,
        ClusterCommand::SetTokens {
            datanode: DatanodeId(1),
            tokens: vec![1],
        },
    );
    assert_eq!(tokens.version, 4);
}

#[test]
fn requests_with_a_caller_are_version_6_checked_and_persisted() {
    use super::namespace::Caller;
    let mut s = MetaState::default();
    s.apply(&Request::new("c", 1, mkdir("/open")));
    let plain = Request::new("c", 2, mkdir("/open/x"));
    assert_eq!(
        plain.version, 3,
        "a request without a caller keeps its command's version"
    );
    let carol = Caller::user("carol", &[]);
    let by_carol = Request::new("c", 3, mkdir("/open/y")).with_caller(Some(carol.clone()));
    assert_eq!(by_carol.version, CALLER_VERSION);
    let set = Request::new(
        "c",
        4,
        FsCommand::SetPermission {
            path: p("/open"),
            mode: 0o700,
        },
    );
    assert_eq!(set.version, 6, "the new namespace commands are version 6");
    // The caller travels in the log: it decodes back, and an entry written before it reads as none.
    let back: Request = codec::decode(&codec::encode(&by_carol)).unwrap();
    assert_eq!(back, by_carol);
    let old: Request = codec::decode(&codec::encode(&plain)).unwrap();
    assert_eq!(old.caller, None);
    // carol may not write into alice's 0755 directory; the denial is remembered for retries.
    let denied = s.apply(&by_carol);
    assert!(
        matches!(&denied.0, Err(StateError::Fs(NamespaceError::PermissionDenied(_)))),
        "{denied:?}"
    );
    assert_eq!(s.apply(&by_carol), denied);
    assert!(s.namespace.stat(&p("/open/y")).is_err());
    // A member of an older version refuses the request rather than apply it unchecked.
    let mut newer = by_carol.clone();
    newer.version = STATE_VERSION + 1;
    assert!(matches!(s.apply(&newer).0, Err(StateError::UnsupportedVersion { .. })));
}
