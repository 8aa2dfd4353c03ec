//! A process cut off from PostgreSQL by the network and brought back
//! (issue 18), black-box. Two `wayfare serve` with every agent type on one
//! fresh database: `outer` on the host, `inner` in a network namespace of
//! its own, reaching the database only through a veth pair (host side
//! `10.77.x.y+1/30`, its side `+2`) and a TCP forwarder in this test on the
//! host side (PostgreSQL listens on 127.0.0.1 alone, and is not
//! reconfigured). Cutting the link (`ip link set <host side> down`) drops
//! every packet of `inner`'s, both ways: its connections neither answer nor
//! fail, as in a real partition. `inner`'s agents take 1.5 s, and trips
//! are submitted to it: it claims their tasks first (its own appends wake
//! it; `outer` hears of them through `NOTIFY`), so it holds tasks mid-call
//! when the link is cut.
//!
//! Twice, the link is cut until `outer` has re-claimed `inner`'s tasks and
//! ended every trip (and at least past the lease), then brought back:
//! 1. a partition: `inner`'s connections outlive the cut (the forwarder and
//!    PostgreSQL keep them) and carry its late writes once it ends;
//! 2. a partition in which the database side gives up: the forwarder closes
//!    every connection of `inner`'s while the link is down (PostgreSQL's
//!    sessions end, their transactions roll back), so `inner` comes back to
//!    dead connections and must open new ones.
//!
//! Each time: `inner` is shown offline on `outer` while cut; every trip
//! reaches `ready` through `outer`; no task `inner` held is completed
//! under its claim; its late completions are refused and counted
//! (`wayfare_task_fenced_total`), the plans unaffected; it comes back
//! healthy — `/healthz` reaches the database and it stamps its instances
//! again (shown `available` on `outer`). Then trips submitted to `inner`
//! are planned by it again, and: no agent result stored twice, no
//! completion logged twice, no gap in any trip's `seq`.
//!
//! Needs root and `ip netns` (iproute2): skipped loudly without them
//! locally, a failure under `CI=true`; PostgreSQL likewise.

mod process;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use process::{
    QUERIES, Server, all_end, assert_no_work_doubled_or_lost, counter,
    late_writes_fenced_plans_kept, plannable, submit, until_status,
};
use sqlx::Connection;
use wayfare_store::testing::TestDb;

/// Short leases and a quick node timeout, no request cache (as in the
/// other process tests): every trip runs its agents, and a silent process
/// is noticed within a second.
const ENV: [(&str, &str); 4] = [
    ("WAYFARE_ORCHESTRATOR__LEASE", "2s"),
    ("WAYFARE_ORCHESTRATOR__HEARTBEAT", "250ms"),
    ("WAYFARE_ORCHESTRATOR__NODE_TIMEOUT", "1s"),
    ("WAYFARE_CACHE__ENABLED", "false"),
];

/// The shortest cut: past the lease (2 s) and the node timeout (1 s).
const MIN_CUT: Duration = Duration::from_secs(4);

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips the test loudly, or fails it under `CI=true`.
fn unavailable(why: &str) {
    if ci() {
        panic!("the network-namespace test is required under CI=true: {why}");
    }
    eprintln!(
        "\n\x1b[1;33m!!! SKIPPING the network-namespace test: {why}.\n!!! It needs root and iproute2's `ip netns`.\x1b[0m\n"
    );
}

/// Runs `ip ARGS`; its stderr when it fails.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

/// A network namespace joined to the host by a veth pair; removed (the
/// namespace and both ends of the pair) when dropped, on failure too.
struct Netns {
    name: String,
    host_if: String,
    host_ip: Ipv4Addr,
    ns_ip: Ipv4Addr,
}

