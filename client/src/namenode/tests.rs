//! Leader discovery and retry decisions of [`NamenodeClient::call_on`], against scripted answers (the
//! channels are lazy and never connect: each call's answer comes from the script for the member the
//! client is talking to).

use super::*;
use basalt_proto::to_status;
use std::collections::VecDeque;
use tonic::Status;

type Answer = std::result::Result<u32, Status>;

/// Answers per member address, in order; the last answer of a member repeats.
struct Script {
    nn: NamenodeClient,
    answers: Mutex<HashMap<String, VecDeque<Answer>>>,
    calls: Mutex<Vec<String>>,
}

impl Script {
    fn new(members: &str, policy: RetryPolicy, answers: &[(&str, Vec<Answer>)]) -> Self {
        Script {
            nn: NamenodeClient::new(members, policy).unwrap(),
            answers: Mutex::new(
                answers
                    .iter()
                    .map(|(a, v)| (a.to_string(), v.iter().cloned().collect()))
                    .collect(),
            ),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// One call through the retry loop; returns its result and the members it asked, in order.
    async fn call(&self) -> (Result<u32>, Vec<String>) {
        self.calls.lock().unwrap().clear();
        let res = self
            .nn
            .call_on(
                |_channel| (),
                |()| {
                    let addr = self.nn.leader.lock().unwrap().clone();
                    self.calls.lock().unwrap().push(addr.clone());
                    let mut answers = self.answers.lock().unwrap();
                    let queue = answers.get_mut(&addr).expect("a scripted member");
                    let answer = if queue.len() > 1 {
                        queue.pop_front().unwrap()
                    } else {
                        queue.front().unwrap().clone()
                    };
                    async move { answer.map(tonic::Response::new) }
                },
            )
            .await;
        (res, self.calls.lock().unwrap().clone())
    }
}

fn policy(connect_ms: u64, op_ms: u64) -> RetryPolicy {
    RetryPolicy {
        connect_timeout: Duration::from_millis(connect_ms),
        op_timeout: Duration::from_millis(op_ms),
        rpc_timeout: Duration::from_secs(1),
    }
}

fn not_leader(hint: Option<&str>) -> Answer {
    Err(to_status(ErrorKind::NotLeader, "not the leader", hint))
}

/// A status no Basalt service produced: what tonic returns when the connection is refused.
fn refused() -> Answer {
    Err(Status::unavailable("connection refused"))
}

const MEMBERS: &str = "10.0.0.1:8020,10.0.0.2:8020,10.0.0.3:8020";
const A: &str = "10.0.0.1:8020";
const B: &str = "10.0.0.2:8020";
const C: &str = "10.0.0.3:8020";

#[tokio::test]
async fn a_leader_hint_redirects_at_once_and_is_remembered() {
    let s = Script::new(
        MEMBERS,
        policy(1000, 5000),
        &[(A, vec![not_leader(Some(C))]), (B, vec![Ok(0)]), (C, vec![Ok(7)])],
    );
    let (res, calls) = s.call().await;
    assert_eq!(res.unwrap(), 7);
    assert_eq!(calls, [A, C]);
    let (res, calls) = s.call().await;
    assert_eq!(res.unwrap(), 7);
    assert_eq!(calls, [C], "the next call goes straight to the leader");
}

#[tokio::test]
async fn no_hint_or_a_refused_connection_moves_to_the_next_member() {
    let s = Script::new(
        MEMBERS,
        policy(1000, 5000),
        &[(A, vec![not_leader(None)]), (B, vec![refused()]), (C, vec![Ok(3)])],
    );
    let (res, calls) = s.call().await;
    assert_eq!(res.unwrap(), 3);
    assert_eq!(calls, [A, B, C]);
}

#[tokio::test]
async fn a_transient_server_error_is_retried_on_the_same_member() {
    let busy = Err(to_status(ErrorKind::Unavailable, "in safe mode", None));
    let s = Script::new(MEMBERS, policy(1000, 5000), &[(A, vec![busy.clone(), busy, Ok(1)])]);
    let (res, calls) = s.call().await;
    assert_eq!(res.unwrap(), 1);
    assert_eq!(calls, [A, A, A]);
}

#[tokio::test]
async fn other_errors_are_returned_without_a_retry() {
    for kind in [
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::Invalid,
        ErrorKind::Capacity,
        ErrorKind::Conflict,
        ErrorKind::Corrupt,
        ErrorKind::Internal,
    ] {
        let s = Script::new(
            MEMBERS,
            policy(1000, 5000),
            &[(A, vec![Err(to_status(kind, "no", None))])],
        );
        let (res, calls) = s.call().await;
        let err = res.unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(err.to_string(), "no");
        assert_eq!(calls, [A], "{kind} was retried");
    }
}

#[tokio::test]
async fn unreachable_members_give_up_after_the_connect_timeout() {
    let s = Script::new(
        MEMBERS,
        policy(150, 60_000),
        &[(A, vec![refused()]), (B, vec![refused()]), (C, vec![refused()])],
    );
    let started = Instant::now();
    let (res, calls) = s.call().await;
    let err = res.unwrap_err();
    assert!(
        matches!(&err, ClientError::NamenodeUnreachable { addrs, .. } if addrs == MEMBERS),
        "{err:?}"
    );
    assert!(err.to_string().contains("connection refused"), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "it waited for the op timeout"
    );
    // Round robin over the members.
    assert!(calls.len() >= 3, "{calls:?}");
    assert_eq!(&calls[..3], [A, B, C]);
    assert_eq!(calls.get(3).map(String::as_str).unwrap_or(A), A);
}

#[tokio::test]
async fn a_transient_state_that_persists_gives_up_after_the_op_timeout() {
    let busy = Err(to_status(ErrorKind::Unavailable, "in safe mode", None));
    let s = Script::new(MEMBERS, policy(50, 200), &[(A, vec![busy])]);
    let (res, calls) = s.call().await;
    let err = res.unwrap_err();
    assert!(
        matches!(&err, ClientError::DeadlineExceeded { last, .. } if last == "in safe mode"),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    // Answers from a live member reset the unreachable clock: the connect timeout does not apply.
    assert!(calls.iter().all(|c| c == A) && calls.len() > 2, "{calls:?}");
}

#[tokio::test]
async fn hints_pointing_back_and_forth_end_at_the_op_timeout() {
    let s = Script::new(
        MEMBERS,
        policy(1000, 300),
        &[(A, vec![not_leader(Some(B))]), (B, vec![not_leader(Some(A))])],
    );
    let (res, calls) = s.call().await;
    assert!(matches!(res, Err(ClientError::DeadlineExceeded { .. })), "{res:?}");
    assert!(calls.windows(2).all(|w| w[0] != w[1]), "{calls:?}");
    // Backed off: a few redirects, not thousands.
    assert!(calls.len() < 50, "{} calls", calls.len());
}

#[test]
fn member_lists_are_parsed_and_checked() {
    let nn = NamenodeClient::new(" 10.0.0.1:8020 , ,http://10.0.0.2:8020,", RetryPolicy::default()).unwrap();
    assert_eq!(nn.members(), ["10.0.0.1:8020", "http://10.0.0.2:8020"]);
    assert_eq!(*nn.leader.lock().unwrap(), "10.0.0.1:8020");
    assert_eq!(nn.next_member("10.0.0.1:8020"), "http://10.0.0.2:8020");
    assert_eq!(nn.next_member("http://10.0.0.2:8020"), "10.0.0.1:8020");
    assert_eq!(
        nn.next_member("elsewhere:1"),
        "10.0.0.1:8020",
        "an unknown hint restarts the round"
    );
    for bad in ["", " , ", "not an address\u{0}"] {
        let err = NamenodeClient::new(bad, RetryPolicy::default()).err().expect(bad);
        assert_eq!(err.kind(), ErrorKind::Invalid, "{bad:?}: {err}");
    }
}
