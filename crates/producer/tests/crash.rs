//! Crash safety of the spool, by killing: an application using the producer with a spool
//! (`crash_child_application`, this test binary run again as a child process) sends events to a
//! Firehose Direct PUT stream of the moto server at `MOTO_ENDPOINT`, logging each event `send`
//! accepted; it is killed (`SIGKILL`) at seeded moments (after a seeded number of accepted
//! events, or during the final flush), restarted with the same spool and nothing new to send,
//! and the bucket is read back: every accepted event must be there at least once (the streams do
//! not deduplicate); duplicates are counted and printed. The same into a Kinesis data stream,
//! read back as a KCL consumer reads it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ocsf_firehose_producer::spool::{Durability, SpoolConfig};
use ocsf_firehose_producer::{ProducerBuilder, ProducerConfig, SendError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use common::moto::{
    bucket_objects, client, endpoint, firehose_to_bucket, kcl_read, kinesis_stream, s3_client,
};
use common::proxy::{fault_proxy, serialising_proxy, Faults};

/// What the child does: set in its environment as JSON.
const CHILD: &str = "OCSF_CRASH_CHILD";
const EVENTS: usize = 3_000;
const KILL_POINTS: usize = 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Spec {
    endpoint: String,
    stream: String,
    /// A Kinesis data stream (else a Firehose delivery stream).
    kinesis: bool,
    /// The lake writer instead (feature `lake`).
    lake: Option<Lake>,
    /// Tasks sending at once.
    senders: usize,
    /// `None`: the control, without a spool.
    spool: Option<PathBuf>,
    round: usize,
    events: usize,
    log: PathBuf,
}

/// Where a lake writer writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Lake {
    /// A folder.
    Dir(PathBuf),
    /// A bucket of the moto server.
    S3(String),
}

impl Lake {
    /// Round `round`'s own folder or bucket.
    fn of_round(&self, round: usize) -> Lake {
        match self {
            Lake::Dir(root) => Lake::Dir(root.join(round.to_string())),
            Lake::S3(bucket) => Lake::S3(format!("{bucket}-{round}")),
        }
    }
}

/// The lake writer into `lake` (feature `lake`), judging with the default engine: small
/// objects, so that kills fall between objects stored during the run too; in S3, each object a
/// multipart upload, so that kills fall inside them.
#[cfg(feature = "lake")]
fn lake_builder(lake: &Lake, endpoint: &str) -> ProducerBuilder {
    let object_bytes = match lake {
        Lake::Dir(_) => 256 * 1024,
        // Over 5 MiB of Parquet: two parts.
        Lake::S3(_) => 8 * 1024 * 1024,
    };
    let config = ocsf_firehose_producer::lake::LakeConfig {
        object_bytes,
        ..ocsf_firehose_producer::lake::LakeConfig::default()
    };
    let (sources, engine) = (common::lake::sources(), common::lake::engine());
    let builder = match lake {
        Lake::Dir(root) => ProducerBuilder::dir(root, sources, engine),
        Lake::S3(bucket) => {
            let store =
                ocsf_firehose_producer::lake::store::S3Store::new(s3_client(endpoint), bucket)
                    .multipart(16 * 1024, 5 * 1024 * 1024);
            ProducerBuilder::s3_sources(store, sources, engine)
        }
    };
    builder.lake_config(config)
}

#[cfg(not(feature = "lake"))]
fn lake_builder(_lake: &Lake, _endpoint: &str) -> ProducerBuilder {
    panic!("the lake destination needs the feature `lake`")
}

/// Event `i` of `round` for `lake` (or a stream): in a folder, the lake tests' events (four
/// classes over accounts and days, `metadata.uid` `event-<i>`, one in 100 invalid); in S3, one
/// partition's with 12 KiB of random text each, so that objects are multipart uploads.
fn event(lake: Option<&Lake>, round: usize, i: usize) -> Value {
    #[cfg(feature = "lake")]
    match lake {
        Some(Lake::Dir(_)) => return common::lake::event(i, 3),
        Some(Lake::S3(_)) => {
            // `12 i`: class 3002, one account, one day.
            let mut event = common::lake::event(12 * i, 1);
            let mut rng = fastrand::Rng::with_seed(i as u64);
            event["message"] = json!((0..12 * 1024)
                .map(|_| rng.alphanumeric())
                .collect::<String>());
            event["metadata"]["uid"] = json!(format!("event-{i}"));
            return event;
        }
        None => {}
    }
    let _ = lake;
    json!({
        "class_uid": 3002, "category_uid": 3, "activity_id": 1, "type_uid": 300201, "severity_id": 1,
        "time": 1_682_683_200_000_i64,
        "cloud": {"provider": "AWS", "region": "us-east-1"},
        "metadata": {"version": "1.1.0", "product": {"name": "crash", "vendor_name": "ocsf-firehose"}},
        "message": format!("{round}-{i}"),
    })
}

