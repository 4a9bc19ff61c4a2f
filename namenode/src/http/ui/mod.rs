//! The web UI on the namenode's HTTP port: server-rendered pages under `/ui/` (`/` redirects there)
//! and `/ui/api/status`, the JSON the pages' script polls every 2 s to refresh their live values
//! without a reload ([`status`]). Nothing is fetched from elsewhere: the CSS and the script are inline
//! ([`page`]).
//!
//! Every page reads the namenode through the operations the gRPC services answer with: the cluster
//! status (overview, datanodes, healing), `GetFileInfo` / `ListStatus` / `GetBlockLocations` (files),
//! `Fsck` (healing lists) and the job service's views (jobs). A page therefore shows what `basalt
//! cluster status`, `basalt fs` and `basalt job` show, including their errors (on a follower: where
//! the leader is).
//!
//! - [`overview`]: version, uptime, the metadata members, safe mode, capacity, namespace sizes.
//! - [`datanodes`]: each datanode's state, capacity bar, blocks, last heartbeat, HTTP link.
//! - [`files`]: a directory listing, or a file's blocks with their replicas' hosts and a download link.
//! - [`healing`]: under-replicated, missing and corrupt counts, copies in flight, the files concerned.
//! - [`jobs`]: jobs with their state and progress.

mod page;
mod status;

use crate::scheduler::JobScheduler;
use crate::scheduler::service::JobService;
use crate::service::{ClientService, Core};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use basalt_proto::pb;
use basalt_proto::pb::client_protocol_server::ClientProtocol;
use page::{bar, bytes, cards, esc, layout, url};
use std::fmt::Write;
use std::sync::Arc;

/// What the pages read through.
#[derive(Clone)]
struct Ui {
    core: Arc<Core>,
    client: Arc<ClientService>,
    jobs: Arc<JobService>,
}

/// Entries a directory page lists (the rest: "more entries" and a link to the next page).
const LIST_LIMIT: u32 = 1000;
/// Files an fsck of the healing page walks.
const FSCK_LIMIT: u32 = 10_000;

/// The UI's routes, for the namenode's router.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(core: Arc<Core>, sched: Arc<JobScheduler>) -> Router<S> {
    let ui = Ui {
        client: Arc::new(ClientService::new(core.clone())),
        jobs: Arc::new(JobService::new(core.clone(), sched)),
        core,
    };
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/ui/") }))
        .route("/ui", get(|| async { Redirect::temporary("/ui/") }))
        .route("/ui/", get(overview))
        .route("/ui/datanodes", get(datanodes))
        .route("/ui/files", get(files))
        .route("/ui/healing", get(healing))
        .route("/ui/jobs", get(jobs))
        .route("/ui/api/status", get(api_status))
        .with_state(ui)
}

async fn api_status(State(ui): State<Ui>) -> Json<status::Live> {
    Json(status::snapshot(&ui.core).1)
}

