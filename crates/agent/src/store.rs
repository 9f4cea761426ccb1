//! The on-disk store-and-forward queue (redb): one table of `u64` sequence number →
//! the uplink as its JSON line. A message is removed only when the module reports it
//! delivered; after a restart the backlog is read back in sequence order.
//!
//! **Commits**: lines accepted together (what the app wrote in one burst) are stored in one
//! durable commit, and a publish's lines are removed in one commit. A removal need not be
//! durable at once (`Durability::None`, made durable by the next durable commit, at the latest
//! every [`LAZY_REMOVALS`] removals): after a power cut a removal that was lost only means the
//! message is sent again, which QoS 1's at-least-once allows; an accepted line is never lost.
//!
//! **Overflow policy**: the store holds at most `max_messages` messages and `max_bytes` bytes
//! of serialized uplinks. When a new message would exceed either bound it is **refused**
//! ([`StoreError::Full`], which the agent turns into an `error` line for that app line);
//! nothing already accepted is ever dropped. The app sees the refusal and can retry later.

use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
};

const QUEUE: TableDefinition<u64, &[u8]> = TableDefinition::new("queue");

/// redb's page cache. Its default (1 GiB) would let a large backlog fill the agent's memory;
/// the queue is read sequentially, so a small cache costs nothing.
const CACHE_BYTES: usize = 64 * 1024;

/// How finely the backlog's age is known.
const AGE_RESOLUTION: Duration = Duration::from_millis(20);

/// Removals committed without waiting for the disk before one that waits.
pub const LAZY_REMOVALS: u32 = 64;

/// Store errors. Messages never include message contents.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The bound would be exceeded; the message was not stored.
    #[error("store full: {count} messages / {bytes} bytes waiting (limits: store.max_messages = {max_messages}, store.max_bytes = {max_bytes}); the line was not accepted")]
    Full {
        /// Messages waiting.
        count: u64,
        /// Bytes waiting.
        bytes: u64,
        /// The message bound.
        max_messages: u64,
        /// The byte bound.
        max_bytes: u64,
    },
    /// redb failed.
    #[error("store: {0}")]
    Db(String),
}

fn db<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Db(e.to_string())
}

