//! What redrive has re-sent, so that no run sends an event twice: a ledger of event identities
//! (`metadata.uid`, else a digest of the event's bytes) kept next to the error objects. Each run
//! that sends something adds one object of JSON lines under the ledger prefix (objects are only
//! added, never rewritten: two runs cannot lose each other's entries); a run reads them all
//! first and skips every event they name.

use std::collections::HashSet;

use anyhow::Context;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::store::Store;

/// One line of a ledger object.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// The event's identity ([`identity`]).
    pub key: String,
    /// The error object it came from.
    pub object: String,
    /// When it was delivered (epoch milliseconds).
    pub at: i64,
}

/// The identities already re-sent.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    sent: HashSet<String>,
    /// Ledger objects read.
    pub objects: usize,
}

impl Ledger {
    /// Reads every ledger object under `prefix`.
    pub(crate) async fn load(store: &Store, prefix: &str) -> anyhow::Result<Ledger> {
        let mut ledger = Ledger::default();
        for key in store.list(prefix).await? {
            let bytes = store.get(&key).await?;
            for (number, line) in bytes.split(|&b| b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                // A ledger line that cannot be read would make events go out twice: stop.
                let entry: Entry = serde_json::from_slice(line)
                    .with_context(|| format!("ledger {key}:{}: not a ledger entry", number + 1))?;
                ledger.sent.insert(entry.key);
            }
            ledger.objects += 1;
        }
        Ok(ledger)
    }

    /// Whether the event was re-sent by an earlier run.
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.sent.contains(key)
    }

    /// Keeps this run's deliveries as one new ledger object; its key, or `None` when there
    /// were none.
    pub(crate) async fn append(
        &mut self,
        store: &Store,
        prefix: &str,
        entries: Vec<Entry>,
    ) -> anyhow::Result<Option<String>> {
        if entries.is_empty() {
            return Ok(None);
        }
        let mut body = Vec::with_capacity(entries.len() * 96);
        for entry in &entries {
            serde_json::to_writer(&mut body, entry)?;
            body.push(b'\n');
        }
        let now = time::OffsetDateTime::now_utc();
        let stamp = now
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .context("cannot format the time")?;
        let key = format!("{prefix}{stamp}-{}.jsonl", uuid::Uuid::new_v4().simple());
        store.put(&key, body).await?;
        self.sent.extend(entries.into_iter().map(|e| e.key));
        self.objects += 1;
        Ok(Some(key))
    }
}

/// An event's identity: `uid:<metadata.uid>/md5:<digest of its bytes>` when it has a uid (the
/// producer stamps one into every event it sends), else `md5:<digest of its bytes>`.
///
/// The digest is part of the identity even with a uid: a uid is the sender's word, and two
/// events that share one but differ in content (a sender's bug, a replayed template) are two
/// events to redrive, never one sent and the other deleted. Firehose's at-least-once copies of a
/// record are byte-identical, so they still share an identity and go out once.
pub(crate) fn identity(event: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Event {
        metadata: Option<Metadata>,
    }
    #[derive(Deserialize)]
    struct Metadata {
        uid: Option<serde_json::Value>,
    }
    let uid = serde_json::from_slice::<Event>(event)
        .ok()
        .and_then(|e| e.metadata)
        .and_then(|m| m.uid)
        .and_then(|uid| match uid {
            serde_json::Value::String(s) if !s.is_empty() => Some(s),
            _ => None,
        });
    let digest: String = Md5::digest(event)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    match uid {
        Some(uid) => format!("uid:{uid}/md5:{digest}"),
        None => format!("md5:{digest}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_event_is_known_by_its_uid_and_its_bytes() {
        let first = identity(br#"{"metadata":{"uid":"a-1"},"x":1}"#);
        assert!(first.starts_with("uid:a-1/md5:"), "{first}");
        assert_eq!(first, identity(br#"{"metadata":{"uid":"a-1"},"x":1}"#));
        // Same uid, other content: another event (issue 20: one was deleted unsent).
        assert_ne!(first, identity(br#"{"x":2,"metadata":{"uid":"a-1"}}"#));
        let no_uid = identity(br#"{"metadata":{"version":"1.1.0"}}"#);
        assert!(no_uid.starts_with("md5:") && no_uid.len() == 36, "{no_uid}");
        assert_eq!(no_uid, identity(br#"{"metadata":{"version":"1.1.0"}}"#));
        assert_ne!(no_uid, identity(br#"{"metadata":{"version":"1.3.0"}}"#));
        assert!(identity(b"not json {").starts_with("md5:"));
        assert!(identity(br#"{"metadata":{"uid":7}}"#).starts_with("md5:"));
    }

    #[tokio::test]
    async fn a_ledger_remembers_what_earlier_runs_sent() {
        let root = std::env::temp_dir().join(format!("ocsf-ledger-{}", uuid::Uuid::new_v4()));
        let store = Store::Dir(root.clone());
        let mut ledger = Ledger::load(&store, "redrive-ledger/").await.unwrap();
        assert!(!ledger.contains("uid:1"));
        let entry = |key: &str| Entry {
            key: key.to_owned(),
            object: "errors/x".to_owned(),
            at: 1,
        };
        let written = ledger
            .append(
                &store,
                "redrive-ledger/",
                vec![entry("uid:1"), entry("uid:2")],
            )
            .await
            .unwrap();
        assert!(written.unwrap().starts_with("redrive-ledger/"));
        assert_eq!(
            ledger
                .append(&store, "redrive-ledger/", vec![])
                .await
                .unwrap(),
            None
        );
        ledger
            .append(&store, "redrive-ledger/", vec![entry("uid:3")])
            .await
            .unwrap();
        let again = Ledger::load(&store, "redrive-ledger/").await.unwrap();
        assert_eq!(again.objects, 2);
        assert!(["uid:1", "uid:2", "uid:3"]
            .iter()
            .all(|k| again.contains(k)));
        assert!(!again.contains("uid:4"));
        std::fs::write(
            root.join("redrive-ledger/zz-broken.jsonl"),
            b"{\"key\":1}\n",
        )
        .unwrap();
        let error = Ledger::load(&store, "redrive-ledger/").await.unwrap_err();
        assert!(
            format!("{error:#}").contains("zz-broken.jsonl:1"),
            "{error:#}"
        );
        std::fs::remove_dir_all(root).unwrap();
    }
}
