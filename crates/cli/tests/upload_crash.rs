//! Crash safety of `upload`, by killing the process: `ocsf-firehose upload` into a folder, and
//! into a bucket of the moto server (`MOTO_ENDPOINT`) with objects large enough to be multipart
//! uploads, is killed (`SIGKILL`) at 20 seeded moments per destination, then the same command
//! is run again to the end. Three quarters of the kills fall anywhere in a run (a seeded share
//! of a whole run's duration); a quarter fall in its final flush, where the buffered partitions
//! are stored: a seeded share of the control run's flush after the run logs that it has read
//! every event (a run's duration varies too much for a share of it to hit a flush reliably). Every valid input event must be in the lake exactly
//! once, every object readable, no `.partial` file or open multipart upload left, and the second
//! run's summary must account for what the first took (`skipped`, `replayed`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
// The producer tests' lake fixtures (events, the objects' checks) and moto helpers.
#[allow(dead_code)]
#[path = "../../producer/tests/common/lake.rs"]
mod lake;
#[allow(dead_code)]
#[path = "../../producer/tests/common/moto.rs"]
mod moto;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const KILL_POINTS: usize = 20;
/// What a run logs (`OCSF_LOG=info`) once it has read and accepted every event, before its
/// final flush.
const INPUT_READ: &str = "input read; flushing";

/// The two destinations' rounds run one after the other: each kill point is a share of the
/// control run's duration, which the other test's load would distort.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Where one round uploads.
enum Destination {
    Folder(PathBuf),
    Bucket { endpoint: String, bucket: String },
}

impl Destination {
    fn args(&self) -> Vec<String> {
        match self {
            Destination::Folder(dir) => vec!["--out".into(), dir.display().to_string()],
            Destination::Bucket { endpoint, bucket } => vec![
                "--bucket".into(),
                bucket.clone(),
                "--endpoint-url".into(),
                endpoint.clone(),
                // Objects over 5 MiB go up in 5 MiB parts.
                "--part-mib".into(),
                "5".into(),
            ],
        }
    }

    /// Every object, by key.
    async fn objects(&self) -> Vec<(String, Vec<u8>)> {
        match self {
            Destination::Folder(dir) => {
                let files = lake::files_below(dir);
                for (key, _) in &files {
                    assert!(key.ends_with(".zstd.parquet"), "left behind: {key}");
                }
                files
            }
            Destination::Bucket { endpoint, bucket } => {
                let s3 = moto::s3_client(endpoint);
                let mut objects = Vec::new();
                let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
                while let Some(page) = pages.next().await {
                    for object in page.unwrap().contents() {
                        let key = object.key().unwrap().to_owned();
                        let body = s3.get_object().bucket(bucket).key(&key).send().await;
                        let bytes = body.unwrap().body.collect().await.unwrap().into_bytes();
                        objects.push((key, bytes.to_vec()));
                    }
                }
                objects
            }
        }
    }

    /// Multipart uploads begun and neither completed nor aborted.
    async fn open_uploads(&self) -> usize {
        match self {
            Destination::Folder(_) => 0,
            Destination::Bucket { endpoint, bucket } => {
                let s3 = moto::s3_client(endpoint);
                let listed = s3.list_multipart_uploads().bucket(bucket).send().await;
                listed.unwrap().uploads().len()
            }
        }
    }
}