impl Netns {
    /// Why not, when this machine cannot make one (not root, no `ip netns`).
    fn create() -> Result<Netns, String> {
        if !is_root() {
            return Err("not root".into());
        }
        let id = uuid::Uuid::new_v4();
        let bytes = id.as_bytes();
        let tag = &id.simple().to_string()[..6];
        // A /30 of 10.77.0.0/16 picked at random (one in 16384): two runs
        // at once seldom meet.
        let base = [10, 77, bytes[0], bytes[1] & 0xfc];
        let netns = Netns {
            name: format!("wf-{tag}"),
            host_if: format!("wfh{tag}"),
            host_ip: Ipv4Addr::new(base[0], base[1], base[2], base[3] + 1),
            ns_ip: Ipv4Addr::new(base[0], base[1], base[2], base[3] + 2),
        };
        // From here on, Drop removes whatever was made.
        let ns_if = format!("wfn{tag}");
        let (name, host_if) = (netns.name.as_str(), netns.host_if.as_str());
        let host_cidr = format!("{}/30", netns.host_ip);
        let ns_cidr = format!("{}/30", netns.ns_ip);
        ip(&["netns", "add", name])?;
        ip(&[
            "link", "add", host_if, "type", "veth", "peer", "name", &ns_if,
        ])?;
        ip(&["link", "set", &ns_if, "netns", name])?;
        ip(&["addr", "add", &host_cidr, "dev", host_if])?;
        ip(&["link", "set", host_if, "up"])?;
        ip(&["-n", name, "addr", "add", &ns_cidr, "dev", &ns_if])?;
        ip(&["-n", name, "link", "set", &ns_if, "up"])?;
        ip(&["-n", name, "link", "set", "lo", "up"])?;
        Ok(netns)
    }

    /// What runs a program inside (it execs it: same pid).
    fn exec(&self) -> [&str; 4] {
        ["ip", "netns", "exec", &self.name]
    }

    /// Cuts the link: nothing crosses it either way.
    fn cut(&self) {
        ip(&["link", "set", &self.host_if, "down"]).expect("cut the link");
    }

    fn restore(&self) {
        ip(&["link", "set", &self.host_if, "up"]).expect("bring the link back");
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace removes the pair only once the processes
        // in it are gone (the caller kills them first), and asynchronously:
        // the host end is deleted by name.
        let _ = ip(&["link", "del", &self.host_if]);
        let _ = ip(&["netns", "del", &self.name]);
    }
}

/// A TCP forwarder, `listen` → `target`, on threads of its own (not on the
/// test's runtime), that can close every connection it carries at once.
struct Forwarder {
    addr: SocketAddr,
    open: Arc<Mutex<Vec<(TcpStream, TcpStream)>>>,
    stop: Arc<AtomicBool>,
}

impl Forwarder {
    fn start(listen: IpAddr, target: SocketAddr) -> Forwarder {
        let listener = TcpListener::bind((listen, 0)).expect("bind the forwarder");
        let addr = listener.local_addr().expect("the forwarder's address");
        let open = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (open_, stop_) = (open.clone(), stop.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop_.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
                    client.try_clone(),
                    server.try_clone(),
                    client.try_clone(),
                    server.try_clone(),
                ) else {
                    continue;
                };
                open_.lock().expect("open").push((c3, s3));
                std::thread::spawn(move || pipe(client, server));
                std::thread::spawn(move || pipe(s2, c2));
            }
        });
        Forwarder { addr, open, stop }
    }

    /// Closes every connection carried so far (both sides: PostgreSQL's
    /// sessions end); returns how many. With `abort`, the side facing the
    /// process in the namespace is reset and forgotten at once (`SO_LINGER`
    /// 0: the reset is lost on a cut link, and nothing is retransmitted
    /// once it is back — as when a firewall or the database's host drops
    /// the connection's state); without, it is closed in order (its FIN is
    /// retransmitted until the link is back).
    fn close_all(&self, abort: bool) -> usize {
        let open: Vec<(TcpStream, TcpStream)> =
            std::mem::take(&mut *self.open.lock().expect("open"));
        for (client, server) in &open {
            if abort {
                let _ = socket2::SockRef::from(client).set_linger(Some(Duration::ZERO));
            }
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
        open.len()
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.close_all(false);
        // Wakes the accept loop, which then sees `stop`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// Copies `from` → `to` until either ends, then ends the other direction.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// Where `url`'s `host:port` is (after the scheme and the user).
fn authority(url: &str) -> std::ops::Range<usize> {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let userinfo = rest[..end].rfind('@').map_or(0, |i| i + 1);
    scheme_end + userinfo..scheme_end + end
}

/// `url`'s `host:port` (PostgreSQL's port when it names none).
fn host_port(url: &str) -> String {
    let host_port = &url[authority(url)];
    if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    }
}

/// `url` with `addr` for its `host:port`.
fn with_host_port(url: &str, addr: SocketAddr) -> String {
    let at = authority(url);
    format!("{}{addr}{}", &url[..at.start], &url[at.end..])
}

/// The tasks the process with `pid` holds running (its node's leases),
/// with the epoch of its claim.
async fn held_by(url: &str, pid: u32) -> Vec<(String, i64)> {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query_as(
        "SELECT task_id::text, claim_epoch FROM agent_tasks WHERE status = 'running'
           AND lease_owner IN (SELECT node_id FROM agent_instances WHERE pid = $1)",
    )
    .bind(i64::from(pid))
    .fetch_all(&mut conn)
    .await
    .expect("query")
}

/// How many of `held` were completed under that very claim (nobody
/// claimed them since: the claimant's completion is the one stored).
async fn completed_under(url: &str, held: &[(String, i64)]) -> usize {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    let mut n = 0;
    for (task, epoch) in held {
        let done: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM agent_tasks WHERE task_id::text = $1
               AND claim_epoch = $2 AND status = 'completed')",
        )
        .bind(task)
        .bind(epoch)
        .fetch_one(&mut conn)
        .await
        .expect("query");
        n += usize::from(done);
    }
    n
}

