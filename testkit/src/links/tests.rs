//! Rule matching of the fault table, as plain calls.

use super::*;

const NN1: &str = "127.0.0.1:1001";
const NN2: &str = "127.0.0.1:1002";
const DN0: &str = "127.0.0.1:2000";
const DN1: &str = "127.0.0.1:2001";
const METHOD: &str = "/basalt.ClientProtocol/Mkdirs";

fn table() -> Arc<Links> {
    let links = Links::new(7);
    links.register(Node::Namenode(1), NN1);
    links.register(Node::Namenode(2), NN2);
    links.register(Node::Datanode(0), DN0);
    links.register(Node::Datanode(1), DN1);
    links
}

fn pass(links: &Links, from: Node, to: &str) -> bool {
    links.verdict(from, 0, to, METHOD) == Verdict::Pass
}

#[test]
fn a_partition_cuts_both_ways_and_nothing_else() {
    let links = table();
    let id = links.partition(Node::Namenode(1), [Node::Namenode(2), Node::Datanode(0)]);
    assert!(!pass(&links, Node::Namenode(1), NN2));
    assert!(!pass(&links, Node::Namenode(2), NN1));
    assert!(!pass(&links, Node::Datanode(0), NN1));
    assert!(links.is_cut(Node::Namenode(2), 0, NN1, METHOD));
    assert!(pass(&links, Node::Namenode(2), DN0), "both on the same side");
    assert!(pass(&links, Node::Client(0), NN1));
    links.remove(id);
    assert!(pass(&links, Node::Namenode(1), NN2));
}

#[test]
fn isolation_cuts_every_peer_but_not_the_node_itself() {
    let links = table();
    links.isolate(Node::Datanode(1));
    for from in [Node::Namenode(1), Node::Datanode(0), Node::Client(3)] {
        assert!(!pass(&links, from, DN1), "{from} reached the isolated node");
    }
    assert!(!pass(&links, Node::Datanode(1), NN1));
    assert!(pass(&links, Node::Datanode(1), DN1));
    assert!(pass(&links, Node::Datanode(0), NN1));
    links.heal();
    assert!(pass(&links, Node::Datanode(1), NN1));
}

#[test]
fn a_one_way_cut_leaves_the_other_direction() {
    let links = table();
    links.cut(Sel::Datanodes, Sel::Namenodes);
    assert!(!pass(&links, Node::Datanode(0), NN2));
    assert!(pass(&links, Node::Namenode(2), DN0));
    assert!(pass(&links, Node::Datanode(0), DN1));
}

#[test]
fn unknown_addresses_are_never_filtered() {
    let links = table();
    links.isolate(Node::Client(0));
    links.partition(Sel::All, Sel::All);
    assert!(pass(&links, Node::Client(0), "127.0.0.1:9"));
}

#[test]
fn drops_follow_the_seed_and_the_fraction() {
    let refused = |seed| {
        let links = Links::new(seed);
        links.register(Node::Namenode(1), NN1);
        links.drop_calls(Sel::Clients, Node::Namenode(1), 0.25);
        (0..2000)
            .map(|_| links.verdict(Node::Client(0), 0, NN1, METHOD))
            .filter(|v| matches!(v, Verdict::Refuse(_)))
            .count()
    };
    let n = refused(1);
    assert_eq!(n, refused(1), "same seed, same drops");
    assert!((400..600).contains(&n), "{n} of 2000 dropped at 25%");
    let links = table();
    links.drop_calls(Sel::All, Sel::All, 1.0);
    assert!(!pass(&links, Node::Namenode(1), DN0));
    assert!(
        !links.is_cut(Node::Namenode(1), 0, DN0, METHOD),
        "a drop does not break open streams"
    );
}

#[test]
fn delays_add_up() {
    let links = table();
    links.delay(Sel::All, Sel::Datanodes, Duration::from_millis(30));
    links.delay(Node::Client(0), Node::Datanode(0), Duration::from_millis(20));
    assert_eq!(
        links.verdict(Node::Client(0), 0, DN0, METHOD),
        Verdict::Delay(Duration::from_millis(50))
    );
    assert_eq!(
        links.verdict(Node::Client(0), 0, DN1, METHOD),
        Verdict::Delay(Duration::from_millis(30))
    );
    assert!(pass(&links, Node::Client(0), NN1));
}

#[test]
fn a_down_node_takes_no_calls_and_a_killed_incarnation_sends_none() {
    let links = table();
    let changes = links.changes.subscribe();
    links.set_down(Node::Datanode(0), true);
    assert!(changes.has_changed().unwrap());
    assert!(links.is_cut(Node::Namenode(1), 0, DN0, METHOD));
    links.set_down(Node::Datanode(0), false);
    assert!(pass(&links, Node::Namenode(1), DN0));

    links.retire(Node::Datanode(0));
    assert!(links.is_cut(Node::Datanode(0), 0, NN1, METHOD), "the old incarnation");
    assert!(
        links.is_cut(Node::Datanode(0), 0, "127.0.0.1:9", METHOD),
        "even to unknown addresses"
    );
    assert!(!pass(&links, Node::Datanode(0), NN1));
    assert_eq!(
        links.verdict(Node::Datanode(0), 1, NN1, METHOD),
        Verdict::Pass,
        "the new one"
    );
}

#[test]
fn a_rule_can_pick_one_method() {
    let links = table();
    links.add(Rule::new(Sel::Datanodes, Sel::Namenodes, Action::Cut).only("Heartbeat"));
    let hb = "/basalt.DatanodeProtocol/Heartbeat";
    let report = "/basalt.DatanodeProtocol/BlockReport";
    assert!(links.verdict(Node::Datanode(0), 0, NN1, hb) != Verdict::Pass);
    assert!(links.is_cut(Node::Datanode(0), 0, NN1, hb));
    assert_eq!(links.verdict(Node::Datanode(0), 0, NN1, report), Verdict::Pass);
    assert!(
        !links.is_cut(Node::Datanode(0), 0, NN1, ""),
        "the connection itself is not cut"
    );
}