/// A page that could not be read: the service's error, as the CLI would show it.
fn failed(current: &str, title: &str, e: &tonic::Status) -> Response {
    let code = match e.code() {
        tonic::Code::NotFound => StatusCode::NOT_FOUND,
        tonic::Code::InvalidArgument => StatusCode::BAD_REQUEST,
        tonic::Code::PermissionDenied => StatusCode::FORBIDDEN,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    let body = format!("<p class=\"dead\" id=\"error\">{}</p>", esc(e.message()));
    (code, Html(layout(current, title, &body))).into_response()
}

async fn overview(State(ui): State<Ui>) -> Html<String> {
    let (st, live) = status::snapshot(&ui.core);
    let mut body = cards(&[
        ("Version", esc(env!("CARGO_PKG_VERSION"))),
        ("Uptime", live.span("uptime")),
        ("Safe mode", live.span("safe_mode")),
        ("Live datanodes", live.span("live_datanodes")),
        ("Dead datanodes", live.span("dead_datanodes")),
        ("Files", live.span("files")),
        ("Directories", live.span("directories")),
        ("Blocks", live.span("blocks")),
    ]);
    let _ = write!(
        body,
        "<h2>Capacity</h2><p>{} {} of blocks in {} ({} remaining; the bar: the disks' use)</p>",
        page::bar_filled("capacity", live.bars.get("capacity").copied().unwrap_or(0)),
        live.span("capacity_used"),
        live.span("capacity_total"),
        live.span("capacity_remaining"),
    );
    body.push_str(
        "<h2>Metadata members</h2><table id=\"members\"><tr><th>Id</th><th>Address</th><th>Role</th>\
         <th class=\"n\">Term</th><th class=\"n\">Commit</th><th class=\"n\">Applied</th></tr>",
    );
    for m in &st.members {
        let k = |f: &str| live.span(&format!("m-{}-{f}", m.id));
        let me = if m.self_reported { " (this member)" } else { "" };
        let _ = write!(
            body,
            "<tr><td>{}{me}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            m.id,
            esc(&m.addr),
            k("role"),
            k("term"),
            k("commit"),
            k("applied"),
        );
    }
    body.push_str("</table><p class=\"muted\">Metrics: <a href=\"/metrics\">/metrics</a></p>");
    Html(layout("/ui/", "Overview", &body))
}

async fn datanodes(State(ui): State<Ui>) -> Html<String> {
    let (st, live) = status::snapshot(&ui.core);
    let mut body = cards(&[
        ("Live", live.span("live_datanodes")),
        ("Dead", live.span("dead_datanodes")),
        ("Decommissioning", live.span("decommissioning")),
        ("Capacity used", live.span("capacity_used")),
    ]);
    body.push_str(
        "<h2>Datanodes</h2><table id=\"datanodes\"><tr><th>Id</th><th>Address</th><th>Host</th><th>Rack</th>\
         <th>State</th><th>Capacity</th><th class=\"n\">Blocks</th><th>Last heartbeat</th>\
         <th class=\"n\">Transfers</th><th>HTTP</th></tr>",
    );
    for d in &st.datanodes {
        let info = d.info.clone().unwrap_or_default();
        let k = |f: &str| live.span(&format!("dn-{}-{f}", info.id));
        let class = if d.live { "live" } else { "dead" };
        let http = if d.http_addr.is_empty() {
            "-".to_string()
        } else {
            format!("<a href=\"http://{0}/metrics\">{0}</a>", esc(&d.http_addr))
        };
        let _ = write!(
            body,
            "<tr class=\"datanode\" id=\"dn-{id}\"><td>{id}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"{class}\">{}</td><td class=\"cap\">{} {}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{http}</td></tr>",
            esc(&info.addr),
            esc(&info.host),
            esc(if info.rack.is_empty() { "-" } else { &info.rack }),
            k("state"),
            page::bar_filled(
                &format!("dn-{}", info.id),
                live.bars.get(&format!("dn-{}", info.id)).copied().unwrap_or(0)
            ),
            k("used"),
            k("blocks"),
            k("heartbeat"),
            k("transfers"),
            id = info.id,
        );
    }
    body.push_str("</table>");
    Html(layout("/ui/datanodes", "Datanodes", &body))
}

#[derive(serde::Deserialize)]
struct FilesQuery {
    path: Option<String>,
    after: Option<String>,
}

/// `/a/b/c` as links to `/`, `/a`, `/a/b` and the name `c`.
fn breadcrumbs(path: &str) -> String {
    let mut out = String::from("<p id=\"breadcrumbs\"><a href=\"/ui/files?path=/\">/</a>");
    let mut at = String::new();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for (i, p) in parts.iter().enumerate() {
        at.push('/');
        at.push_str(p);
        if i + 1 == parts.len() {
            let _ = write!(out, " {} ", esc(p));
        } else {
            let _ = write!(out, " <a href=\"/ui/files?path={}\">{}</a> /", url(&at), esc(p));
        }
    }
    out.push_str("</p>");
    out
}

async fn files(State(ui): State<Ui>, Query(q): Query<FilesQuery>) -> Response {
    let path = q.path.filter(|p| !p.is_empty()).unwrap_or_else(|| "/".into());
    let title = format!("Files: {path}");
    let info = ui
        .client
        .get_file_info(ui_request(pb::GetFileInfoRequest { path: path.clone() }))
        .await;
    let st = match info {
        Ok(r) => r.into_inner().status.unwrap_or_default(),
        Err(e) => return failed("/ui/files", &title, &e),
    };
    let body = if st.is_dir {
        directory(&ui, &path, q.after.unwrap_or_default()).await
    } else {
        file(&ui, &path, &st).await
    };
    match body {
        Ok(body) => Html(layout("/ui/files", &title, &format!("{}{body}", breadcrumbs(&path)))).into_response(),
        Err(e) => failed("/ui/files", &title, &e),
    }
}

async fn directory(ui: &Ui, path: &str, after: String) -> Result<String, tonic::Status> {
    let list = ui
        .client
        .list_status(ui_request(pb::ListStatusRequest {
            path: path.to_string(),
            start_after: after,
            limit: LIST_LIMIT,
        }))
        .await?
        .into_inner();
    let mut body = String::from(
        "<table id=\"listing\"><tr><th>Name</th><th>Owner</th><th>Group</th><th>Mode</th><th class=\"n\">Size</th>\
         <th class=\"n\">Replication</th><th class=\"n\">Block size</th><th>Modified (UTC)</th></tr>",
    );
    for e in &list.entries {
        let name = e.path.rsplit('/').next().unwrap_or(&e.path);
        let full = if path == "/" {
            format!("/{name}")
        } else {
            format!("{path}/{name}")
        };
        let (size, rf, bs) = if e.is_dir {
            ("-".to_string(), "-".to_string(), "-".to_string())
        } else {
            (bytes(e.length), e.replication.to_string(), bytes(e.block_size))
        };
        let open = if e.under_construction {
            " <span class=\"warn\">(open)</span>"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<tr class=\"entry\"><td><a class=\"name\" href=\"/ui/files?path={}\">{}{}</a>{open}</td><td>{}</td><td>{}</td>\
             <td><code>{}</code></td><td class=\"n\">{size}</td><td class=\"n\">{rf}</td><td class=\"n\">{bs}</td><td>{}</td></tr>",
            url(&full),
            esc(name),
            if e.is_dir { "/" } else { "" },
            esc(&e.owner),
            esc(&e.group),
            page::mode(e.mode, e.is_dir),
            page::time(e.mtime_ms),
        );
    }
    body.push_str("</table>");
    if list.entries.is_empty() {
        body.push_str("<p class=\"muted\">(empty directory)</p>");
    }
    if list.has_more
        && let Some(last) = list.entries.last()
    {
        let name = last.path.rsplit('/').next().unwrap_or(&last.path);
        let _ = write!(
            body,
            "<p><a href=\"/ui/files?path={}&after={}\">more entries…</a></p>",
            url(path),
            url(name)
        );
    }
    Ok(body)
}

async fn file(ui: &Ui, path: &str, st: &pb::FileStatus) -> Result<String, tonic::Status> {
    let located = ui
        .client
        .get_block_locations(ui_request(pb::GetBlockLocationsRequest {
            path: path.to_string(),
            ..Default::default()
        }))
        .await?
        .into_inner();
    let mut body = format!(
        "<table id=\"file\"><tr><th>Size</th><td>{}</td></tr><tr><th>Owner</th><td>{}:{}</td></tr>\
         <tr><th>Mode</th><td><code>{}</code></td></tr><tr><th>Replication</th><td>{}</td></tr>\
         <tr><th>Block size</th><td>{}</td></tr><tr><th>Modified (UTC)</th><td>{}</td></tr>\
         <tr><th>State</th><td>{}</td></tr></table>\
         <p><a id=\"download\" href=\"/webhdfs/v1{}?op=OPEN\">Download</a></p>",
        bytes(st.length),
        esc(&st.owner),
        esc(&st.group),
        page::mode(st.mode, false),
        st.replication,
        bytes(st.block_size),
        page::time(st.mtime_ms),
        if st.under_construction {
            "open for writing"
        } else {
            "closed"
        },
        url(path),
    );
    body.push_str(
        "<h2>Blocks</h2><table id=\"blocks\"><tr><th class=\"n\">#</th><th>Block</th><th class=\"n\">Generation</th>\
         <th class=\"n\">Offset</th><th class=\"n\">Length</th><th>Replicas</th></tr>",
    );
    for (i, b) in located.blocks.iter().enumerate() {
        let eb = b.block.unwrap_or_default();
        let hosts: Vec<String> = b
            .locations
            .iter()
            .map(|d| {
                format!(
                    "<span class=\"replica\" title=\"datanode {}\">{} ({})</span>",
                    d.id,
                    esc(&d.addr),
                    esc(if d.host.is_empty() { "?" } else { &d.host })
                )
            })
            .collect();
        let hosts = if hosts.is_empty() {
            "<span class=\"dead\">no live replica</span>".to_string()
        } else {
            hosts.join(", ")
        };
        let _ = write!(
            body,
            "<tr class=\"block\"><td class=\"n\">{i}</td><td><code>blk_{}</code></td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td>{hosts}</td></tr>",
            eb.block_id, eb.gen_stamp, b.offset, eb.length,
        );
    }
    body.push_str("</table>");
    Ok(body)
}

async fn healing(State(ui): State<Ui>) -> Html<String> {
    let (_, live) = status::snapshot(&ui.core);
    let mut body = cards(&[
        ("Under-replicated", live.span("under_replicated")),
        ("Missing", live.span("missing")),
        ("Corrupt", live.span("corrupt")),
        ("Copies in flight", live.span("copies_in_flight")),
        ("Copies done", live.span("copies_done")),
        ("Open files", live.span("open_files")),
        ("Lease recoveries", live.span("lease_recoveries")),
    ]);
    body.push_str("<p class=\"muted\">Under-replicated and missing as of the replication monitor's last pass.</p>");
    let fsck = ui
        .client
        .fsck(ui_request(pb::FsckRequest {
            path: "/".into(),
            start_after: String::new(),
            limit: FSCK_LIMIT,
        }))
        .await;
    match fsck {
        Ok(r) => {
            let r = r.into_inner();
            let sick: Vec<&pb::FsckFile> = r
                .files
                .iter()
                .filter(|f| f.under_replicated + f.missing + f.corrupt > 0)
                .collect();
            let _ = write!(
                body,
                "<h2>Files needing healing</h2><p>fsck of {} files, {} blocks: {} under-replicated, {} missing, {} corrupt{}</p>",
                r.total_files,
                r.total_blocks,
                r.under_replicated,
                r.missing,
                r.corrupt,
                if r.next_after.is_empty() {
                    ""
                } else {
                    " (first files only)"
                },
            );
            body.push_str(
                "<table id=\"sick\"><tr><th>File</th><th class=\"n\">Replication</th><th class=\"n\">Blocks</th>\
                 <th class=\"n\">Under-replicated</th><th class=\"n\">Missing</th><th class=\"n\">Corrupt</th></tr>",
            );
            for f in &sick {
                let _ = write!(
                    body,
                    "<tr><td><a href=\"/ui/files?path={}\">{}</a></td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                     <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    url(&f.path),
                    esc(&f.path),
                    f.replication,
                    f.blocks,
                    f.under_replicated,
                    f.missing,
                    f.corrupt
                );
            }
            body.push_str("</table>");
            if sick.is_empty() {
                body = body.replace("<table id=\"sick\">", "<table id=\"sick\" hidden>");
                body.push_str("<p class=\"live\" id=\"healthy\">Every block has its replicas.</p>");
            }
        }
        Err(e) => {
            let _ = write!(body, "<p class=\"dead\" id=\"error\">fsck: {}</p>", esc(e.message()));
        }
    }
    Html(layout("/ui/healing", "Healing", &body))
}

async fn jobs(State(ui): State<Ui>) -> Response {
    let views = match ui.jobs.views() {
        Ok(v) => v,
        Err(e) => return failed("/ui/jobs", "Jobs", &e.to_status()),
    };
    let mut body = String::from(
        "<table id=\"jobs\"><tr><th class=\"n\">Id</th><th>Name</th><th>User</th><th>State</th><th>Progress</th>\
         <th>Submitted (UTC)</th><th>Finished (UTC)</th><th>Output</th></tr>",
    );
    let mut views = views;
    views.sort_by_key(|v| std::cmp::Reverse(v.summary.id.0));
    for v in &views {
        let s = &v.summary;
        let (done, total) = v.stages.iter().fold((0u64, 0u64), |(d, t), st| {
            (d + u64::from(st.stats.done), t + u64::from(st.stats.tasks))
        });
        let stages: Vec<String> = v
            .stages
            .iter()
            .map(|st| format!("{} {}/{}", st.kind.name(), st.stats.done, st.stats.tasks))
            .collect();
        let error = s
            .error
            .as_deref()
            .map(|e| format!("<div class=\"dead\">{}</div>", esc(e)))
            .unwrap_or_default();
        let _ = write!(
            body,
            "<tr class=\"job\"><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}{error}</td><td>{} {done}/{total} tasks \
             <span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td><a href=\"/ui/files?path={}\">{}</a></td></tr>",
            s.id.0,
            esc(&s.name),
            esc(if s.user.is_empty() { "-" } else { &s.user }),
            s.state.name(),
            bar(&format!("job-{}", s.id.0), done, total),
            esc(&stages.join(", ")),
            page::time(s.submitted_ms),
            page::time(s.finished_ms),
            url(&s.output),
            esc(&s.output),
        );
    }
    body.push_str("</table>");
    if views.is_empty() {
        body.push_str("<p class=\"muted\">No jobs yet (basalt job submit …).</p>");
    }
    Html(layout("/ui/jobs", "Jobs", &body)).into_response()
}

/// The user the pages browse as: Hadoop's static web user (`hadoop.http.staticuser.user`,
/// `dr.who`), so a page shows what any user may see and nothing more.
const UI_USER: &str = "dr.who";

/// A service request made by a page, carrying the web user as its caller.
fn ui_request<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    basalt_proto::caller::set_user(request.metadata_mut(), &basalt_proto::caller::user_value(UI_USER));
    request
}
