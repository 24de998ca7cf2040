//! Where `upload` and `send` keep what they have done, so that the same command run again
//! (after a crash, a kill, or events that could not be delivered) delivers every event: once on
//! the direct path, at least once into a stream (which does not deduplicate):
//!
//! * the producer's **spool** (`<state>/spool/`): every accepted event is appended before it is
//!   taken, with its place in the input; on the direct path each object's rows and key are
//!   recorded before the object is stored (a replay stores the same object again under the same
//!   key); events whose delivery failed for a cause that may pass (the endpoint unreachable,
//!   throttled) stay for the next run;
//! * the **manifest** (`<state>/upload.json`): the inputs (path, size, modification time) and
//!   the destination this state belongs to.
//!
//! A run on the same inputs and destination reads on after the last event an earlier run took
//! (every event before it is counted as skipped) and first stores what that run left. The
//! state's default folder is named after the inputs' paths and the destination, under
//! `$XDG_STATE_HOME/ocsf-firehose/uploads/` (else `~/.local/state/…`): other inputs or another
//! destination get another state; an input changed since (size, modification time) finds the
//! earlier state and is refused (`--restart` to upload everything again).

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::Context;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// The manifest's file name inside a state folder.
const MANIFEST: &str = "upload.json";

/// What a state folder belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Manifest {
    /// The inputs, in order.
    inputs: Vec<InputFile>,
    /// `s3://<bucket>`, `firehose:<stream>` or `kinesis:<stream>` (with its endpoint, if not
    /// AWS's), or `dir:<absolute folder>`.
    destination: String,
    /// The location template (`--prefix`).
    prefix: String,
}

/// One input as it was when the state was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct InputFile {
    path: String,
    bytes: u64,
    /// Modification time, nanoseconds since the epoch.
    modified_ns: u128,
}

