//! Jobs end to end with real processes: a namenode, datanodes and one executor per datanode, each its
//! own process. Word count, grep and sort equal a single-process reference on generated multi-block
//! data (lines crossing block boundaries, empty lines, a final line without a newline, unicode);
//! Hadoop Streaming with shell tools and a Python mapper/reducer; a failing mapper's stderr in the
//! job's error after its retries; an executor killed with SIGKILL mid-job.

use crate::harness::{DEADLINE, Opts, TestCluster, block_ids, job_id, ok, stderr, stdout, test_rng};
use basalt_client::{Client, CreateOptions};
use std::collections::BTreeMap;

const WORDS: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "café",
    "naïve",
    "日本語",
    "straße",
    "x",
    "longerwordthanmost",
    "🙂",
];

fn opts() -> Opts {
    Opts {
        datanodes: 3,
        block_size: "64KiB",
        replication: 2,
        namenode_args: &["--locality-wait", "300ms", "--executor-timeout", "3s"],
        ..Opts::default()
    }
}

async fn cluster() -> TestCluster {
    let mut c = TestCluster::start(opts()).await;
    c.start_executors(2).await;
    c
}

/// Text of about `bytes` bytes: lines of random words (some empty, some long, tabs and unicode), the
/// last without a newline.
pub fn text(rng: &mut fastrand::Rng, bytes: usize) -> String {
    let mut s = String::new();
    while s.len() < bytes {
        let words = match rng.u8(..10) {
            0 => 0,
            1 => rng.usize(50..200),
            _ => rng.usize(1..12),
        };
        let line: Vec<&str> = (0..words).map(|_| WORDS[rng.usize(..WORDS.len())]).collect();
        s.push_str(&line.join(if rng.bool() { " " } else { " \t " }));
        s.push('\n');
    }
    s.push_str("final line without newline café");
    s
}

pub fn word_counts(text: &str) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for w in text.split_whitespace() {
        *m.entry(w.to_string()).or_insert(0) += 1;
    }
    m
}

pub fn put(client: &Client, path: &str, data: &[u8]) -> impl Future<Output = ()> {
    let (client, path, data) = (client.clone(), path.to_string(), data.to_vec());
    async move {
        let opts = CreateOptions {
            create_parent: true,
            ..Default::default()
        };
        client.write_all(&path, &data, opts).await.unwrap();
    }
}

/// The part files of `dir`, in name order, and whether `_SUCCESS` is there.
pub async fn parts(client: &Client, dir: &str) -> (Vec<Vec<u8>>, bool) {
    let mut names: Vec<String> = client.list(dir).await.unwrap().into_iter().map(|e| e.path).collect();
    names.sort();
    let success = names.iter().any(|n| n.ends_with("/_SUCCESS"));
    let mut out = Vec::new();
    for n in names
        .iter()
        .filter(|n| n.rsplit('/').next().unwrap().starts_with("part-"))
    {
        out.push(client.read_all(n).await.unwrap());
    }
    (out, success)
}

