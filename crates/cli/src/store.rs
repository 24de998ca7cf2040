//! A lake bucket, or a local folder standing in for one (the local pipeline's `--out`), both
//! addressed by key: where `redrive` reads error objects and keeps its ledger, and what `audit`
//! reads by ranges.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::Context;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

/// Keys per `DeleteObjects` call.
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>)
const S3_MAX_DELETE_KEYS: usize = 1_000;

/// One object: its key (relative to the bucket or folder) and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub key: String,
    pub size: u64,
}

/// A bucket or a folder.
pub(crate) enum Store {
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
    },
    Dir(PathBuf),
}

impl Store {
    /// Where the store is, for messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Store::S3 { bucket, .. } => format!("s3://{bucket}/"),
            Store::Dir(root) => format!("{}/", root.display()),
        }
    }

    /// The keys below `prefix`, sorted.
    pub(crate) async fn list(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let listed = self.list_sized(prefix).await?;
        Ok(listed.into_iter().map(|l| l.key).collect())
    }

    /// The objects below `prefix` with their sizes, sorted by key.
    pub(crate) async fn list_sized(&self, prefix: &str) -> anyhow::Result<Vec<Listed>> {
        let mut listed = match self {
            Store::S3 { client, bucket } => {
                let mut listed = Vec::new();
                let mut pages = client
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(prefix)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page =
                        page.with_context(|| format!("cannot list s3://{bucket}/{prefix}"))?;
                    listed.extend(page.contents().iter().filter_map(|o| {
                        Some(Listed {
                            key: o.key()?.to_owned(),
                            size: o.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                        })
                    }));
                }
                listed
            }
            Store::Dir(root) => list_dir(root, prefix)?,
        };
        listed.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(listed)
    }

    /// `length` bytes of `key` from `start` (a ranged `GetObject`).
    pub(crate) async fn get_range(
        &self,
        key: &str,
        start: u64,
        length: u64,
    ) -> anyhow::Result<bytes::Bytes> {
        if length == 0 {
            return Ok(bytes::Bytes::new());
        }
        self.read(key, Some((start, length))).await
    }

    /// An object's bytes.
    pub(crate) async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        Ok(self.read(key, None).await?.to_vec())
    }

    /// The bytes of `key`, or of its `(start, length)` range.
    async fn read(&self, key: &str, range: Option<(u64, u64)>) -> anyhow::Result<bytes::Bytes> {
        match self {
            Store::S3 { client, bucket } => {
                let object = client
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .set_range(range.map(|(start, length)| {
                        format!("bytes={start}-{}", start + length.max(1) - 1)
                    }))
                    .send()
                    .await
                    .with_context(|| format!("cannot read s3://{bucket}/{key}"))?;
                let body = object
                    .body
                    .collect()
                    .await
                    .with_context(|| format!("cannot read s3://{bucket}/{key}"))?;
                Ok(body.into_bytes())
            }
            Store::Dir(root) => {
                let path = root.join(key);
                let read = || -> std::io::Result<Vec<u8>> {
                    let Some((start, length)) = range else {
                        return std::fs::read(&path);
                    };
                    let mut file = std::fs::File::open(&path)?;
                    file.seek(SeekFrom::Start(start))?;
                    let mut buffer = Vec::new();
                    file.take(length).read_to_end(&mut buffer)?;
                    Ok(buffer)
                };
                let bytes = read().with_context(|| format!("cannot read {}", path.display()))?;
                Ok(bytes::Bytes::from(bytes))
            }
        }
    }

    /// Writes an object (a folder's through a temporary file, so no reader sees half of it).
    pub(crate) async fn put(&self, key: &str, body: Vec<u8>) -> anyhow::Result<()> {
        match self {
            Store::S3 { client, bucket } => {
                client
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(ByteStream::from(body))
                    .send()
                    .await
                    .with_context(|| format!("cannot write s3://{bucket}/{key}"))?;
                Ok(())
            }
            Store::Dir(root) => {
                let path = root.join(key);
                let write = || -> std::io::Result<()> {
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    let partial = path.with_extension("partial");
                    std::fs::write(&partial, &body)?;
                    std::fs::rename(&partial, &path)
                };
                write().with_context(|| format!("cannot write {}", path.display()))
            }
        }
    }

    /// Deletes objects; S3 answers each key, and the first refusal is the error.
    pub(crate) async fn delete(&self, keys: &[String]) -> anyhow::Result<()> {
        match self {
            Store::S3 { client, bucket } => {
                for chunk in keys.chunks(S3_MAX_DELETE_KEYS) {
                    let objects = chunk
                        .iter()
                        .map(|key| ObjectIdentifier::builder().key(key).build())
                        .collect::<Result<Vec<_>, _>>()?;
                    let delete = Delete::builder()
                        .set_objects(Some(objects))
                        .quiet(true)
                        .build()?;
                    let answer = client
                        .delete_objects()
                        .bucket(bucket)
                        .delete(delete)
                        .send()
                        .await
                        .with_context(|| format!("cannot delete from s3://{bucket}/"))?;
                    if let Some(error) = answer.errors().first() {
                        anyhow::bail!(
                            "cannot delete s3://{bucket}/{}: {}",
                            error.key().unwrap_or_default(),
                            error.code().unwrap_or_default()
                        );
                    }
                }
                Ok(())
            }
            Store::Dir(root) => {
                for key in keys {
                    let path = root.join(key);
                    std::fs::remove_file(&path)
                        .with_context(|| format!("cannot delete {}", path.display()))?;
                }
                Ok(())
            }
        }
    }
}

/// The files below `root` whose key (path relative to `root`, `/`-separated) starts with
/// `prefix`.
fn list_dir(root: &Path, prefix: &str) -> anyhow::Result<Vec<Listed>> {
    // Walk from the deepest folder the prefix names, not the whole root.
    let folder = prefix.rsplit_once('/').map_or("", |(folder, _)| folder);
    let start = root.join(folder);
    let mut keys = Vec::new();
    if !start.exists() {
        return Ok(keys);
    }
    for entry in walkdir::WalkDir::new(&start) {
        let entry = entry.with_context(|| format!("cannot list {}", start.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let key = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if key.starts_with(prefix) {
            let size = entry.metadata().map_or(0, |m| m.len());
            keys.push(Listed { key, size });
        }
    }
    Ok(keys)
}