/// The destination of a run, as the manifest names it.
pub(crate) enum Destination<'a> {
    /// A bucket, with the endpoint it is reached at (`None`: AWS's).
    Bucket(&'a str, Option<&'a str>),
    /// A local folder standing in for the bucket.
    Folder(&'a Path),
    /// A stream (`firehose` or `kinesis`, its name), with the endpoint it is reached at.
    Stream(&'static str, &'a str, Option<&'a str>),
}

/// The state folder of an upload or a send.
#[derive(Debug)]
pub(crate) struct RunState {
    /// The folder.
    pub dir: PathBuf,
    /// Whether the inputs are files that a later run reads again the same (stdin is not): only
    /// then does a run skip what an earlier one took.
    pub resumable: bool,
}

impl RunState {
    /// The state of an upload of `inputs` to `destination` (as [`Destination::name`] names it):
    /// in `dir` when given, else in the
    /// default folder (none for stdin: it cannot be read again). `restart` forgets what the
    /// folder held. A folder holding the state of other inputs (or inputs changed since) is an
    /// error.
    pub(crate) fn open(
        inputs: &[PathBuf],
        destination: &str,
        prefix: &str,
        dir: Option<&Path>,
        restart: bool,
    ) -> anyhow::Result<Option<RunState>> {
        let files = inputs.iter().all(|path| path.as_os_str() != "-") && !inputs.is_empty();
        let manifest = Manifest {
            inputs: if files {
                inputs
                    .iter()
                    .map(|p| input_file(p))
                    .collect::<Result<_, _>>()?
            } else {
                Vec::new()
            },
            destination: destination.to_owned(),
            prefix: prefix.to_owned(),
        };
        let dir = match dir {
            Some(dir) => dir.to_owned(),
            None if files => default_home().join(manifest.digest()),
            None => return Ok(None),
        };
        if restart {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot remove {}", dir.display()))
                }
            }
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the upload state {}", dir.display()))?;
        let path = dir.join(MANIFEST);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let found: Manifest = serde_json::from_slice(&bytes)
                    .with_context(|| format!("{} is no upload state", path.display()))?;
                if found != manifest {
                    anyhow::bail!(
                        "{} holds the state of an earlier upload whose inputs or destination \
                         differ (an input changed since, in size or modification time): \
                         --restart uploads everything again (what the earlier run stored may then \
                         land twice), or give the new events a file of their own",
                        dir.display()
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let staged = dir.join(format!("{MANIFEST}.tmp"));
                std::fs::write(&staged, serde_json::to_vec_pretty(&manifest)?)
                    .and_then(|()| std::fs::rename(&staged, &path))
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
        Ok(Some(RunState {
            dir,
            resumable: files,
        }))
    }

    /// The producer's spool folder.
    pub(crate) fn spool(&self) -> PathBuf {
        self.dir.join("spool")
    }
}

impl Destination<'_> {
    /// The destination as the manifest and the summary name it.
    pub(crate) fn name(&self) -> anyhow::Result<String> {
        Ok(match self {
            Destination::Bucket(bucket, None) => format!("s3://{bucket}"),
            Destination::Bucket(bucket, Some(endpoint)) => format!("s3://{bucket} at {endpoint}"),
            Destination::Stream(kind, name, None) => format!("{kind}:{name}"),
            Destination::Stream(kind, name, Some(endpoint)) => {
                format!("{kind}:{name} at {endpoint}")
            }
            Destination::Folder(folder) => {
                std::fs::create_dir_all(folder)
                    .with_context(|| format!("cannot create {}", folder.display()))?;
                let absolute = std::fs::canonicalize(folder)
                    .with_context(|| format!("cannot resolve {}", folder.display()))?;
                format!("dir:{}", absolute.display())
            }
        })
    }
}

impl Manifest {
    /// A name for the default folder: the MD5 of the inputs' paths, the destination and the
    /// prefix, in hex. Not of the sizes and times: an input changed since an earlier run finds
    /// that run's state, and is refused rather than uploaded again beside it.
    fn digest(&self) -> String {
        let paths: Vec<&str> = self.inputs.iter().map(|i| i.path.as_str()).collect();
        let bytes =
            serde_json::to_vec(&(paths, &self.destination, &self.prefix)).unwrap_or_default();
        Md5::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn input_file(path: &Path) -> anyhow::Result<InputFile> {
    let absolute =
        std::fs::canonicalize(path).with_context(|| format!("cannot read {}", path.display()))?;
    let metadata =
        std::fs::metadata(&absolute).with_context(|| format!("cannot read {}", path.display()))?;
    let modified_ns = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok(InputFile {
        path: absolute.display().to_string(),
        bytes: metadata.len(),
        modified_ns,
    })
}

/// `$XDG_STATE_HOME/ocsf-firehose/uploads`, else `~/.local/state/ocsf-firehose/uploads`, else
/// the temporary folder's.
fn default_home() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".local/state"))
        })
        .unwrap_or_else(std::env::temp_dir);
    base.join("ocsf-firehose").join("uploads")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ocsf-upload-state-{name}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_same_upload_finds_its_state_and_another_is_refused() {
        let root = temp("same");
        let input = root.join("events.jsonl");
        std::fs::write(&input, "{}\n").unwrap();
        let out = root.join("lake");
        let state = root.join("state");
        let open = |restart| {
            RunState::open(
                std::slice::from_ref(&input),
                &Destination::Folder(&out).name().unwrap(),
                "ext/{source}/",
                Some(&state),
                restart,
            )
        };
        let first = open(false).unwrap().unwrap();
        assert!(first.resumable);
        assert_eq!(open(false).unwrap().unwrap().dir, first.dir);
        // The input changes: the earlier state is refused.
        std::fs::write(&input, "{}\n{}\n").unwrap();
        let refused = open(false).unwrap_err().to_string();
        assert!(refused.contains("an input changed since"), "{refused}");
        std::fs::write(state.join("spool-marker"), "x").unwrap();
        open(true).unwrap().unwrap();
        assert!(!state.join("spool-marker").exists(), "--restart forgets it");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn stdin_has_no_default_state_and_is_never_resumed() {
        let out = temp("stdin");
        let stdin = [PathBuf::from("-")];
        let folder = Destination::Folder(&out).name().unwrap();
        assert!(RunState::open(&stdin, &folder, "p", None, false)
            .unwrap()
            .is_none());
        let given = out.join("state");
        let state = RunState::open(&stdin, &folder, "p", Some(&given), false)
            .unwrap()
            .unwrap();
        assert!(!state.resumable);
        std::fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn default_folders_differ_by_destination_not_by_input_times() {
        let a = Manifest {
            inputs: Vec::new(),
            destination: "s3://a".into(),
            prefix: "ext/{source}/".into(),
        };
        let b = Manifest {
            destination: "s3://b".into(),
            ..a.clone()
        };
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest().len(), 32);
        let input = |modified_ns| InputFile {
            path: "/data/events.jsonl".into(),
            bytes: 10,
            modified_ns,
        };
        let then = Manifest {
            inputs: vec![input(1)],
            ..a.clone()
        };
        let now = Manifest {
            inputs: vec![input(2)],
            ..a
        };
        assert_eq!(
            then.digest(),
            now.digest(),
            "the same folder: the change is refused"
        );
    }
}
