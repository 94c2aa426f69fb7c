//! Batch receives against single ones: 1024 queued messages drained by conflux's
//! `try_recv_many(.., 64)`, by its own `try_recv` in a loop, and by tokio's bounded mpsc
//! (`try_recv` in a loop, and `recv_many(.., 64)`, tokio's batch receive).
//!
//! **Why it is fair.** Every contender fills its queue with the same 1024 values untimed, then
//! drains it timed, into a reused `Vec` for the batch forms (cleared after each batch, as an
//! actor's loop would) and through `black_box` for the single ones; the count drained is
//! asserted, so nobody wins by leaving messages behind. tokio's `recv_many` is an `async fn`:
//! it is polled once with a no-op waker (a full channel resolves at the first poll; no runtime,
//! so no scheduler cost is charged to it). The spill case runs conflux alone: the channels have
//! no overflow to refill from.

use std::future::Future;
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use conflux::mailbox::{self, policies::Spill, Receiver, Sender};

use crate::harness::{Case, Contender};

const QUEUED: u64 = 1024;
const BATCH: usize = 64;

type Tx = Sender<Spill<u64>>;
type Rx = Receiver<Spill<u64>>;

fn conflux_mailbox(capacity: usize) -> (Tx, Rx) {
    mailbox::new(NonZeroUsize::new(capacity).unwrap())
}

fn fill(tx: &Tx) {
    for value in 0..QUEUED {
        let _ = tx.enqueue(Spill(value));
    }
}

/// Runs `iterations` rounds of: fill (untimed), then `drain` (timed), which returns how many
/// messages it took; asserts that it took them all.
fn rounds(
    iterations: u64,
    mut fill: impl FnMut(),
    mut drain: impl FnMut() -> u64,
) -> (u64, Duration) {
    let mut took = Duration::ZERO;
    for _ in 0..iterations {
        fill();
        let start = Instant::now();
        let drained = drain();
        took += start.elapsed();
        assert_eq!(drained, QUEUED, "lost messages");
    }
    (iterations * QUEUED, took)
}

fn conflux_batch(capacity: usize) -> Contender {
    let (tx, mut rx) = conflux_mailbox(capacity);
    let mut buffer = Vec::with_capacity(BATCH);
    Contender::timed("conflux try_recv_many(64)", move |iterations| {
        rounds(
            iterations,
            || fill(&tx),
            || {
                let mut drained = 0;
                while let Ok(n) = rx.try_recv_many(&mut buffer, BATCH) {
                    drained += n as u64;
                    black_box(&buffer);
                    buffer.clear();
                }
                drained
            },
        )
    })
}

fn conflux_single(capacity: usize) -> Contender {
    let (tx, mut rx) = conflux_mailbox(capacity);
    Contender::timed("conflux try_recv", move |iterations| {
        rounds(
            iterations,
            || fill(&tx),
            || drain_one_by_one(|| rx.try_recv().ok()),
        )
    })
}

/// Takes messages one `next()` at a time until it finds none: how many it took.
fn drain_one_by_one<M>(mut next: impl FnMut() -> Option<M>) -> u64 {
    let mut drained = 0;
    while let Some(message) = next() {
        black_box(message);
        drained += 1;
    }
    drained
}

fn tokio_channel() -> (
    tokio::sync::mpsc::Sender<u64>,
    tokio::sync::mpsc::Receiver<u64>,
) {
    tokio::sync::mpsc::channel(QUEUED as usize)
}

fn tokio_fill(tx: &tokio::sync::mpsc::Sender<u64>) {
    for value in 0..QUEUED {
        tx.try_send(value).unwrap();
    }
}

fn tokio_single() -> Contender {
    let (tx, mut rx) = tokio_channel();
    Contender::timed("tokio-mpsc try_recv", move |iterations| {
        rounds(
            iterations,
            || tokio_fill(&tx),
            || drain_one_by_one(|| rx.try_recv().ok()),
        )
    })
}

fn tokio_batch() -> Contender {
    let (tx, mut rx) = tokio_channel();
    let mut buffer = Vec::with_capacity(BATCH);
    Contender::timed("tokio-mpsc recv_many(64)", move |iterations| {
        rounds(
            iterations,
            || tokio_fill(&tx),
            || {
                let mut cx = Context::from_waker(Waker::noop());
                let mut drained = 0;
                while drained < QUEUED {
                    let polled = pin!(rx.recv_many(&mut buffer, BATCH)).poll(&mut cx);
                    match polled {
                        Poll::Ready(n) => drained += n as u64,
                        Poll::Pending => break,
                    }
                    black_box(&buffer);
                    buffer.clear();
                }
                drained
            },
        )
    })
}

pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "batch: drain 1024 queued (ready 1024)".to_string(),
            unit: "message",
            contenders: vec![
                conflux_batch(QUEUED as usize),
                conflux_single(QUEUED as usize),
                tokio_single(),
                tokio_batch(),
            ],
        },
        Case {
            name: "batch: drain 1024 queued (ready 64, 960 spilled)".to_string(),
            unit: "message",
            contenders: vec![conflux_batch(64), conflux_single(64)],
        },
    ]
}
