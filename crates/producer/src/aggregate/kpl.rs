//! The Kinesis Producer Library's aggregated record format
//! (<https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md>):
//! the 4 magic bytes `F3 89 9A C2`, a protobuf `AggregatedRecord`
//! (`partition_key_table` = 1, `explicit_hash_key_table` = 2, `records` = 3, each
//! `Record { partition_key_index = 1, explicit_hash_key_index = 2, data = 3, tags = 4 }`), then
//! the MD5 of the protobuf bytes. Firehose de-aggregates such records when its source is a
//! Kinesis stream (<https://docs.aws.amazon.com/streams/latest/dev/kpl-with-firehose.html>).

use std::collections::{HashMap, VecDeque};

use md5::{Digest, Md5};
use thiserror::Error;

use super::Record;
use crate::limits::KINESIS_MAX_RECORD_BYTES;

/// The magic prefix of an aggregated record.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];
const DIGEST_LEN: usize = 16;

/// Bytes a protobuf varint of `value` takes.
fn varint_len(value: u64) -> usize {
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A length-delimited field of `len` bytes: tag, length, payload.
fn field_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

fn put_field(out: &mut Vec<u8>, tag: u8, payload: &[u8]) {
    out.push(tag);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

/// Encoded size of a `Record` message with this key index and data length.
fn record_message_len(key_index: usize, data_len: usize) -> usize {
    1 + varint_len(key_index as u64) + field_len(data_len)
}

/// Most partition keys an aggregator keeps a record open for; a new key beyond them closes the
/// oldest open record (aggregation then degrades to smaller records, never to unsafe ones). The
/// producer's byte budget bounds what the open records hold together.
pub const MAX_OPEN_KEYS: usize = 1024;

/// One aggregated record being filled: every sub-record under the record's one key.
struct Open<Id> {
    key: String,
    records: Vec<Vec<u8>>,
    events: Vec<Id>,
    protobuf_len: usize,
}

impl<Id> Open<Id> {
    fn new(key: String) -> Self {
        Open {
            protobuf_len: field_len(key.len()),
            key,
            records: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Protobuf bytes a sub-record of `data_len` bytes adds.
    fn growth(data_len: usize) -> usize {
        field_len(record_message_len(0, data_len))
    }

    /// Size of the Kinesis record with `protobuf_len` protobuf bytes: the aggregated data plus
    /// its partition key.
    fn record_size(&self, protobuf_len: usize) -> usize {
        MAGIC.len() + protobuf_len + DIGEST_LEN + self.key.len()
    }

    fn encode(self) -> Record<Id> {
        let Open {
            key,
            mut records,
            events,
            protobuf_len,
            ..
        } = self;
        if records.len() == 1 {
            // One event: sent as a plain record, as the KPL does.
            return Record {
                data: records.remove(0),
                partition_key: Some(key),
                events,
            };
        }
        let mut protobuf = Vec::with_capacity(protobuf_len);
        put_field(&mut protobuf, 0x0A, key.as_bytes());
        let mut message = Vec::new();
        for data in &records {
            message.clear();
            message.push(0x08);
            put_varint(&mut message, 0);
            put_field(&mut message, 0x1A, data);
            put_field(&mut protobuf, 0x1A, &message);
        }
        let mut data = Vec::with_capacity(MAGIC.len() + protobuf.len() + DIGEST_LEN);
        data.extend_from_slice(&MAGIC);
        data.extend_from_slice(&protobuf);
        data.extend_from_slice(&Md5::digest(&protobuf));
        Record {
            data,
            partition_key: Some(key),
            events,
        }
    }
}

/// Packs events into KPL aggregated records up to a target size, never over the Kinesis record
/// limit (data plus partition key).
///
/// **Shard-safe:** every sub-record of a record carries the record's own partition key, so it
/// hashes to the shard that receives the record, whatever the stream's shard map. The KCL drops
/// a sub-record whose hash key falls outside the receiving shard (`AggregatorUtil`), so the
/// KPL aggregates only records bound for one shard; we get the same guarantee without
/// `ListShards` (no extra permission, no race with resharding): events without a key of their
/// own share a random key per aggregated record (as even a spread over the shards as a random
/// key per event), and events with a key ([`crate::ProducerBuilder::partition_key`]) are
/// aggregated only with events of the same key (one open record per key, at most
/// [`MAX_OPEN_KEYS`]).
pub struct KplAggregator<Id> {
    target_bytes: usize,
    /// The open record of events without a key of their own (under a random key).
    shared: Option<Open<Id>>,
    /// The open records of events with their own key, by key.
    keyed: HashMap<String, Open<Id>>,
    /// The keys of `keyed`, in the order their records were opened (the first is closed when a
    /// new key finds `MAX_OPEN_KEYS` open).
    order: VecDeque<String>,
    rng: fastrand::Rng,
}

impl<Id> KplAggregator<Id> {
    /// An aggregator closing records at `target_bytes` (clamped to the record limit).
    pub fn new(target_bytes: usize) -> Self {
        KplAggregator {
            target_bytes: target_bytes.clamp(1, KINESIS_MAX_RECORD_BYTES),
            shared: None,
            keyed: HashMap::new(),
            order: VecDeque::new(),
            rng: fastrand::Rng::new(),
        }
    }

    /// Bytes held in the open records.
    pub fn buffered_bytes(&self) -> usize {
        let keyed: usize = self.keyed.values().map(|o| o.protobuf_len).sum();
        keyed + self.shared.as_ref().map_or(0, |o| o.protobuf_len)
    }

    /// Adds an event under its partition key (`None`: the event has no key of its own and
    /// shares the record's random one); returns the records it closed. The caller has checked
    /// that the event fits in a record on its own.
    pub fn push(
        &mut self,
        id: Id,
        data: Vec<u8>,
        partition_key: Option<String>,
    ) -> Vec<Record<Id>> {
        let mut closed = Vec::new();
        let growth = Open::<Id>::growth(data.len());
        let mut open = match &partition_key {
            Some(key) => self.keyed.remove(key),
            None => self.shared.take(),
        };
        if let Some(full) = open.take_if(|o| {
            let size = o.record_size(o.protobuf_len + growth);
            size > self.target_bytes || size > KINESIS_MAX_RECORD_BYTES
        }) {
            closed.push(full.encode());
            // Reopened under the same key below: it keeps its place in `order`.
            open = partition_key.as_ref().map(|key| Open::new(key.clone()));
        }
        let mut open = match (open, &partition_key) {
            (Some(open), _) => open,
            (None, Some(key)) => {
                if self.keyed.len() >= MAX_OPEN_KEYS {
                    closed.extend(self.close_oldest());
                }
                self.order.push_back(key.clone());
                Open::new(key.clone())
            }
            (None, None) => Open::new(format!("{:032x}", self.rng.u128(..))),
        };
        open.protobuf_len += growth;
        open.records.push(data);
        open.events.push(id);
        match partition_key {
            Some(key) => {
                self.keyed.insert(key, open);
            }
            None => self.shared = Some(open),
        }
        closed
    }

    /// Closes the record of the key opened first.
    fn close_oldest(&mut self) -> Option<Record<Id>> {
        let key = self.order.pop_front()?;
        self.keyed.remove(&key).map(Open::encode)
    }

    /// Closes the open records: the keys' in the order they were opened, then the shared one.
    pub fn flush(&mut self) -> Vec<Record<Id>> {
        let mut closed = Vec::with_capacity(self.keyed.len() + 1);
        while let Some(key) = self.order.pop_front() {
            closed.extend(self.keyed.remove(&key).map(Open::encode));
        }
        closed.extend(self.shared.take().map(Open::encode));
        closed
    }
}

/// A malformed aggregated record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KplError {
    /// The trailing MD5 does not match the protobuf bytes.
    #[error("the MD5 digest does not match")]
    Digest,
    /// The protobuf is truncated or malformed.
    #[error("malformed protobuf at byte {0}")]
    Protobuf(usize),
}

/// One sub-record of an aggregated record: its partition key and data.
pub type SubRecord = (String, Vec<u8>);

/// Splits a Kinesis record into its sub-records: `None` when it is not aggregated (no magic
/// prefix).
pub fn decode(record: &[u8]) -> Result<Option<Vec<SubRecord>>, KplError> {
    let Some(body) = record.strip_prefix(&MAGIC) else {
        return Ok(None);
    };
    let split = body
        .len()
        .checked_sub(DIGEST_LEN)
        .ok_or(KplError::Protobuf(0))?;
    let (protobuf, digest) = body.split_at(split);
    if Md5::digest(protobuf).as_slice() != digest {
        return Err(KplError::Digest);
    }
    let mut keys = Vec::new();
    let mut records = Vec::new();
    let mut reader = Reader {
        bytes: protobuf,
        at: 0,
    };
    while !reader.done() {
        let (field, payload) = reader.field()?;
        match field {
            1 => keys.push(String::from_utf8_lossy(payload).into_owned()),
            3 => {
                let mut inner = Reader {
                    bytes: payload,
                    at: 0,
                };
                let (mut key_index, mut data) = (0, Vec::new());
                while !inner.done() {
                    match inner.field()? {
                        (1, value) => key_index = Reader::varint_value(value),
                        (3, value) => data = value.to_vec(),
                        _ => {}
                    }
                }
                records.push((key_index, data));
            }
            _ => {}
        }
    }
    records
        .into_iter()
        .map(|(index, data)| {
            let key = usize::try_from(index)
                .ok()
                .and_then(|i| keys.get(i))
                .ok_or(KplError::Protobuf(0))?;
            Ok((key.clone(), data))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn varint(&mut self) -> Result<u64, KplError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.at).ok_or(KplError::Protobuf(self.at))?;
            self.at += 1;
            value |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(KplError::Protobuf(self.at))
    }

    /// A varint field's value re-read from the bytes `field` returned for it.
    fn varint_value(bytes: &[u8]) -> u64 {
        Reader { bytes, at: 0 }.varint().unwrap_or(u64::MAX)
    }

    /// The next field: its number and payload (varint bytes for wire type 0, the content for
    /// wire type 2).
    fn field(&mut self) -> Result<(u64, &'a [u8]), KplError> {
        let key = self.varint()?;
        let start = self.at;
        match key & 7 {
            0 => {
                self.varint()?;
                Ok((key >> 3, &self.bytes[start..self.at]))
            }
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| KplError::Protobuf(start))?;
                let end = self
                    .at
                    .checked_add(len)
                    .filter(|e| *e <= self.bytes.len())
                    .ok_or(KplError::Protobuf(start))?;
                let payload = &self.bytes[self.at..end];
                self.at = end;
                Ok((key >> 3, payload))
            }
            _ => Err(KplError::Protobuf(start)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(agg: &mut KplAggregator<u32>, events: &[(u32, Vec<u8>, &str)]) -> Vec<Record<u32>> {
        let mut out: Vec<Record<u32>> = events
            .iter()
            .flat_map(|(id, data, key)| agg.push(*id, data.clone(), Some((*key).to_owned())))
            .collect();
        out.extend(agg.flush());
        out
    }

    #[test]
    fn varints_match_protobuf() {
        for (value, bytes) in [
            (0u64, vec![0u8]),
            (1, vec![1]),
            (127, vec![127]),
            (128, vec![0x80, 1]),
            (300, vec![0xAC, 2]),
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(out, bytes);
            assert_eq!(varint_len(value), bytes.len());
        }
    }

    #[test]
    fn aggregates_and_decodes_back_exactly_one_key_per_record() {
        let events: Vec<(u32, Vec<u8>, &str)> = (0..50)
            .map(|i| {
                let data = format!("{{\"n\":{i},\"pad\":\"{}\"}}", "p".repeat(40)).into_bytes();
                (i, data, if i % 2 == 0 { "even" } else { "odd" })
            })
            .collect();
        let mut agg = KplAggregator::new(1_000);
        let records = all(&mut agg, &events);
        assert!(records.len() > 2);
        let mut seen = Vec::new();
        for record in &records {
            assert!(record.size() <= 1_000, "{}", record.size());
            let decoded = decode(&record.data).unwrap().unwrap();
            assert_eq!(decoded.len(), record.events.len());
            for ((key, data), id) in decoded.into_iter().zip(&record.events) {
                assert_eq!(
                    Some(key.as_str()),
                    record.partition_key.as_deref(),
                    "the record's key"
                );
                let (_, expected_data, expected_key) = &events[*id as usize];
                assert_eq!((key.as_str(), &data), (*expected_key, expected_data));
                seen.push(*id);
            }
        }
        let in_order = |parity: u32| {
            let ids: Vec<u32> = seen.iter().copied().filter(|i| i % 2 == parity).collect();
            ids == (0..50).filter(|i| i % 2 == parity).collect::<Vec<_>>()
        };
        assert!(
            in_order(0) && in_order(1),
            "each key's events once, in order"
        );
        assert_eq!(seen.len(), 50);
    }

    #[test]
    fn keyless_events_share_a_random_key_per_record() {
        let mut agg = KplAggregator::new(2_000);
        let mut records = Vec::new();
        for i in 0..100_u32 {
            records.extend(agg.push(i, vec![b'x'; 90], None));
        }
        records.extend(agg.flush());
        assert!(records.len() > 3);
        let keys: std::collections::BTreeSet<_> = records
            .iter()
            .map(|r| r.partition_key.clone().unwrap())
            .collect();
        assert_eq!(keys.len(), records.len(), "a fresh key per record");
        for record in &records {
            let key = record.partition_key.as_deref().unwrap();
            assert_eq!(key.len(), 32);
            for (sub_key, _) in decode(&record.data).unwrap().unwrap() {
                assert_eq!(sub_key, key);
            }
        }
    }

    #[test]
    fn open_records_per_key_are_bounded() {
        let mut agg = KplAggregator::new(1_000_000);
        let mut closed = Vec::new();
        for i in 0..(MAX_OPEN_KEYS as u32 + 10) {
            closed.extend(agg.push(i, b"e".to_vec(), Some(format!("k{i}"))));
        }
        assert_eq!(closed.len(), 10, "the oldest closed");
        assert_eq!(closed[0].events, [0]);
        assert_eq!(agg.flush().len(), MAX_OPEN_KEYS);
    }

    #[test]
    fn a_lone_event_is_a_plain_record_and_limits_hold() {
        let mut agg = KplAggregator::new(100);
        let records = all(&mut agg, &[(7, b"{\"solo\":true}".to_vec(), "k")]);
        assert_eq!(
            records,
            [Record {
                data: b"{\"solo\":true}".to_vec(),
                partition_key: Some("k".into()),
                events: vec![7]
            }]
        );
        assert_eq!(decode(&records[0].data), Ok(None));
        let big: Vec<(u32, Vec<u8>, &str)> =
            (0..8).map(|i| (i, vec![b'a'; 300_000], "k")).collect();
        let mut agg = KplAggregator::new(usize::MAX);
        for record in all(&mut agg, &big) {
            assert!(record.size() <= KINESIS_MAX_RECORD_BYTES);
        }
    }

    #[test]
    fn corrupt_records_are_errors() {
        let mut agg = KplAggregator::new(10_000);
        let mut record = all(
            &mut agg,
            &[(0, b"a".to_vec(), "k"), (1, b"b".to_vec(), "k")],
        )
        .remove(0)
        .data;
        let last = record.len() - 1;
        record[last] ^= 1;
        assert_eq!(decode(&record), Err(KplError::Digest));
        assert!(decode(&MAGIC).is_err());
    }
}
