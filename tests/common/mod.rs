//! Fixtures shared by the integration-test files that `mod common;` them (a subdirectory, so
//! cargo does not build it as a test crate of its own; each including crate gets its own copy,
//! statics included). Not every including file uses every item.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use conflux::mailbox::{policies, Policy};

/// A message whose policy blocks under the overflow lock: it raises [`IN_POLICY`], then waits
/// (10 s at most) until the test raises [`RELEASE_POLICY`], then spills. For tests that must
/// catch a receive while a sender holds the lock. The flags are statics of the including
/// crate and tests run in parallel, so at most one test per file may use it.
pub struct Slow(pub u32);

/// Raised by [`Slow`]'s policy once it runs (the sender holds the overflow lock).
pub static IN_POLICY: AtomicBool = AtomicBool::new(false);
/// Raised by the test to let [`Slow`]'s policy finish.
pub static RELEASE_POLICY: AtomicBool = AtomicBool::new(false);

impl Policy for Slow {
    type Overflow = VecDeque<Slow>;
    fn handle(overflow: &mut VecDeque<Slow>, message: Slow) {
        IN_POLICY.store(true, Ordering::SeqCst);
        let start = Instant::now();
        while !RELEASE_POLICY.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(10) {
            thread::sleep(Duration::from_millis(1));
        }
        policies::spill(overflow, message);
    }
}

/// Waits (5 s at most, from a plain thread: a blocked executor would stop tokio's timers too)
/// until `flag` is raised; returns whether it was.
pub fn wait_for(flag: &AtomicBool) -> bool {
    let start = Instant::now();
    while !flag.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(1));
    }
    flag.load(Ordering::SeqCst)
}

pub fn cap(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

/// A multi-thread tokio runtime with two workers and timers: where users run async receives.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap()
}

/// A message that counts its drops, to prove each message is dropped exactly once; its policy
/// spills. What `id` means is up to the test (often `sender << 32 | sequence`, as
/// [`assert_per_sender_order`] reads it).
pub struct Counted {
    pub id: u64,
    pub drops: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

impl Policy for Counted {
    type Overflow = VecDeque<Counted>;
    fn handle(overflow: &mut VecDeque<Counted>, message: Counted) {
        policies::spill(overflow, message);
    }
}

/// Checks that `ids` hold each sender's sequence numbers `0..` in order, and returns how many
/// each sender had.
pub fn assert_per_sender_order(ids: impl IntoIterator<Item = u64>, senders: usize) -> Vec<u64> {
    let mut next = vec![0u64; senders];
    for id in ids {
        let (who, seq) = ((id >> 32) as usize, id & 0xffff_ffff);
        assert_eq!(
            seq, next[who],
            "sender {who}: out of order, lost or doubled"
        );
        next[who] += 1;
    }
    next
}

/// Counts its wakes.
pub struct CountWakes(pub AtomicUsize);

impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `future` once with `waker`.
pub fn poll_once<F: Future>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}
