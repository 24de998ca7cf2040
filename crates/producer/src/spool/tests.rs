use std::time::Duration;

use super::*;
use group::yields as group_yields;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ocsf-spool-{name}-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn payloads(recovery: &Recovery) -> Vec<Vec<u8>> {
    recovery.entries.iter().map(|(_, b)| b.clone()).collect()
}

#[tokio::test]
async fn what_is_not_acknowledged_comes_back_at_the_next_open_bytes_for_bytes() {
    let dir = temp_dir("replay");
    for durability in [
        Durability::Event,
        Durability::Batch(2),
        Durability::Interval(Duration::from_millis(5)),
    ] {
        let config = SpoolConfig {
            durability,
            ..SpoolConfig::new(&dir)
        };
        let (spool, recovery) = Spool::open(config.clone()).unwrap();
        assert!(recovery.entries.is_empty() && recovery.damage.is_empty());
        let mut tickets = Vec::new();
        for i in 0..10 {
            tickets.push(
                spool
                    .append(format!("{{\"n\":{i}}}").as_bytes(), None)
                    .await
                    .unwrap(),
            );
        }
        for (i, ticket) in tickets.into_iter().enumerate() {
            if i % 3 == 0 {
                ticket.ack();
            }
        }
        drop(spool);
        let (spool, recovery) = Spool::open(config.clone()).unwrap();
        let expected: Vec<Vec<u8>> = [1, 2, 4, 5, 7, 8]
            .iter()
            .map(|i| format!("{{\"n\":{i}}}").into_bytes())
            .collect();
        assert_eq!(payloads(&recovery), expected, "{durability:?}");
        // Acknowledged now, they are gone for good, and so are their files.
        for (ticket, _) in recovery.entries {
            ticket.ack();
        }
        drop(spool);
        let (spool, recovery) = Spool::open(config).unwrap();
        assert!(recovery.entries.is_empty(), "{durability:?}");
        assert_eq!(files(&dir).len(), 1, "only the new current segment");
        drop(spool);
        assert!(files(&dir).is_empty(), "closed with nothing live");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[tokio::test]
async fn segments_roll_over_and_leave_once_every_entry_is_acknowledged() {
    let dir = temp_dir("roll");
    let config = SpoolConfig {
        segment_bytes: 100,
        ..SpoolConfig::new(&dir)
    };
    let (spool, _) = Spool::open(config).unwrap();
    let mut tickets = Vec::new();
    for _ in 0..12 {
        tickets.push(spool.append(&[b'x'; 34], None).await.unwrap());
    }
    // 50 bytes an entry: two a segment.
    assert_eq!(files(&dir).len(), 6);
    let later = tickets.split_off(6);
    for ticket in tickets {
        ticket.ack();
    }
    assert_eq!(spool.disk_bytes(), 6 * 50);
    assert_eq!(files(&dir).len(), 3, "three sealed segments deleted");
    for ticket in later {
        ticket.ack();
    }
    assert_eq!(spool.disk_bytes(), 100, "the current segment, two entries");
    assert_eq!(files(&dir).len(), 1, "the current segment stays while open");
    drop(spool);
    assert!(
        files(&dir).is_empty(),
        "closed with nothing live: no file left"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_full_spool_makes_send_wait_until_deliveries_free_a_segment() {
    let dir = temp_dir("full");
    let config = SpoolConfig {
        segment_bytes: 100,
        max_bytes: 200,
        ..SpoolConfig::new(&dir)
    };
    let (spool, _) = Spool::open(config).unwrap();
    let mut tickets = Vec::new();
    for _ in 0..4 {
        tickets.push(spool.append(&[b'x'; 34], None).await.unwrap());
    }
    assert!(
        spool.try_append_now(&[b'x'; 34], None).unwrap().is_none(),
        "full"
    );
    let waiting = tokio::spawn({
        let spool = Arc::clone(&spool);
        async move { spool.append(&[b'y'; 34], None).await.map(|_| ()) }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished(), "waits while full");
    let mut tickets = tickets.into_iter();
    tickets.next().unwrap().ack();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!waiting.is_finished(), "half a segment frees nothing");
    tickets.next().unwrap().ack();
    tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("a freed segment lets it in")
        .unwrap()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_torn_tail_is_reported_and_every_whole_entry_before_it_comes_back() {
    let dir = temp_dir("torn");
    let config = SpoolConfig::new(&dir);
    let mut rng = fastrand::Rng::with_seed(23);
    for _ in 0..25 {
        let _ = std::fs::remove_dir_all(&dir);
        let (spool, _) = Spool::open(config.clone()).unwrap();
        let mut sizes = Vec::new();
        for i in 0..20usize {
            let payload = vec![b'a' + (i % 26) as u8; rng.usize(0..300)];
            sizes.push(payload.len());
            let _ticket = spool.append(&payload, None).await.unwrap();
        }
        drop(spool);
        let wal = wal_path(&dir, 0);
        let length = std::fs::metadata(&wal).unwrap().len();
        let cut = rng.u64(0..length);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&wal)
            .unwrap()
            .set_len(cut)
            .unwrap();
        let (_spool, recovery) = Spool::open(config.clone()).unwrap();
        let mut end = 0u64;
        let whole = sizes
            .iter()
            .take_while(|size| {
                end += (segment::ENTRY_HEADER_BYTES + **size) as u64;
                end <= cut
            })
            .count();
        assert_eq!(recovery.entries.len(), whole, "cut at {cut}");
        for (i, (_, payload)) in recovery.entries.iter().enumerate() {
            assert_eq!(payload, &vec![b'a' + (i % 26) as u8; sizes[i]]);
        }
        let consumed: u64 = sizes[..whole]
            .iter()
            .map(|s| (segment::ENTRY_HEADER_BYTES + s) as u64)
            .sum();
        if consumed == cut {
            assert!(recovery.damage.is_empty());
        } else {
            assert_eq!(
                recovery.damage,
                [Damage {
                    segment: 0,
                    offset: consumed,
                    bytes_dropped: cut - consumed,
                    kind: DamageKind::Torn,
                }]
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_share_writes_and_each_entry_is_written_once() {
    let dir = temp_dir("group");
    let (spool, _) = Spool::open(SpoolConfig::new(&dir)).unwrap();
    let tasks: Vec<_> = (0..400)
        .map(|i| {
            let spool = Arc::clone(&spool);
            tokio::spawn(async move {
                let ticket = spool
                    .append(format!("{{\"n\":{i}}}").as_bytes(), None)
                    .await
                    .unwrap();
                (i, ticket)
            })
        })
        .collect();
    let mut tickets = Vec::new();
    for task in tasks {
        tickets.push(task.await.unwrap());
    }
    let places: std::collections::BTreeSet<(u64, u32)> =
        tickets.iter().map(|(_, t)| (t.segment, t.index)).collect();
    assert_eq!(places.len(), 400, "one place each");
    let writes = spool.writes();
    assert!(writes < 400, "some sends shared a write: {writes}");
    println!("400 concurrent sends in {writes} writes");
    // Half resolved: the other half comes back, each once, with its own bytes.
    let mut expected = Vec::new();
    for (i, ticket) in tickets {
        if i % 2 == 0 {
            ticket.ack();
        } else {
            expected.push(format!("{{\"n\":{i}}}").into_bytes());
        }
    }
    drop(spool);
    let (_spool, recovery) = Spool::open(SpoolConfig::new(&dir)).unwrap();
    let mut got = payloads(&recovery);
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_next_position_outlives_the_segments_that_held_it() {
    let dir = temp_dir("position");
    let config = SpoolConfig {
        segment_bytes: 200,
        ..SpoolConfig::new(&dir)
    };
    let (spool, recovery) = Spool::open(config.clone()).unwrap();
    assert_eq!(recovery.next_position, None, "nothing spooled yet");
    // Positions 0..30 in order, some events rejected before the spool (no entry): every one
    // delivered, so every segment leaves.
    let mut tickets = Vec::new();
    for position in (0..30).filter(|p| p % 7 != 3) {
        tickets.push(spool.append(&[b'e'; 40], Some(position)).await.unwrap());
    }
    assert!(spool.writes() > 5, "several segments");
    for ticket in tickets {
        ticket.ack();
    }
    drop(spool);
    assert_eq!(files(&dir), ["position"], "only the position is left");
    let (spool, recovery) = Spool::open(config.clone()).unwrap();
    assert!(recovery.entries.is_empty());
    assert_eq!(recovery.next_position, Some(30));
    // One more event, not delivered: it is replayed, and the position goes on past it.
    let _kept = spool.append(b"late", Some(30)).await.unwrap();
    drop(_kept);
    drop(spool);
    let (spool, recovery) = Spool::open(config.clone()).unwrap();
    assert_eq!(payloads(&recovery), [b"late".to_vec()]);
    assert_eq!(recovery.next_position, Some(31));
    drop(recovery);
    drop(spool);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_torn_entry_gives_no_position() {
    let dir = temp_dir("position-torn");
    let config = SpoolConfig::new(&dir);
    let (spool, _) = Spool::open(config.clone()).unwrap();
    let first = spool.append(b"first", Some(5)).await.unwrap();
    let second = spool.append(b"second", Some(6)).await.unwrap();
    std::mem::forget((first, second));
    drop(spool);
    let wal = segment::wal_path(&dir, 0);
    let bytes = std::fs::read(&wal).unwrap();
    std::fs::write(&wal, &bytes[..bytes.len() - 2]).unwrap();
    let (_spool, recovery) = Spool::open(config).unwrap();
    assert_eq!(payloads(&recovery), [b"first".to_vec()]);
    assert_eq!(recovery.damage.len(), 1);
    assert_eq!(
        recovery.next_position,
        Some(6),
        "only the whole entry counts"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_lone_sender_writes_at_once_and_concurrent_sends_after_it_still_share_writes() {
    let dir = temp_dir("lone");
    let (spool, _) = Spool::open(SpoolConfig::new(&dir)).unwrap();
    // One sender in turn: one write each (it yields only now and then).
    for i in 0..200u64 {
        let ticket = spool.append(b"lone", Some(i)).await.unwrap();
        ticket.ack();
    }
    assert_eq!(spool.writes(), 200);
    // Then 400 at once on this one thread: the next yield notices them, and they share writes.
    let tasks: Vec<_> = (0..400)
        .map(|_| {
            let spool = Arc::clone(&spool);
            tokio::spawn(async move { spool.append(b"together", None).await.unwrap().ack() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let shared = spool.writes() - 200;
    assert!(shared < 100, "400 concurrent sends took {shared} writes");
    drop(spool);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_leader_yields_after_shared_writes_and_now_and_then_alone() {
    let pattern: Vec<bool> = (0..40).map(group_yields).collect();
    assert!(pattern[..4].iter().all(|y| *y), "the first lone writes");
    assert_eq!(
        pattern.iter().filter(|y| **y).count(),
        4 + 2,
        "then one in 16"
    );
}

#[tokio::test]
async fn a_run_is_one_write_its_tickets_in_order_and_its_positions_kept() {
    let dir = temp_dir("run");
    let config = SpoolConfig::new(&dir);
    let (spool, _) = Spool::open(config.clone()).unwrap();
    let written: Vec<Vec<u8>> = (0..300)
        .map(|i| format!("{{\"n\":{i}}}").into_bytes())
        .collect();
    let entries: Vec<(&[u8], Option<u64>)> = written
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_slice(), Some(1_000 + i as u64)))
        .collect();
    let first = spool.append_all(&entries[..200]).await.unwrap();
    let second = spool.append_all(&entries[200..]).await.unwrap();
    assert!(spool.append_all(&[]).await.unwrap().is_empty());
    assert_eq!(spool.writes(), 2, "one write per run");
    let ids: Vec<(u64, u32)> = first.iter().chain(&second).map(Ticket::id).collect();
    let expected: Vec<(u64, u32)> = (0..300).map(|i| (ids[0].0, i)).collect();
    assert_eq!(ids, expected, "tickets in the order of the entries");
    // Every other entry delivered: the rest comes back, in order, and reading goes on after
    // the highest position taken.
    for (i, ticket) in first.into_iter().chain(second).enumerate() {
        if i % 2 == 0 {
            ticket.ack();
        }
    }
    drop(spool);
    let (_spool, recovery) = Spool::open(config).unwrap();
    let odd: Vec<Vec<u8>> = written.iter().skip(1).step_by(2).cloned().collect();
    assert_eq!(payloads(&recovery), odd);
    assert_eq!(recovery.next_position, Some(1_300));
    std::fs::remove_dir_all(&dir).unwrap();
}