/// The application: sends its events through the spool, logs each index `send` accepted (one
/// `write` each, so that a kill leaves whole lines), then `flush`, then shuts down and logs
/// `done <delivered> <replayed>`. A test only in the child's environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child_application() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let spec: Spec = serde_json::from_str(&spec).unwrap();
    let builder = if let Some(lake) = &spec.lake {
        lake_builder(lake, &spec.endpoint)
    } else if spec.kinesis {
        let kinesis =
            aws_sdk_kinesis::Client::from_conf(client!(aws_sdk_kinesis, &spec.endpoint).build());
        ProducerBuilder::kinesis(kinesis, &spec.stream)
    } else {
        let firehose =
            aws_sdk_firehose::Client::from_conf(client!(aws_sdk_firehose, &spec.endpoint).build());
        ProducerBuilder::firehose(firehose, &spec.stream)
    };
    let mut builder = builder.config(ProducerConfig {
        linger: Duration::from_millis(20),
        ..ProducerConfig::default()
    });
    if let Some(spool) = &spec.spool {
        builder = builder.spool(SpoolConfig {
            durability: Durability::Batch(100),
            ..SpoolConfig::new(spool)
        });
    }
    let producer = std::sync::Arc::new(builder.build().unwrap());
    let replayed = producer.recovered().entries;
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&spec.log)
        .unwrap();
    // `senders` tasks at once, each its share in turn (their entries share the spool's writes);
    // a short line in an append-only file is written whole.
    let mut tasks = tokio::task::JoinSet::new();
    for first in 0..spec.senders {
        let (producer, mut log) = (std::sync::Arc::clone(&producer), log.try_clone().unwrap());
        let (round, events, senders) = (spec.round, spec.events, spec.senders);
        let lake = spec.lake.clone();
        tasks.spawn(async move {
            for i in (first..events).step_by(senders) {
                match producer.send(&event(lake.as_ref(), round, i)).await {
                    Ok(_delivery) => log.write_all(format!("{i}\n").as_bytes()).unwrap(),
                    // The lake's events include invalid ones (refused, not accepted).
                    Err(SendError::Invalid(_)) if lake.is_some() => {}
                    Err(error) => panic!("event {i}: {error}"),
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    log.write_all(b"flush\n").unwrap();
    let Ok(producer) = std::sync::Arc::try_unwrap(producer) else {
        panic!("every sender is done");
    };
    let report = producer.shutdown().await;
    assert_eq!(report.failed_count, 0);
    log.write_all(format!("done {} {replayed}\n", report.delivered).as_bytes())
        .unwrap();
}

fn start_child(spec: &Spec) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_application",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, serde_json::to_string(spec).unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn log_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Where a round's child is killed.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// Once this many events are accepted.
    Accepted(usize),
    /// This long into the final flush.
    Flushing(Duration),
}

/// Runs the child until `kill`, kills it; returns the indices it logged as accepted and
/// whether the kill came before the child ended by itself.
fn run_until(spec: &Spec, kill: KillPoint) -> (Vec<usize>, bool) {
    let mut child = start_child(spec);
    let started = Instant::now();
    let mut flushing_since = None;
    let killed = loop {
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        let lines = log_lines(&spec.log);
        let due = match kill {
            KillPoint::Accepted(n) => lines.len() >= n,
            KillPoint::Flushing(after) => {
                if flushing_since.is_none() && lines.iter().any(|l| l == "flush") {
                    flushing_since = Some(Instant::now());
                }
                flushing_since.is_some_and(|since| since.elapsed() >= after)
            }
        };
        if due {
            child.kill().unwrap();
            child.wait().unwrap();
            break true;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the child ran too long"
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    let accepted = log_lines(&spec.log)
        .iter()
        .filter_map(|l| l.parse().ok())
        .collect();
    (accepted, killed)
}

/// Restarts the child with nothing new to send: it replays the spool and ends.
fn replay(spec: &Spec) -> (u64, u64) {
    let log = spec.log.with_extension("replay");
    let _ = std::fs::remove_file(&log);
    let spec = Spec {
        events: 0,
        log: log.clone(),
        ..spec.clone()
    };
    let status = start_child(&spec).wait().unwrap();
    assert!(status.success(), "the restarted application failed");
    let done = log_lines(&log)
        .into_iter()
        .find_map(|l| l.strip_prefix("done ").map(str::to_owned))
        .unwrap();
    let mut parts = done.split(' ').map(|n| n.parse::<u64>().unwrap());
    (parts.next().unwrap(), parts.next().unwrap())
}

/// Lost events: those of `accepted` (of `round`) not in `counts`, and the duplicates of the
/// others.
fn lost_and_duplicated(
    counts: &BTreeMap<String, usize>,
    round: usize,
    accepted: &[usize],
) -> (Vec<String>, usize) {
    let (mut lost, mut duplicates) = (Vec::new(), 0);
    for i in accepted {
        match counts.get(&format!("{round}-{i}")) {
            None => lost.push(format!("{round}-{i}")),
            Some(n) => duplicates += n - 1,
        }
    }
    (lost, duplicates)
}

/// `message` → count over every event found in `objects` (JSON lines, or single events).
fn count_messages(objects: &[Vec<u8>]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for data in objects {
        for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let event: Value = serde_json::from_slice(line).unwrap();
            *counts
                .entry(event["message"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    counts
}

/// What the kill rounds did.
#[derive(Default)]
struct Rounds {
    accepted_by_round: Vec<Vec<usize>>,
    replayed: u64,
    killed_in_flush: usize,
    ended_first: usize,
    /// S3 multipart uploads left open by the kills.
    uploads_cut: usize,
}

/// Runs [`KILL_POINTS`] rounds of the application into `stream` at `endpoint` (a Kinesis data
/// stream with `kinesis`): each killed at a seeded moment, then restarted to replay its spool.
async fn kill_rounds(
    endpoint: &str,
    stream: &str,
    kinesis: bool,
    lake: Option<&Lake>,
    senders: usize,
    seed: u64,
) -> Rounds {
    let root = std::env::temp_dir().join(format!("ocsf-crash-{}", uuid::Uuid::new_v4().simple()));
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut rounds = Rounds::default();
    // Fewer, larger events into S3 (each object a multipart upload).
    let events = match lake {
        Some(Lake::S3(_)) => 1_000,
        _ => EVENTS,
    };
    for round in 0..KILL_POINTS {
        let dir = root.join(round.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let spec = Spec {
            endpoint: endpoint.to_owned(),
            stream: stream.to_owned(),
            kinesis,
            lake: lake.map(|lake| lake.of_round(round)),
            senders,
            spool: Some(dir.join("spool")),
            round,
            events,
            log: dir.join("accepted"),
        };
        // The lake's final flush encodes and writes its objects: longer to reach into.
        let flush_ms = if lake.is_some() { 300 } else { 8 };
        let kill = if round % 4 == 3 {
            KillPoint::Flushing(Duration::from_millis(rng.u64(0..flush_ms)))
        } else {
            KillPoint::Accepted(rng.usize(1..events))
        };
        let spec_now = spec.clone();
        let (accepted, killed) = tokio::task::spawn_blocking(move || run_until(&spec_now, kill))
            .await
            .unwrap();
        if let Some(Lake::S3(bucket)) = &spec.lake {
            // Multipart uploads the kill cut (the restart aborts them).
            let uploads = s3_client(endpoint)
                .list_multipart_uploads()
                .bucket(bucket)
                .send()
                .await
                .unwrap();
            rounds.uploads_cut += uploads.uploads().len();
        }
        if !killed {
            rounds.ended_first += 1;
        } else if matches!(kill, KillPoint::Flushing(_)) {
            rounds.killed_in_flush += 1;
        }
        let spec_now = spec.clone();
        let (delivered, from_spool) = tokio::task::spawn_blocking(move || replay(&spec_now))
            .await
            .unwrap();
        assert_eq!(
            delivered, from_spool,
            "round {round}: the restart delivers its replay"
        );
        rounds.replayed += from_spool;
        let left = std::fs::read_dir(spec.spool.as_ref().unwrap())
            .unwrap()
            .count();
        assert_eq!(left, 0, "round {round}: the replay emptied the spool");
        rounds.accepted_by_round.push(accepted);
    }
    let _ = std::fs::remove_dir_all(&root);
    rounds
}

/// Every accepted event of every round is in `counts` (at least once); prints the figures and
/// returns the duplicates of accepted events.
fn assert_every_accepted_event_landed(
    what: &str,
    rounds: &Rounds,
    counts: &BTreeMap<String, usize>,
) -> usize {
    let mut missing = Vec::new();
    let (mut accepted_events, mut duplicates) = (0, 0);
    for (round, accepted) in rounds.accepted_by_round.iter().enumerate() {
        accepted_events += accepted.len();
        let (lost, copies) = lost_and_duplicated(counts, round, accepted);
        missing.extend(lost);
        duplicates += copies;
    }
    let landed: usize = counts.values().sum();
    println!(
        "crash ({what}): {KILL_POINTS} kills ({} in the final flush, {} ended before the kill point), \
         {accepted_events} events accepted, {} replayed from the spool, {landed} landed, \
         {} distinct, {duplicates} duplicates of accepted events, {} missing",
        rounds.killed_in_flush,
        rounds.ended_first,
        rounds.replayed,
        counts.len(),
        missing.len()
    );
    assert!(
        missing.is_empty(),
        "lost: {:?}",
        &missing[..missing.len().min(10)]
    );
    assert!(rounds.replayed > 0, "some kills left events in the spool");
    assert!(
        rounds.killed_in_flush > 0,
        "some kills came during the final flush"
    );
    duplicates
}

/// In the parent test only (not in the child), with moto: its endpoint, an S3 client, and a
/// bucket with a Direct PUT stream into it.
async fn firehose_stream() -> Option<(String, aws_sdk_s3::Client, String, String)> {
    if std::env::var_os(CHILD).is_some() {
        return None;
    }
    let endpoint = endpoint()?;
    let s3 = s3_client(&endpoint);
    let firehose =
        aws_sdk_firehose::Client::from_conf(client!(aws_sdk_firehose, &endpoint).build());
    let (bucket, stream) = firehose_to_bucket(&s3, &firehose).await;
    Some((endpoint, s3, bucket, stream))
}

/// Firehose, 8 tasks sending at once (their entries written together).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_application_loses_no_accepted_event_with_the_spool() {
    let Some((endpoint, s3, bucket, stream)) = firehose_stream().await else {
        return;
    };
    let rounds = kill_rounds(&endpoint, &stream, false, None, 8, 2_326).await;
    let counts = count_messages(&bucket_objects(&s3, &bucket).await);
    assert_every_accepted_event_landed("Firehose", &rounds, &counts);
}

/// The same into a Kinesis data stream of 2 shards, one task sending, read back as a KCL consumer reads it
/// (aggregated records split, no sub-record dropped). moto's Kinesis is reached through the
/// serialising proxy of the moto tests (its `PutRecords` is not safe under concurrent calls).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_kinesis_application_loses_no_accepted_event_with_the_spool() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let Some(endpoint) = endpoint() else { return };
    let (kinesis, stream) = kinesis_stream(&endpoint, 2).await;
    let proxy = serialising_proxy(&endpoint).await;
    let rounds = kill_rounds(&proxy.endpoint, &stream, true, None, 1, 7_919).await;
    let read = kcl_read(&kinesis, &stream).await;
    assert_eq!(read.dropped, 0, "sub-records a KCL consumer drops");
    assert_every_accepted_event_landed("Kinesis", &rounds, &count_messages(&read.kept));
}

/// The control: the same application without a spool, killed halfway, loses the events it had
/// accepted and not yet delivered (so the test above can fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_spool_the_same_kill_loses_accepted_events() {
    let Some((endpoint, s3, bucket, stream)) = firehose_stream().await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("ocsf-crash-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = Spec {
        endpoint,
        stream,
        kinesis: false,
        lake: None,
        senders: 1,
        spool: None,
        round: 0,
        events: EVENTS,
        log: dir.join("accepted"),
    };
    let (accepted, killed) =
        tokio::task::spawn_blocking(move || run_until(&spec, KillPoint::Accepted(EVENTS / 2)))
            .await
            .unwrap();
    assert!(killed);
    let counts = count_messages(&bucket_objects(&s3, &bucket).await);
    let (lost, _) = lost_and_duplicated(&counts, 0, &accepted);
    println!(
        "no spool: {} accepted, {} lost at the kill",
        accepted.len(),
        lost.len()
    );
    assert!(
        !lost.is_empty(),
        "a kill without a spool loses buffered events"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Checks round `round`'s lake objects (whole, in their partition, sorted, zstd) and counts
/// their events into `counts` as `<round>-<i>`.
#[cfg(feature = "lake")]
fn count_round(counts: &mut BTreeMap<String, usize>, round: usize, objects: &[(String, Vec<u8>)]) {
    for (uid, n) in common::lake::check_objects(objects) {
        let i = uid.strip_prefix("event-").unwrap();
        counts.insert(format!("{round}-{i}"), n);
    }
}

/// The direct path into a folder (feature `lake`), 8 tasks sending at once: every accepted
/// event is in an object after the restart exactly once (an object whose store the kill may
/// have cut is stored again whole, under its key), and every object visible is whole (it
/// parses, in its partition, sorted, zstd): the folder store renames a finished file into
/// place.
#[cfg(feature = "lake")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_lake_writer_loses_no_accepted_event_and_leaves_no_partial_object() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let root =
        std::env::temp_dir().join(format!("ocsf-crash-lake-{}", uuid::Uuid::new_v4().simple()));
    let rounds = kill_rounds("", "", false, Some(&Lake::Dir(root.clone())), 8, 4_409).await;
    let (mut counts, mut partial) = (BTreeMap::new(), 0);
    for round in 0..KILL_POINTS {
        let folder = root.join(round.to_string());
        std::fs::create_dir_all(&folder).unwrap();
        // What a reader sees: `*.parquet` (a write cut by the kill is a hidden `.partial` file).
        let (objects, cut): (Vec<_>, Vec<_>) = common::lake::files_below(&folder)
            .into_iter()
            .partition(|(key, _)| key.ends_with(".parquet"));
        assert!(
            cut.iter().all(|(key, _)| key.ends_with(".partial")),
            "{cut:?}"
        );
        partial += cut.len();
        count_round(&mut counts, round, &objects);
    }
    println!("lake folder: {partial} hidden partial files left by kills");
    let duplicates = assert_every_accepted_event_landed("lake folder", &rounds, &counts);
    assert_eq!(
        duplicates, 0,
        "exactly once: an object cut by the kill is stored again whole"
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// The direct path into moto S3 (feature `lake`), each object a multipart upload, through a
/// proxy failing 30 % of the PUTs: every accepted event exactly once, every object whole, and
/// no multipart upload left incomplete (one a kill cut is aborted when its object is stored
/// again).
#[cfg(feature = "lake")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_s3_lake_writer_stores_each_event_once_and_leaves_no_upload_open() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let Some(endpoint) = endpoint() else { return };
    let s3 = s3_client(&endpoint);
    let base = format!("lake-{}", uuid::Uuid::new_v4().simple());
    for round in 0..KILL_POINTS {
        s3.create_bucket()
            .bucket(format!("{base}-{round}"))
            .send()
            .await
            .unwrap();
    }
    // 30 % of the PUTs (parts included) fail and are retried after a backoff: uploads stay
    // open long enough for kills to fall inside them.
    let proxy = fault_proxy(
        &endpoint,
        Faults {
            failure_share: 0.3,
            ..Faults::default()
        },
    )
    .await;
    let lake = Lake::S3(base.clone());
    let rounds = kill_rounds(&proxy.endpoint, "", false, Some(&lake), 8, 5_501).await;
    let (mut counts, mut open_uploads) = (BTreeMap::new(), 0);
    for round in 0..KILL_POINTS {
        let bucket = format!("{base}-{round}");
        let mut objects = Vec::new();
        let listed = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
        for object in listed.contents() {
            let key = object.key().unwrap().to_owned();
            let body = s3
                .get_object()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
                .unwrap()
                .body;
            objects.push((key, body.collect().await.unwrap().into_bytes().to_vec()));
        }
        count_round(&mut counts, round, &objects);
        let uploads = s3
            .list_multipart_uploads()
            .bucket(&bucket)
            .send()
            .await
            .unwrap();
        open_uploads += uploads.uploads().len();
    }
    println!(
        "lake S3: {} multipart uploads cut by the kills, {open_uploads} left open after the restarts",
        rounds.uploads_cut
    );
    let duplicates = assert_every_accepted_event_landed("lake S3", &rounds, &counts);
    assert_eq!(duplicates, 0, "exactly once");
    assert_eq!(
        open_uploads, 0,
        "every interrupted multipart upload aborted"
    );
    assert!(
        rounds.uploads_cut > 0,
        "some kills fell inside a multipart upload"
    );
}
