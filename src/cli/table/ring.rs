//! `basalt table ring`: the token ring.

use basalt_client::RingView;
use std::fmt::Write;

/// The ring as `basalt table ring` prints it.
pub fn ring_text(view: &RingView, tokens: bool) -> String {
    let ring = &view.ring;
    let own = ring.ownership();
    let mut out = String::new();
    let nodes = own.len();
    let _ = writeln!(
        out,
        "Ring version {}: {} datanode{}, {} token{}",
        ring.version(),
        nodes,
        if nodes == 1 { "" } else { "s" },
        ring.tokens().len(),
        if ring.tokens().len() == 1 { "" } else { "s" },
    );
    if ring.is_empty() {
        let _ = writeln!(out, "(no datanode owns tokens yet)");
        return out;
    }
    let _ = writeln!(
        out,
        "{:<18} {:<22} {:<12} {:>6} {:>8}",
        "DATANODE", "ADDRESS", "RACK", "TOKENS", "OWNS"
    );
    for (id, share) in &own {
        let node = view.nodes.get(id);
        let _ = writeln!(
            out,
            "{:<18} {:<22} {:<12} {:>6} {:>7.2}%",
            id.short(),
            node.map_or("?", |n| n.addr.as_str()),
            node.map_or("-", |n| if n.rack.is_empty() { "-" } else { n.rack.as_str() }),
            ring.tokens_of(*id).len(),
            share * 100.0
        );
    }
    if tokens {
        let _ = writeln!(out);
        let _ = writeln!(out, "{:>21} {:<18} {:<22} RACK", "TOKEN", "DATANODE", "ADDRESS");
        for (token, id) in ring.tokens() {
            let node = view.nodes.get(id);
            let _ = writeln!(
                out,
                "{:>21} {:<18} {:<22} {}",
                token,
                id.short(),
                node.map_or("?", |n| n.addr.as_str()),
                node.map_or("-", |n| if n.rack.is_empty() { "-" } else { n.rack.as_str() }),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_client::RingNode;
    use basalt_common::DatanodeId;

    #[test]
    fn ring_text_lists_owners_shares_and_tokens() {
        let node = |id: u64| RingNode {
            id: DatanodeId(id),
            addr: format!("10.0.0.{id}:9866"),
            host: String::new(),
            rack: "/r1".into(),
        };
        let view = RingView::new(7, [(i64::MIN / 2, node(1)), (0, node(2)), (i64::MAX / 2, node(1))]).unwrap();
        let text = ring_text(&view, true);
        assert!(text.starts_with("Ring version 7: 2 datanodes, 3 tokens\n"), "{text}");
        let row = |first: String| -> Vec<String> {
            let line = text.lines().find(|l| l.trim_start().starts_with(&first)).unwrap();
            line.split_whitespace().map(str::to_string).collect()
        };
        // Node 2 owns (MIN/2, 0]: a quarter; node 1 the rest.
        assert_eq!(
            row(DatanodeId(2).short()),
            [&DatanodeId(2).short(), "10.0.0.2:9866", "/r1", "1", "25.00%"]
        );
        assert_eq!(
            row(DatanodeId(1).short()),
            [&DatanodeId(1).short(), "10.0.0.1:9866", "/r1", "2", "75.00%"]
        );
        assert_eq!(row("0 ".into()), ["0", &DatanodeId(2).short(), "10.0.0.2:9866", "/r1"]);
        assert!(!ring_text(&view, false).contains("TOKEN DATANODE"));
        assert!(ring_text(&RingView::default(), true).contains("no datanode owns tokens"));
    }
}
