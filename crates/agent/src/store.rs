//! The on-disk store-and-forward queue (redb): one table of `u64` sequence number →
//! the uplink as its JSON line. A message is removed only when the module reports it
//! delivered; after a restart the backlog is read back in sequence order.
//!
//! **Overflow policy**: the store holds at most `max_messages` messages and `max_bytes` bytes
//! of serialized uplinks. When a new message would exceed either bound it is **refused**
//! ([`StoreError::Full`], which the agent turns into an `error` line for that app line);
//! nothing already accepted is ever dropped. The app sees the refusal and can retry later.

use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

const QUEUE: TableDefinition<u64, &[u8]> = TableDefinition::new("queue");

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
    /// When this process accepted each message still (perhaps) waiting, oldest first; the
    /// backlog's age. Messages from an earlier run count from `opened_at`.
    pushed: VecDeque<(u64, Instant)>,
    opened_at: Instant,
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
        let db_ = Database::create(path).map_err(db)?;
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
        })
    }

    /// How long the oldest waiting message has waited (since this process accepted it, or
    /// since the store was opened for one from an earlier run); `None` when empty.
    pub fn oldest_age(&mut self) -> Result<Option<Duration>, StoreError> {
        let Some((oldest, _)) = self.next_after(0)? else {
            self.pushed.clear();
            return Ok(None);
        };
        while self.pushed.front().is_some_and(|(seq, _)| *seq < oldest) {
            self.pushed.pop_front();
        }
        let since = match self.pushed.front() {
            Some((seq, at)) if *seq == oldest => *at,
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
        if self.count + 1 > self.max_messages || self.bytes + data.len() as u64 > self.max_bytes {
            return Err(StoreError::Full {
                count: self.count,
                bytes: self.bytes,
                max_messages: self.max_messages,
                max_bytes: self.max_bytes,
            });
        }
        let seq = self.next_seq;
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut table = txn.open_table(QUEUE).map_err(db)?;
            table.insert(seq, data).map_err(db)?;
        }
        txn.commit().map_err(db)?;
        self.next_seq += 1;
        self.count += 1;
        self.bytes += data.len() as u64;
        self.pushed.push_back((seq, Instant::now()));
        Ok(seq)
    }

    /// Removes a delivered message. Removing an absent one is not an error.
    pub fn remove(&mut self, seq: u64) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let removed = {
            let mut table = txn.open_table(QUEUE).map_err(db)?;
            let old = table.remove(seq).map_err(db)?;
            old.map(|v| v.value().len() as u64)
        };
        txn.commit().map_err(db)?;
        if let Some(len) = removed {
            self.count -= 1;
            self.bytes -= len;
        }
        // Keeps `pushed` short when deliveries come in order (out of order ones are
        // trimmed by `oldest_age`).
        if self.count == 0 {
            self.pushed.clear();
        } else if self.pushed.front().is_some_and(|(s, _)| *s == seq) {
            self.pushed.pop_front();
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
