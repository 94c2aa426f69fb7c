//! A thread-based worker pool fed by mailboxes with `recv_blocking`: a dispatcher spreads jobs
//! over one mailbox per worker, round robin, never blocking; `Backoff` tells it a worker is
//! behind (the job waits in that worker's overflow) and is counted.
//!
//! Run: `cargo run --example worker_pool`. It checks its own result: every job is done
//! exactly once, and each worker did its jobs in dispatch order.

use std::num::NonZeroUsize;
use std::sync::mpsc;
use std::thread;

use conflux::mailbox::{self, policies::Spill, Feedback};

const WORKERS: usize = 4;
const JOBS: u64 = 10_000;

fn main() {
    let (done_tx, done_rx) = mpsc::channel::<(usize, u64)>();
    let mut senders = Vec::new();
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        let (sender, mut receiver) = mailbox::new::<Spill<u64>>(NonZeroUsize::new(32).unwrap());
        let done = done_tx.clone();
        senders.push(sender);
        workers.push(thread::spawn(move || {
            let mut last = None;
            // Parks when idle; returns None once the dispatcher drops its sender.
            while let Some(Spill(job)) = receiver.recv_blocking() {
                assert!(last < Some(job), "worker {worker} got jobs out of order");
                last = Some(job);
                let checksum = (0..job % 64).fold(job, |acc, x| acc.rotate_left(5) ^ x);
                done.send((worker, checksum)).unwrap();
            }
        }));
    }
    drop(done_tx);

    let (mut next_worker, mut backoffs) = (0, 0u64);
    for job in 0..JOBS {
        // Backoff: this worker is behind and its mailbox kept the job in overflow. A real
        // dispatcher might skip it next round; here we count it.
        if senders[next_worker].enqueue(Spill(job)) == Feedback::Backoff {
            backoffs += 1;
        }
        next_worker = (next_worker + 1) % WORKERS;
    }
    drop(senders);

    let mut per_worker = [0u64; WORKERS];
    for (worker, _checksum) in done_rx {
        per_worker[worker] += 1;
    }
    for worker in workers {
        worker.join().unwrap();
    }
    assert_eq!(
        per_worker.iter().sum::<u64>(),
        JOBS,
        "every job done exactly once"
    );
    println!(
        "{JOBS} jobs over {WORKERS} workers {per_worker:?}; {backoffs} dispatches hit Backoff"
    );
}