/// The queue.
pub struct Store {
    db: Database,
    count: u64,
    bytes: u64,
    next_seq: u64,
    max_messages: u64,
    max_bytes: u64,
    /// When this process accepted messages still (perhaps) waiting, oldest first: the
    /// backlog's age. Sampled (a commit starts a new sample only [`AGE_RESOLUTION`] after
    /// the last one), so a backlog of thousands accepted in a burst holds a few entries, not
    /// one each. Messages from an earlier run count from `opened_at`.
    pushed: VecDeque<(u64, Instant)>,
    opened_at: Instant,
    /// Removals committed since the last durable commit.
    lazy: u32,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("count", &self.count)
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl Store {
    /// Opens (or creates) the store at `path` with its bounds.
    pub fn open(path: &Path, max_messages: u64, max_bytes: u64) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(db)?;
            }
        }
        let db_ = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(db)?;
        let (mut count, mut bytes, mut last) = (0u64, 0u64, 0u64);
        {
            let txn = db_.begin_write().map_err(db)?;
            {
                let table = txn.open_table(QUEUE).map_err(db)?;
                for entry in table.iter().map_err(db)? {
                    let (k, v) = entry.map_err(db)?;
                    count += 1;
                    bytes += v.value().len() as u64;
                    last = last.max(k.value());
                }
            }
            txn.commit().map_err(db)?;
        }
        Ok(Store {
            db: db_,
            count,
            bytes,
            next_seq: last + 1,
            max_messages,
            max_bytes,
            pushed: VecDeque::new(),
            opened_at: Instant::now(),
            lazy: 0,
        })
    }

    /// How long the oldest waiting message has waited (since this process accepted it, or
    /// since the store was opened for one from an earlier run); `None` when empty.
    pub fn oldest_age(&mut self) -> Result<Option<Duration>, StoreError> {
        let Some((oldest, _)) = self.next_after(0)? else {
            self.pushed.clear();
            return Ok(None);
        };
        // Keep the last sample at or before the oldest message: it was accepted at most
        // `AGE_RESOLUTION` before it.
        while self.pushed.get(1).is_some_and(|(seq, _)| *seq <= oldest) {
            self.pushed.pop_front();
        }
        let since = match self.pushed.front() {
            Some((seq, at)) if *seq <= oldest => *at,
            _ => self.opened_at,
        };
        Ok(Some(since.elapsed()))
    }

    /// Messages waiting.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends a message (durably) and returns its sequence number, or refuses it when a
    /// bound would be exceeded.
    pub fn push(&mut self, data: &[u8]) -> Result<u64, StoreError> {
        self.push_many(&[data]).remove(0)
    }

    /// Appends messages in one durable commit: for each, its sequence number or why it was
    /// refused (a bound; or the commit failed, and then none was stored).
    pub fn push_many(&mut self, items: &[&[u8]]) -> Vec<Result<u64, StoreError>> {
        let (mut count, mut bytes, mut seq) = (self.count, self.bytes, self.next_seq);
        let mut out = Vec::with_capacity(items.len());
        let mut accepted = Vec::new();
        for data in items {
            if count + 1 > self.max_messages || bytes + data.len() as u64 > self.max_bytes {
                out.push(Err(StoreError::Full {
                    count,
                    bytes,
                    max_messages: self.max_messages,
                    max_bytes: self.max_bytes,
                }));
                continue;
            }
            accepted.push((seq, *data));
            out.push(Ok(seq));
            count += 1;
            bytes += data.len() as u64;
            seq += 1;
        }
        if accepted.is_empty() {
            return out;
        }
        let committed = (|| {
            let txn = self.db.begin_write().map_err(db)?;
            {
                let mut table = txn.open_table(QUEUE).map_err(db)?;
                for (seq, data) in &accepted {
                    table.insert(*seq, *data).map_err(db)?;
                }
            }
            txn.commit().map_err(db)
        })();
        match committed {
            Ok(()) => {
                (self.count, self.bytes, self.next_seq) = (count, bytes, seq);
                self.lazy = 0;
                let now = Instant::now();
                let sampled = self
                    .pushed
                    .back()
                    .is_some_and(|(_, at)| now.duration_since(*at) < AGE_RESOLUTION);
                if !sampled {
                    self.pushed.push_back((accepted[0].0, now));
                }
                out
            }
            Err(e) => out
                .into_iter()
                .map(|r| r.and_then(|_| Err(StoreError::Db(e.to_string()))))
                .collect(),
        }
    }

    /// Removes a delivered message. Removing an absent one is not an error.
    pub fn remove(&mut self, seq: u64) -> Result<(), StoreError> {
        self.remove_many(&[seq])
    }

    /// Removes delivered messages in one commit, durable at once only every
    /// [`LAZY_REMOVALS`] (see the module documentation). Absent ones are skipped.
    pub fn remove_many(&mut self, seqs: &[u64]) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().map_err(db)?;
        let lazy = self.lazy + 1 < LAZY_REMOVALS;
        if lazy {
            txn.set_durability(Durability::None).map_err(db)?;
        }
        let mut removed = (0u64, 0u64);
        {
            let mut table = txn.open_table(QUEUE).map_err(db)?;
            for seq in seqs {
                if let Some(v) = table.remove(*seq).map_err(db)? {
                    removed.0 += 1;
                    removed.1 += v.value().len() as u64;
                }
            }
        }
        txn.commit().map_err(db)?;
        self.lazy = if lazy { self.lazy + 1 } else { 0 };
        self.count -= removed.0;
        self.bytes -= removed.1;
        // `oldest_age` trims the samples of delivered messages.
        if self.count == 0 {
            self.pushed.clear();
        }
        Ok(())
    }

    /// The first message with a sequence number above `after`.
    pub fn next_after(&self, after: u64) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(QUEUE).map_err(db)?;
        let mut range = table.range((after + 1)..).map_err(db)?;
        match range.next() {
            Some(entry) => {
                let (k, v) = entry.map_err(db)?;
                Ok(Some((k.value(), v.value().to_vec())))
            }
            None => Ok(None),
        }
    }

    /// Every waiting message in order (for inspection and tests).
    pub fn all(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(QUEUE).map_err(db)?;
        debug_assert_eq!(table.len().unwrap_or(0), self.count);
        let mut out = Vec::new();
        for entry in table.iter().map_err(db)? {
            let (k, v) = entry.map_err(db)?;
            out.push((k.value(), v.value().to_vec()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_remove_and_reopen_keep_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.redb");
        {
            let mut s = Store::open(&path, 10, 10_000).unwrap();
            assert_eq!(s.push(b"a").unwrap(), 1);
            assert_eq!(s.push(b"bb").unwrap(), 2);
            assert_eq!(s.push(b"ccc").unwrap(), 3);
            s.remove(2).unwrap();
            assert_eq!((s.len(), s.bytes()), (2, 4));
        }
        let s = Store::open(&path, 10, 10_000).unwrap();
        assert_eq!((s.len(), s.bytes()), (2, 4));
        assert_eq!(s.next_after(0).unwrap(), Some((1, b"a".to_vec())));
        assert_eq!(s.next_after(1).unwrap(), Some((3, b"ccc".to_vec())));
        assert_eq!(s.next_after(3).unwrap(), None);
        let mut s = s;
        // Sequence numbers keep growing after a restart.
        assert_eq!(s.push(b"d").unwrap(), 4);
    }

    #[test]
    fn the_backlog_age_is_the_oldest_waiting_message_s() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.redb");
        {
            let mut s = Store::open(&path, 10, 10_000).unwrap();
            assert_eq!(s.oldest_age().unwrap(), None);
            s.push(b"a").unwrap();
            std::thread::sleep(Duration::from_millis(30));
            s.push(b"b").unwrap();
            let first = s.oldest_age().unwrap().unwrap();
            assert!(first >= Duration::from_millis(30), "{first:?}");
            s.remove(1).unwrap();
            let second = s.oldest_age().unwrap().unwrap();
            assert!(second < first, "{second:?} < {first:?}");
            s.remove(2).unwrap();
            assert_eq!(s.oldest_age().unwrap(), None);
            s.push(b"c").unwrap();
        }
        // From an earlier run: counted from the reopen.
        let mut s = Store::open(&path, 10, 10_000).unwrap();
        assert!(s.oldest_age().unwrap().unwrap() < Duration::from_secs(5));
    }

    #[test]
    fn group_commits_keep_bounds_and_lazy_removals_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.redb");
        {
            let mut s = Store::open(&path, 3, 10_000).unwrap();
            let r = s.push_many(&[b"a", b"b", b"c", b"d"]);
            let seqs: Vec<u64> = r[..3].iter().map(|r| *r.as_ref().unwrap()).collect();
            assert_eq!(seqs, [1, 2, 3]);
            assert!(matches!(r[3], Err(StoreError::Full { count: 3, .. })));
            s.remove_many(&[1, 3, 99]).unwrap();
            assert_eq!((s.len(), s.bytes()), (1, 1));
        }
        let s = Store::open(&path, 3, 10_000).unwrap();
        assert_eq!(s.all().unwrap(), vec![(2, b"b".to_vec())]);
    }

    #[test]
    fn overflow_refuses_new_and_keeps_old() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("q.redb"), 2, 10_000).unwrap();
        s.push(b"1").unwrap();
        s.push(b"2").unwrap();
        let e = s.push(b"3").unwrap_err();
        assert!(e.to_string().contains("store.max_messages = 2"), "{e}");
        assert_eq!(s.all().unwrap().len(), 2);
        let mut s = Store::open(&dir.path().join("b.redb"), 100, 5).unwrap();
        s.push(b"1234").unwrap();
        assert!(matches!(
            s.push(b"12"),
            Err(StoreError::Full { bytes: 4, .. })
        ));
        s.remove(1).unwrap();
        s.push(b"12").unwrap();
    }
}