/// The upload of `input` to `destination` with its state in `state`; `sizes`: the memory budget
/// and the object size, in MiB (small: objects are stored during the run as well as at its end).
fn upload(input: &Path, destination: &Destination, state: &Path, sizes: [&str; 2]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ocsf-firehose"));
    command
        .arg("upload")
        .arg(input)
        .args(destination.args())
        .arg("--state")
        .arg(state)
        .args(["--budget-mib", sizes[0], "--object-mib", sizes[1], "--json"])
        .args(
            lake::CLASSES
                .iter()
                .flat_map(|(uid, name)| ["--source".into(), format!("{uid}={name}")]),
        )
        .env("XDG_STATE_HOME", common::state_home())
        .env("OCSF_LOG", "ocsf_firehose=info")
        // moto's credentials, none looked for elsewhere.
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn summary(output: &Output) -> Value {
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "upload failed: {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A run started, with when it logged [`INPUT_READ`] (its stderr drained on a thread).
struct Watched {
    child: Child,
    input_read: mpsc::Receiver<Instant>,
}

impl Watched {
    fn spawn(mut command: Command) -> Self {
        let mut child = command.spawn().unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (tx, input_read) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if line.contains(INPUT_READ) {
                    let _ = tx.send(Instant::now());
                }
            }
        });
        Watched { child, input_read }
    }

    fn ended(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// Waits until `at` unless the run ends first; kills it then. Whether it ended first.
    fn kill_at(&mut self, at: Instant) -> bool {
        while Instant::now() < at && !self.ended() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let ended = self.ended();
        if !ended {
            self.child.kill().unwrap();
        }
        self.child.wait().unwrap();
        ended
    }

    /// When the run logged that it read every event; `None` if it ended without.
    fn wait_input_read(&mut self) -> Option<Instant> {
        loop {
            match self.input_read.recv_timeout(Duration::from_millis(1)) {
                Ok(at) => return Some(at),
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }
}

/// What the kill rounds of one destination saw.
#[derive(Debug, Default)]
struct Rounds {
    /// Kills after the first run had taken every event (its final flush).
    in_final_flush: usize,
    /// Runs that ended before their kill point.
    ended_first: usize,
    /// Multipart uploads a kill left open (before the second run).
    uploads_cut: usize,
    /// Events the second runs stored from the state the killed runs left.
    replayed: u64,
    /// Events landed, over every round.
    landed: usize,
}

/// Kills `KILL_POINTS` uploads of `events` at seeded moments, runs each again, and checks the
/// lake each leaves: every event of `expected` exactly once.
async fn kill_rounds(
    name: &str,
    events: &[Value],
    expected: &[String],
    sizes: [&str; 2],
    destination: impl Fn(&str) -> Destination,
    seed: u64,
) -> Rounds {
    let _alone = ONE_AT_A_TIME.lock().await;
    let work =
        std::env::temp_dir().join(format!("ocsf-upload-crash-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let input = work.join("events.jsonl");
    let mut file = std::fs::File::create(&input).unwrap();
    for event in events {
        writeln!(file, "{event}").unwrap();
    }
    drop(file);
    // The control: one whole run, for its duration.
    let control = destination("control");
    let started = Instant::now();
    let mut run = Watched::spawn(upload(&input, &control, &work.join("state-control"), sizes));
    let input_read = run
        .wait_input_read()
        .expect("the control run logs its final flush");
    let whole = run.child.wait_with_output().unwrap();
    let duration = started.elapsed();
    let flush = duration.saturating_sub(input_read - started);
    assert_eq!(summary(&whole)["skipped"], 0);
    check_exactly_once(name, &control.objects().await, expected);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut rounds = Rounds::default();
    for round in 0..KILL_POINTS {
        let destination = destination(&round.to_string());
        let state = work.join(format!("state-{round}"));
        let mut run = Watched::spawn(upload(&input, &destination, &state, sizes));
        let kill_at = if round % 4 == 0 {
            // In the final flush: the first of these as it begins, the others a share of it.
            let share = if round == 0 { 0.0 } else { 0.9 * rng.f64() };
            run.wait_input_read()
                .map_or_else(Instant::now, |at| at + flush.mul_f64(share))
        } else {
            Instant::now() + duration.mul_f64(0.02 + 0.98 * rng.f64())
        };
        if run.kill_at(kill_at) {
            rounds.ended_first += 1;
        }
        rounds.uploads_cut += destination.open_uploads().await;
        let again = summary(
            &upload(&input, &destination, &state, sizes)
                .output()
                .unwrap(),
        );
        let skipped = again["skipped"].as_u64().unwrap();
        assert_eq!(again["events"].as_u64().unwrap(), events.len() as u64);
        if skipped == events.len() as u64 && again["replayed"].as_u64().unwrap() > 0 {
            rounds.in_final_flush += 1;
        }
        rounds.replayed += again["replayed"].as_u64().unwrap();
        let objects = destination.objects().await;
        rounds.landed += check_exactly_once(&format!("{name} round {round}"), &objects, expected);
        assert_eq!(
            destination.open_uploads().await,
            0,
            "{name}: an upload left open"
        );
    }
    println!(
        "upload crash ({name}): {KILL_POINTS} kills, whole run {:.1} s (final flush {:.2} s); {} \
         in the final flush, {} ended before the kill, {} multipart uploads cut; {} events \
         stored again from the state; {} landed, each exactly once",
        duration.as_secs_f64(),
        flush.as_secs_f64(),
        rounds.in_final_flush,
        rounds.ended_first,
        rounds.uploads_cut,
        rounds.replayed,
        rounds.landed,
    );
    let _ = std::fs::remove_dir_all(&work);
    rounds
}

/// Checks the objects (layout, one class, sorted, readable) and that they hold every event of
/// `expected` once and nothing else; returns how many they hold.
fn check_exactly_once(name: &str, objects: &[(String, Vec<u8>)], expected: &[String]) -> usize {
    let counts = lake::check_objects(objects);
    let mut wanted: BTreeMap<&str, usize> = expected.iter().map(|u| (u.as_str(), 1)).collect();
    let duplicates: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        duplicates.is_empty(),
        "{name}: duplicates {:?}",
        &duplicates[..duplicates.len().min(5)]
    );
    for uid in counts.keys() {
        assert!(
            wanted.remove(uid.as_str()).is_some(),
            "{name}: unexpected {uid}"
        );
    }
    assert!(wanted.is_empty(), "{name}: {} events missing", wanted.len());
    counts.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_upload_into_a_folder_lands_every_event_once_when_run_again() {
    let events: Vec<Value> = (0..6_000).map(|i| lake::event(i, 3)).collect();
    let expected: Vec<String> = (0..6_000)
        .filter(|i| i % 100 != 50)
        .map(|i| format!("event-{i}"))
        .collect();
    let root = std::env::temp_dir().join(format!("ocsf-upload-crash-lake-{}", std::process::id()));
    let rounds = kill_rounds(
        "folder",
        &events,
        &expected,
        ["2", "1"],
        |round| Destination::Folder(root.join(round)),
        2301,
    )
    .await;
    assert!(
        rounds.in_final_flush > 0,
        "some kills fell in the final flush"
    );
    assert!(rounds.replayed > 0, "some runs left rows in their state");
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_upload_into_s3_lands_every_event_once_and_leaves_no_upload_open() {
    let Some(endpoint) = moto::endpoint() else {
        return;
    };
    let s3 = moto::s3_client(&endpoint);
    let base = format!("upload-crash-{}", uuid::Uuid::new_v4().simple());
    // One partition's events with 12 KiB of random text each: objects of 10 MiB of rows are
    // over 5 MiB of Parquet, two parts each.
    let events: Vec<Value> = (0..1_600)
        .map(|i| {
            let mut event = lake::event(12 * i, 1);
            let mut rng = fastrand::Rng::with_seed(i as u64);
            event["message"] = json!((0..12 * 1024)
                .map(|_| rng.alphanumeric())
                .collect::<String>());
            event["metadata"]["uid"] = json!(format!("event-{i}"));
            event
        })
        .collect();
    let expected: Vec<String> = (0..1_600).map(|i| format!("event-{i}")).collect();
    let bucket = |round: &str| format!("{base}-{round}");
    for round in (0..KILL_POINTS)
        .map(|r| r.to_string())
        .chain(["control".into()])
    {
        s3.create_bucket()
            .bucket(bucket(&round))
            .send()
            .await
            .unwrap();
    }
    let rounds = kill_rounds(
        "S3",
        &events,
        &expected,
        ["64", "10"],
        |round| Destination::Bucket {
            endpoint: endpoint.clone(),
            bucket: bucket(round),
        },
        2302,
    )
    .await;
    assert!(
        rounds.in_final_flush > 0,
        "some kills fell in the final flush"
    );
    assert!(
        rounds.uploads_cut > 0,
        "some kills fell inside a multipart upload"
    );
}