pub fn counts_of(parts: &[Vec<u8>]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for p in parts {
        for line in String::from_utf8(p.clone()).unwrap().lines() {
            let (w, n) = line
                .rsplit_once('\t')
                .unwrap_or_else(|| panic!("not word<TAB>count: {line:?}"));
            assert!(m.insert(w.to_string(), n.parse().unwrap()).is_none(), "{w} twice");
        }
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wordcount_grep_and_sort_equal_a_single_process_reference() {
    let c = cluster().await;
    let client = c.client();
    let mut rng = test_rng("jobs");
    let a = text(&mut rng, 200_000);
    let b = text(&mut rng, 90_000);
    put(&client, "/in/a.txt", a.as_bytes()).await;
    put(&client, "/in/b.txt", b.as_bytes()).await;
    put(&client, "/in/_ignored", b"not input").await;
    assert!(block_ids(&client, "/in/a.txt").await.len() >= 3, "a multi-block input");

    // Word count over a directory of two files.
    let o = ok(c.cli(&["job", "wordcount", "-r", "3", "/in", "/out/wc"]));
    assert!(stdout(&o).contains("succeeded"), "{}", stdout(&o));
    let (p, success) = parts(&client, "/out/wc").await;
    assert!(success, "_SUCCESS written");
    assert_eq!(p.len(), 3);
    let mut want = word_counts(&a);
    for (w, n) in word_counts(&b) {
        *want.entry(w).or_insert(0) += n;
    }
    assert_eq!(counts_of(&p), want);
    assert!(!client.exists("/out/wc/_temporary").await.unwrap());

    // The job's status: stages, node-local maps, counters; and the list.
    let list = stdout(&ok(c.cli(&["job", "list"])));
    assert!(list.contains("wordcount") && list.contains("succeeded"), "{list}");
    let id = list
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let st = stdout(&ok(c.cli(&["job", "status", &id])));
    assert!(
        st.contains("map") && st.contains("reduce") && st.contains("commit"),
        "{st}"
    );
    assert!(st.contains("Map-Reduce Framework:Map input records"), "{st}");
    let view = client.job_status(job_id(&id)).await.unwrap();
    let map = &view.stages[0].stats;
    assert_eq!(map.done, map.tasks);
    assert!(
        map.node_local * 10 >= map.with_preference * 9,
        "node-local maps: {map:?}"
    );
    assert!(view.stages[1].stats.shuffle_read > 0);

    // Grep (map-only): the matching lines, in input order per split.
    ok(c.cli(&["job", "grep", "café", "/in/a.txt", "/out/grep"]));
    let (p, success) = parts(&client, "/out/grep").await;
    assert!(success);
    let got: Vec<u8> = p.concat();
    let want: String = a
        .lines()
        .filter(|l| l.contains("café"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(String::from_utf8(got).unwrap(), want);

    // Sort of 100-byte records crossing 64 KiB block boundaries, by their 10-byte keys.
    let records: Vec<Vec<u8>> = (0..4000)
        .map(|i| {
            let mut r: Vec<u8> = (0..10).map(|_| rng.u8(..)).collect();
            r.extend(format!("{i:>88}\r\n").bytes());
            r
        })
        .collect();
    put(&client, "/sort/in", &records.concat()).await;
    ok(c.cli(&["job", "sort", "-r", "3", "/sort/in", "/sort/out"]));
    let (p, _) = parts(&client, "/sort/out").await;
    assert_eq!(p.len(), 3);
    let mut want = records.clone();
    want.sort_by(|x, y| x[..10].cmp(&y[..10]));
    assert_eq!(p.concat(), want.concat(), "part files in key order, records intact");

    // An existing output directory is refused before anything runs.
    let o = c.cli(&["job", "wordcount", "/in", "/out/wc"]);
    assert!(
        !o.status.success() && stderr(&o).contains("already exists"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_with_shell_tools_and_python() {
    let c = cluster().await;
    let client = c.client();
    let mut rng = test_rng("streaming");
    let a = text(&mut rng, 150_000);
    put(&client, "/in/a.txt", a.as_bytes()).await;
    let lines = a.lines().count();

    // cat | sort | wc -l: every line reaches the single reducer once.
    ok(c.cli(&[
        "job",
        "streaming",
        "-input",
        "/in",
        "-output",
        "/s/wc",
        "-mapper",
        "cat",
        "-reducer",
        "wc -l",
        "-numReduceTasks",
        "1",
    ]));
    let (p, _) = parts(&client, "/s/wc").await;
    assert_eq!(String::from_utf8(p.concat()).unwrap().trim(), lines.to_string());

    // awk as a map-only job, with the task's Hadoop environment and -cmdenv.
    ok(c.cli(&[
        "job",
        "streaming",
        "-input",
        "/in/a.txt",
        "-output",
        "/s/awk",
        "-numReduceTasks",
        "0",
        "-cmdenv",
        "TAG=t 1",
        "-mapper",
        r#"awk -v part="$mapreduce_task_partition" -v tag="$TAG" '{ print part "\t" tag "\t" NF }'"#,
    ]));
    let (p, _) = parts(&client, "/s/awk").await;
    let out = String::from_utf8(p.concat()).unwrap();
    assert_eq!(out.lines().count(), lines);
    assert!(
        out.lines().all(|l| l.split('\t').nth(1) == Some("t 1")),
        "{}",
        &out[..200]
    );
    assert!(
        out.lines().any(|l| l.starts_with("1\t")),
        "partition numbers from the environment"
    );

    // A Python word count shipped with -file, with a combiner and counters.
    let dir = tempfile::tempdir().unwrap();
    let mapper = dir.path().join("mapper.py");
    std::fs::write(
        &mapper,
        "import sys\nfor line in sys.stdin:\n    for w in line.split():\n        print(f'{w}\\t1')\n\
         sys.stderr.write('reporter:counter:wc,lines,1\\n')\n",
    )
    .unwrap();
    let reducer = dir.path().join("reducer.py");
    std::fs::write(
        &reducer,
        "import sys\ncur, n = None, 0\nfor line in sys.stdin:\n    w, c = line.rstrip('\\n').split('\\t')\n\
         \x20   if w != cur:\n        if cur is not None: print(f'{cur}\\t{n}')\n        cur, n = w, 0\n    n += int(c)\n\
         if cur is not None: print(f'{cur}\\t{n}')\n",
    )
    .unwrap();
    let (m, r) = (mapper.display().to_string(), reducer.display().to_string());
    ok(c.cli(&[
        "job",
        "streaming",
        "-D",
        "mapreduce.job.name=pywc",
        "-input",
        "/in",
        "-output",
        "/s/py",
        "-mapper",
        "python3 mapper.py",
        "-combiner",
        "python3 reducer.py",
        "-reducer",
        "python3 reducer.py",
        "-numReduceTasks",
        "2",
        "-file",
        &m,
        "-files",
        &r,
    ]));
    let (p, _) = parts(&client, "/s/py").await;
    // Python's str.split() splits on the same Unicode whitespace as Rust's split_whitespace.
    assert_eq!(counts_of(&p), word_counts(&a));
    let list = stdout(&ok(c.cli(&["job", "list"])));
    assert!(list.contains("pywc"), "{list}");

    // A mapper that exits 1: four attempts, then a clear error with its stderr tail.
    let o = c.cli(&[
        "job",
        "streaming",
        "-input",
        "/in",
        "-output",
        "/s/fail",
        "-mapper",
        "echo reading input >&2; echo 'oops: mapper broke' >&2; exit 1",
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("failed 4 times") && err.contains("oops: mapper broke"),
        "{err}"
    );
    assert!(err.contains("exit status: 1"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    if client.exists("/s/fail").await.unwrap() {
        let (p, success) = parts(&client, "/s/fail").await;
        assert!(p.is_empty() && !success, "a failed job publishes nothing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_killed_mid_job_changes_nothing_in_the_output() {
    let mut c = cluster().await;
    let client = c.client();
    let mut rng = test_rng("executor-kill");
    let a = text(&mut rng, 300_000);
    put(&client, "/in/a.txt", a.as_bytes()).await;
    // A slow mapper, so that the kill lands while maps run.
    let o = ok(c.cli(&[
        "job",
        "streaming",
        "-detach",
        "-input",
        "/in",
        "-output",
        "/k/out",
        "-mapper",
        "sleep 1; tr -s ' \\t' '\\n\\n' | grep -v '^$' | sed 's/$/\\t1/'",
        "-reducer",
        "awk -F'\\t' '{ n[$1] += $2 } END { for (w in n) print w \"\\t\" n[w] }'",
        "-numReduceTasks",
        "2",
    ]));
    let job = job_id(stdout(&o).trim());
    basalt_wait::try_wait_for(DEADLINE, || async {
        let st = client.job_status(job).await.ok()?;
        (st.stages[0].stats.running >= 2).then_some(())
    })
    .await
    .unwrap_or_else(|e| panic!("maps never ran: {e}\n{}", c.logs()));
    // Kill an executor that runs one of them.
    let busy = client
        .executors()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.running > 0)
        .expect("a busy executor");
    let victim = c
        .executors
        .iter()
        .position(|e| e.as_ref().is_some_and(|p| p.addr.starts_with(&format!("{} ", busy.id))))
        .expect("the busy executor is one of ours");
    c.kill_executor(victim);
    let st = basalt_wait::try_wait_for(DEADLINE * 2, || async {
        let st = client.job_status(job).await.ok()?;
        st.summary.state.is_final().then_some(st)
    })
    .await
    .unwrap_or_else(|e| panic!("job did not end: {e}\n{}", c.logs()));
    assert_eq!(
        st.summary.state,
        basalt_jobs::status::JobState::Succeeded,
        "{:?}\n{}",
        st.summary.error,
        c.logs()
    );
    assert!(
        st.stages[0].stats.failed_attempts >= 1,
        "the killed executor's attempts failed: {:?}",
        st.stages
    );
    let (p, success) = parts(&client, "/k/out").await;
    assert!(success);
    let mut want = BTreeMap::new();
    for w in a.split([' ', '\t', '\n']).filter(|w| !w.is_empty()) {
        *want.entry(w.to_string()).or_insert(0u64) += 1;
    }
    assert_eq!(counts_of(&p), want);
    let status = stdout(&ok(c.cli(&["cluster", "status"])));
    assert!(status.contains("Executors: 2"), "{status}");
}