/// Submits `n` trips to `inner` and waits until it holds some of their
/// tasks mid-call; returns the trips and the tasks it held.
async fn until_busy(
    inner: &Server,
    url: &str,
    n: usize,
) -> (Vec<(String, bool)>, Vec<(String, i64)>) {
    let mut queries = QUERIES.iter().cycle();
    let mut trips = Vec::new();
    for query in queries.by_ref().take(n) {
        trips.push((submit(inner, query).await, plannable(query)));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    // The other process claims too, and faster (no added latency): while
    // this one holds nothing, one more trip each second gives it a turn.
    let mut more_at = Instant::now() + Duration::from_secs(1);
    loop {
        let held = held_by(url, inner.pid()).await;
        if !held.is_empty() {
            return (trips, held);
        }
        assert!(
            Instant::now() < deadline,
            "the process in the namespace runs nothing:\n{}",
            inner.log()
        );
        if Instant::now() >= more_at
            && let Some(query) = queries.next()
        {
            trips.push((submit(inner, query).await, plannable(query)));
            more_at += Duration::from_secs(1);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What becomes of the connections of the process cut off.
#[derive(Debug, Clone, Copy)]
enum Connections {
    /// Kept by the database side: they carry its late writes.
    Kept,
    /// Closed by the database side while the link is down (in order).
    Closed,
    /// Forgotten by the database side without a word.
    Aborted,
}

struct Cut {
    connections: Connections,
    held: usize,
    lasted: Duration,
    offline_after: Duration,
    fenced: f64,
    back_after: Duration,
}

/// One cut: the link down while `inner` holds tasks, until `outer` has
/// ended every trip (at least [`MIN_CUT`]); the forwarder's connections
/// meanwhile as `connections` says. Then the link back, and
/// `inner`'s late writes fenced (more than `fenced_before`), the plans
/// kept, `inner` online again.
#[allow(clippy::too_many_arguments)]
async fn cut_and_restore(
    netns: &Netns,
    forwarder: &Forwarder,
    connections: Connections,
    inner: &Server,
    outer: &Server,
    url: &str,
    fenced_before: f64,
    trips_out: &mut Vec<(String, bool)>,
) -> Cut {
    let (trips, _) = until_busy(inner, url, 8).await;
    netns.cut();
    let cut_at = Instant::now();
    // What it holds as it is cut off (mid-call: 1.5 s each).
    let held = held_by(url, inner.pid()).await;
    assert!(!held.is_empty(), "inner held nothing at the cut");
    if !matches!(connections, Connections::Kept) {
        let closed = forwarder.close_all(matches!(connections, Connections::Aborted));
        assert!(closed > 0, "inner had no connection to close");
    }
    let offline_after = until_status(outer, inner.pid(), "offline", Duration::from_secs(15)).await;
    // `outer` re-claims inner's tasks and ends every trip while inner
    // cannot reach the database.
    let plans: BTreeMap<String, serde_json::Value> =
        all_end(outer, &trips, Duration::from_secs(60)).await;
    assert_eq!(
        completed_under(url, &held).await,
        0,
        "a task inner held at the cut was completed under its claim: {held:?}"
    );
    if let Some(rest) = MIN_CUT.checked_sub(cut_at.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    let lasted = cut_at.elapsed();
    netns.restore();
    let restored_at = Instant::now();
    // Its late writes are refused and counted, the plans kept.
    let deadline = Instant::now() + Duration::from_secs(30);
    while counter(inner, "wayfare_task_fenced_total").await <= fenced_before {
        assert!(
            Instant::now() < deadline,
            "nothing more of inner's was fenced after the cut:\n{}",
            inner.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    late_writes_fenced_plans_kept(inner, outer, &plans, url).await;
    // All of them by now (the call above lets the rest end).
    let fenced = counter(inner, "wayfare_task_fenced_total").await;
    // Back: it stamps its instances again, and its health check reaches
    // the database.
    until_status(outer, inner.pid(), "available", Duration::from_secs(30)).await;
    let health = inner.http.get("/healthz").await.expect("/healthz");
    assert_eq!(health.status, 200, "{}", health.text());
    let back_after = restored_at.elapsed();
    trips_out.extend(trips);
    Cut {
        connections,
        held: held.len(),
        lasted,
        offline_after,
        fenced,
        back_after,
    }
}

#[tokio::test]
async fn a_server_cut_off_from_the_database_and_brought_back_loses_and_doubles_nothing() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let netns = match Netns::create() {
        Ok(netns) => netns,
        Err(why) => {
            db.drop_database().await;
            return unavailable(&why);
        }
    };
    let pg: SocketAddr = host_port(&db.url)
        .to_socket_addrs()
        .expect("PostgreSQL's address")
        .next()
        .expect("an address");
    let forwarder = Forwarder::start(IpAddr::V4(netns.host_ip), pg);
    let inner_url = with_host_port(&db.url, forwarder.addr);

    let dir = tempfile::tempdir().expect("tempdir");
    let outer = Server::start(&db.url, dir.path(), &ENV);
    let mut env = ENV.to_vec();
    // Slow enough to be cut off mid-call.
    env.push(("WAYFARE_FAULTS__ALL__ADDED_LATENCY", "1500ms"));
    let listen = format!("{}:0", netns.ns_ip);
    env.push(("WAYFARE_LISTEN", &listen));
    let inner = Server::start_wrapped(&netns.exec(), &["serve"], &inner_url, dir.path(), &env);
    until_status(&outer, inner.pid(), "available", Duration::from_secs(15)).await;

    let mut trips = Vec::new();
    let mut cuts: Vec<Cut> = Vec::new();
    for connections in [Connections::Kept, Connections::Closed, Connections::Aborted] {
        let fenced_before = cuts.last().map_or(0.0, |c| c.fenced);
        let cut = cut_and_restore(
            &netns,
            &forwarder,
            connections,
            &inner,
            &outer,
            &db.url,
            fenced_before,
            &mut trips,
        )
        .await;
        cuts.push(cut);
    }

    // Back for good: it plans the trips submitted to it again, and serves
    // them.
    let (later, held) = until_busy(&inner, &db.url, 8).await;
    all_end(&inner, &later, Duration::from_secs(60)).await;
    let completed_after = completed_under(&db.url, &held).await;
    assert!(
        completed_after > 0,
        "inner completes none of its tasks after the cuts: {held:?}\n{}",
        inner.log()
    );
    trips.extend(later);
    // And it hears the other process's appends again.
    let heard = counter(&inner, "wayfare_notifications_received_total").await;
    let last = vec![(submit(&outer, QUERIES[0]).await, plannable(QUERIES[0]))];
    let deadline = Instant::now() + Duration::from_secs(15);
    while counter(&inner, "wayfare_notifications_received_total").await <= heard {
        assert!(
            Instant::now() < deadline,
            "inner hears nothing of outer's appends after the cuts:\n{}",
            inner.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    all_end(&outer, &last, Duration::from_secs(60)).await;
    trips.extend(last);
    let fenced_outer = counter(&outer, "wayfare_task_fenced_total").await;
    assert_no_work_doubled_or_lost(&db.url).await;
    let ready = process::scalar(
        &db.url,
        "SELECT COUNT(*) FROM trip_state WHERE status = 'ready'",
    )
    .await;
    let cuts: Vec<String> = cuts
        .iter()
        .map(|c| {
            format!(
                "connections {:?}: {} tasks held, link down {:.1?}, offline after {:.1?}, \
                 {} fenced so far, back online {:.1?} after",
                c.connections, c.held, c.lasted, c.offline_after, c.fenced, c.back_after
            )
        })
        .collect();
    eprintln!(
        "[processes_netns] two serve, one in a network namespace: {} trips, {ready} ready; \
         {}; then {completed_after} of {} tasks it held completed by it; {fenced_outer} \
         fenced on the other server; lost 0, duplicated 0",
        trips.len(),
        cuts.join("; "),
        held.len(),
    );
    inner.kill_9();
    outer.kill_9();
    drop(forwarder);
    drop(netns);
    db.drop_database().await;
}
