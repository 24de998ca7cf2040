//! Realistic demo events for `ocsf-firehose local --demo N`: Authentication, API Activity,
//! Network Activity and Detection Finding (OCSF 1.1.0) from several accounts, regions and days,
//! as an application would send them (captions, derived ids and `time_dt` left to the Lambda;
//! vendor fields in `unmapped` or as unknown attributes, which the Lambda moves there), with about
//! 1 % deliberately invalid (not JSON, a required attribute missing, a wrongly typed value, no
//! usable `time`). Deterministic for a given seed.

use serde_json::{json, Value};

/// The classes the demo emits.
pub const CLASSES: [i64; 4] = [3002, 6003, 4001, 2004];

/// One in this many events is invalid.
pub const INVALID_EVERY: usize = 100;

const ACCOUNTS: [&str; 3] = ["111122223333", "444455556666", "777788889999"];
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const OPERATIONS: [&str; 4] = ["GetObject", "PutObject", "ListBuckets", "DeleteObject"];
const PORTS: [u16; 4] = [22, 80, 443, 5432];
/// 2026-11-25T00:00:00Z: demo events spread over three days from here.
const START_MS: i64 = 1_795_564_800_000;
const DAY_MS: i64 = 86_400_000;

/// A demo event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoEvent {
    /// The JSON bytes sent.
    pub bytes: Vec<u8>,
    /// Whether the Lambda should accept it.
    pub valid: bool,
    /// Its class.
    pub class_uid: i64,
}

/// `n` demo events.
pub fn events(n: usize, seed: u64) -> impl Iterator<Item = DemoEvent> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..n).map(move |i| event(i, &mut rng))
}

fn event(i: usize, rng: &mut fastrand::Rng) -> DemoEvent {
    let class_uid = CLASSES[i % CLASSES.len()];
    let time = START_MS + rng.i64(0..3 * DAY_MS);
    // One account in four is not an AWS account id: it lands under accountId=external.
    let account = ACCOUNTS.get(rng.usize(0..4)).copied().unwrap_or("n/a");
    let region = REGIONS[rng.usize(0..REGIONS.len())];
    let cloud = if account == "n/a" {
        json!({"provider": "AWS", "region": region})
    } else {
        json!({"provider": "AWS", "region": region, "account": {"uid": account}})
    };
    let uid = format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        rng.u32(..),
        rng.u16(..),
        rng.u16(..0x1000),
        rng.u16(..0x1000),
        rng.u64(..1 << 48)
    );
    let ip = format!("198.51.{}.{}", rng.u8(..), rng.u8(1..255));
    let user = format!("user{:03}", rng.u16(..500));
    let mut event = match class_uid {
        3002 => json!({
            "class_uid": 3002, "activity_id": 1, "severity_id": 1, "status_id": if rng.u8(..10) == 0 { 2 } else { 1 },
            "time": time, "cloud": cloud, "is_mfa": rng.bool(),
            "metadata": {"uid": uid, "version": "1.1.0", "profiles": ["datetime"], "product": {"name": "DemoApp", "vendor_name": "ocsf-firehose", "version": "1.0"}},
            "device_posture": if rng.bool() { "managed" } else { "unmanaged" },
            "user": {"name": user, "type_id": 1},
            "src_endpoint": {"ip": ip, "port": rng.u16(1024..)},
            "service": {"name": "demo-console"}, "logon_type_id": 3,
            "message": "user logon",
        }),
        6003 => json!({
            "class_uid": 6003, "activity_id": rng.u8(1..5), "severity_id": 1, "status_id": 1,
            "time": time, "cloud": cloud,
            "metadata": {"uid": uid, "version": "1.1.0", "profiles": ["datetime"], "product": {"name": "DemoApp", "vendor_name": "ocsf-firehose", "version": "1.0"}},
            "unmapped": {"requestParameters.bucketName": "demo-bucket", "additionalEventData.bytesTransferredOut": rng.u32(..100_000)},
            "actor": {"user": {"name": user, "type_id": 1}},
            "api": {"operation": OPERATIONS[rng.usize(..OPERATIONS.len())], "service": {"name": "s3.amazonaws.com"}},
            "src_endpoint": {"ip": ip},
            "resources": [{"uid": format!("arn:aws:s3:::demo-bucket/object-{}", rng.u32(..1000)), "type": "AWS::S3::Object"}],
        }),
        4001 => json!({
            "class_uid": 4001, "activity_id": 6, "severity_id": 1,
            "time": time, "start_time": time - 60_000, "end_time": time, "cloud": cloud,
            "metadata": {"uid": uid, "version": "1.1.0", "product": {"name": "DemoFlowLogs", "vendor_name": "ocsf-firehose", "version": "1.0"}},
            "src_endpoint": {"ip": ip, "port": rng.u16(1024..)},
            "dst_endpoint": {"ip": format!("10.0.{}.{}", rng.u8(..), rng.u8(1..255)), "port": PORTS[rng.usize(..PORTS.len())]},
            "connection_info": {"direction_id": 1, "protocol_num": 6},
            "traffic": {"bytes": rng.u64(64..10_000_000), "packets": rng.u32(1..10_000)},
            "disposition_id": if rng.u8(..20) == 0 { 2 } else { 1 },
        }),
        _ => json!({
            "class_uid": 2004, "activity_id": 1, "severity_id": rng.u8(1..6), "status_id": 1,
            "time": time, "cloud": cloud,
            "metadata": {"uid": uid, "version": "1.1.0", "product": {"name": "DemoDetector", "vendor_name": "ocsf-firehose", "version": "1.0"}},
            "finding_info": {"uid": format!("finding-{uid}"), "title": "Suspicious login burst", "types": ["Credential Access"], "created_time": time},
            "evidences": [{"src_endpoint": {"ip": ip}}],
            "resources": [{"uid": format!("i-{:017x}", rng.u64(..1 << 60)), "type": "AwsEc2Instance"}],
            "message": "demo detection",
        }),
    };
    let invalid = i % INVALID_EVERY == INVALID_EVERY / 2;
    if !invalid {
        let bytes = serde_json::to_vec(&event).unwrap_or_default();
        return DemoEvent {
            bytes,
            valid: true,
            class_uid,
        };
    }
    let bytes = match (i / INVALID_EVERY) % 4 {
        0 => {
            let mut text = serde_json::to_vec(&event).unwrap_or_default();
            text.truncate(text.len() / 2); // not JSON
            text
        }
        1 => {
            remove(&mut event, "metadata"); // attribute_required_missing
            serde_json::to_vec(&event).unwrap_or_default()
        }
        2 => {
            event["severity_id"] = json!("high"); // attribute_wrong_type
            serde_json::to_vec(&event).unwrap_or_default()
        }
        _ => {
            event["time"] = json!("yesterday"); // no usable time
            serde_json::to_vec(&event).unwrap_or_default()
        }
    };
    DemoEvent {
        bytes,
        valid: false,
        class_uid,
    }
}

fn remove(event: &mut Value, key: &str) {
    if let Some(map) = event.as_object_mut() {
        map.remove(key);
    }
}
