//! End to end against a real Kafka protocol server: the `sluice` binary runs
//! `-f job.sql` against tansu (a Kafka-compatible broker), started here on a
//! free loopback port with in-memory storage. Skipped, with a notice, when no
//! `tansu` is on the PATH (install it with
//! `cargo install tansu --version 0.6.0 --locked --no-default-features --features dynostore`).
//! tansu has no transactions; nothing here needs them.

mod kafka_support;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kafka_support::{Kafka, Rec};

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// A tansu broker, killed when dropped.
struct Broker {
    child: Child,
    bootstrap: String,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_broker(tansu: &Path) -> Broker {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("tcp://127.0.0.1:{port}");
    let child = Command::new(tansu)
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ])
        .args(["--storage-engine", "memory://tansu/"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tansu starts");
    let broker = Broker {
        child,
        bootstrap: format!("127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(&broker.bootstrap).is_err() {
        assert!(
            Instant::now() < deadline,
            "tansu did not listen on {}",
            broker.bootstrap
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    broker
}

/// The `sluice` binary of this build (built on demand).
fn sluice_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join("sluice");
    if !bin.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(cargo)
            .args(["build", "-p", "sluice-repl", "--bin", "sluice"])
            .status()
            .expect("cargo build runs");
        assert!(status.success(), "building the sluice binary failed");
    }
    bin
}

/// Runs `sluice -f file` to its end (at most `limit`), returning its output.
fn run_file(file: &Path, limit: Duration) -> (bool, String) {
    let mut child = Command::new(sluice_binary())
        .arg("-f")
        .arg(file)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sluice starts");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sluice_binary_against_tansu() {
    let Some(tansu) = on_path("tansu") else {
        println!(
            "NOTICE: skipping the tansu end-to-end test: no `tansu` on the PATH \
             (cargo install tansu --version 0.6.0 --locked --no-default-features --features dynostore)"
        );
        return;
    };
    let broker = start_broker(&tansu);
    let k = Kafka::at(&broker.bootstrap);
    let input = k.topic("e2e-in", 2).await;
    let output = k.topic("e2e-out", 2).await;
    let windows = k.topic("e2e-windows", 1).await;
    k.produce(
        &input,
        &[
            Rec::value(0, r#"{"id":1,"name":"alice","price":10.5}"#).at(1_000),
            Rec::value(1, r#"{"id":2,"name":"bob","price":3}"#).at(1_500),
            Rec::value(0, r#"{"id":3,"name":"carol","price":7.25}"#).at(2_100),
        ],
    )
    .await;
    let dir = std::env::temp_dir().join(format!("sluice-tansu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let job = dir.join("job.sql");
    let b = &broker.bootstrap;
    std::fs::write(
        &job,
        format!(
            "CREATE TABLE src (id INT, name STRING, price DOUBLE,
               ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
               WATERMARK FOR ts AS ts)
             WITH ('connector' = 'kafka', 'topic' = '{input}', 'properties.bootstrap.servers' = '{b}',
               'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
               'scan.bounded.mode' = 'latest-offset');
             CREATE TABLE dst (id INT, label STRING, total DOUBLE)
             WITH ('connector' = 'kafka', 'topic' = '{output}', 'properties.bootstrap.servers' = '{b}',
               'key.format' = 'json', 'key.fields' = 'id', 'value.format' = 'json');
             CREATE TABLE per_second (window_start TIMESTAMP(3), n BIGINT,
               PRIMARY KEY (window_start) NOT ENFORCED)
             WITH ('connector' = 'upsert-kafka', 'topic' = '{windows}', 'properties.bootstrap.servers' = '{b}',
               'key.format' = 'json', 'value.format' = 'json');
             INSERT INTO dst SELECT id, UPPER(name), price * 2 FROM src;
             INSERT INTO per_second SELECT window_start, COUNT(*)
               FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND))
               GROUP BY window_start, window_end;"
        ),
    )
    .expect("write job");
    let (ok, out) = run_file(&job, Duration::from_secs(60));
    assert!(ok, "sluice -f failed:\n{out}");

    let mut got: Vec<(String, String)> = k
        .read_all(&output)
        .into_iter()
        .map(|g| (g.key.unwrap_or_default(), g.value.unwrap_or_default()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                r#"{"id":1}"#.to_string(),
                r#"{"id":1,"label":"ALICE","total":21.0}"#.to_string()
            ),
            (
                r#"{"id":2}"#.to_string(),
                r#"{"id":2,"label":"BOB","total":6.0}"#.to_string()
            ),
            (
                r#"{"id":3}"#.to_string(),
                r#"{"id":3,"label":"CAROL","total":14.5}"#.to_string()
            ),
        ]
    );
    let per_window: Vec<String> = k
        .read_all(&windows)
        .into_iter()
        .map(|g| {
            format!(
                "{} {}",
                g.key.unwrap_or_default(),
                g.value.unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        per_window,
        vec![
            r#"{"window_start":"1970-01-01 00:00:01"} {"window_start":"1970-01-01 00:00:01","n":2}"#,
            r#"{"window_start":"1970-01-01 00:00:02"} {"window_start":"1970-01-01 00:00:02","n":1}"#,
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_to_sink_example_against_tansu() {
    let Some(tansu) = on_path("tansu") else {
        println!("NOTICE: skipping the tansu end-to-end test: no `tansu` on the PATH");
        return;
    };
    let broker = start_broker(&tansu);
    let k = Kafka::at(&broker.bootstrap);
    let orders = k.topic("orders", 2).await;
    let big = k.topic("big_orders", 2).await;
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("sql-examples/kafka-source-to-sink.sql"),
    )
    .expect("example")
    .replace("127.0.0.1:9092", &broker.bootstrap)
    .replace("'topic' = 'orders'", &format!("'topic' = '{orders}'"))
    .replace("'topic' = 'big_orders'", &format!("'topic' = '{big}'"));
    let dir = std::env::temp_dir().join(format!("sluice-tansu-ex-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("example.sql");
    std::fs::write(&file, example).expect("write");
    // An unbounded job: let it run, then stop it the way a user does.
    let child = Command::new(sluice_binary())
        .arg("-f")
        .arg(&file)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sluice starts");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let out = child.wait_with_output().expect("sluice stops");
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    // 130: stopped by a signal, as after Ctrl-C; the jobs were cancelled cleanly.
    assert_eq!(
        out.status.code(),
        Some(130),
        "sluice -f did not stop cleanly:\n{text}"
    );
    assert!(!text.contains("[ERROR]"), "{text}");
    let written = k.read_all(&big);
    assert!(!written.is_empty(), "no big orders written:\n{text}");
    assert!(k.read_all(&orders).len() > written.len());
    let _ = std::fs::remove_dir_all(&dir);
}
