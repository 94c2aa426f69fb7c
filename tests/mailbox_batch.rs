//! The mailbox's batch receives (`recv_many`, `try_recv_many`, `try_iter`),
//! `is_disconnected`, `recv_deadline`, and the sender's `len` / `is_empty` / `same_channel`,
//! on both flavours. Behaviour first, then stress with real threads and a multi-thread tokio
//! runtime: every message delivered once, in its sender's order, dropped exactly once.
#![cfg(not(loom))]

mod common;
use common::{cap, runtime, wait_for, Counted, Slow, IN_POLICY, RELEASE_POLICY};

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use conflux::mailbox::{
    self, policies, policies::Spill, Feedback, RecvTimeoutError, TryRecvError, UnreliablePolicy,
};
use conflux::Unreliable;

/// Checks that `ids` hold each sender's sequence numbers `0..` in order, and returns how many
/// each sender had.
fn assert_per_sender_order(ids: impl IntoIterator<Item = u64>, senders: usize) -> Vec<u64> {
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

#[test]
fn try_recv_many_appends_in_order_across_ready_and_overflow_up_to_the_limit() {
    let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(3));
    for i in 0..10 {
        assert!(sender.enqueue(Spill(i)).accepted()); // 3 in ready, 7 retained
    }
    let mut buffer = vec![Spill(99)];
    assert_eq!(receiver.try_recv_many(&mut buffer, 4), Ok(4));
    assert_eq!(receiver.try_recv_many(&mut buffer, 0), Ok(0));
    assert_eq!(receiver.try_recv_many(&mut buffer, usize::MAX), Ok(6));
    let got: Vec<u32> = buffer.iter().map(|m| m.0).collect();
    assert_eq!(
        got,
        [99, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        "appended, in order"
    );
    assert_eq!(
        receiver.try_recv_many(&mut buffer, 4),
        Err(TryRecvError::Empty)
    );
    assert_eq!(
        sender.enqueue(Spill(10)),
        Feedback::Ok,
        "back on the fast path"
    );
    drop(sender);
    assert_eq!(receiver.try_recv_many(&mut buffer, 4), Ok(1));
    assert_eq!(
        receiver.try_recv_many(&mut buffer, 4),
        Err(TryRecvError::Disconnected)
    );
    assert_eq!(
        receiver.try_recv_many(&mut buffer, 0),
        Ok(0),
        "limit 0: Ok(0) always"
    );
}

#[test]
fn a_batch_leaves_ready_and_overflow_as_single_receives_would() {
    // Overflow refills `ready` after each message a single receive takes; a batch must leave
    // the same split, or later enqueues (and the policies they run) see another overflow.
    for limit in 1..12 {
        let (a_tx, mut a_rx) = mailbox::new::<Spill<u32>>(cap(3));
        let (b_tx, mut b_rx) = mailbox::new::<Spill<u32>>(cap(3));
        for i in 0..10 {
            let _ = a_tx.enqueue(Spill(i));
            let _ = b_tx.enqueue(Spill(i));
        }
        let mut batch = Vec::new();
        let taken = a_rx.try_recv_many(&mut batch, limit).unwrap();
        let singles: Vec<_> = (0..taken).map(|_| b_rx.try_recv().unwrap()).collect();
        assert_eq!(batch, singles);
        // The next enqueue goes the same way in both: Ok only if overflow was emptied.
        assert_eq!(
            a_tx.enqueue(Spill(100)),
            b_tx.enqueue(Spill(100)),
            "limit {limit}"
        );
        assert_eq!(a_tx.len(), b_tx.len());
        assert_eq!(a_tx.stats(), b_tx.stats());
        let rest_a: Vec<_> = a_rx.try_iter().collect();
        let rest_b: Vec<_> = b_rx.try_iter().collect();
        assert_eq!(rest_a, rest_b);
    }
}

#[test]
fn try_iter_takes_what_is_there_and_ends_also_after_disconnection() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(2));
    assert_eq!(receiver.try_iter().count(), 0);
    for i in 0..5 {
        let _ = sender.enqueue(Spill(i));
    }
    let first_two: Vec<u8> = receiver.try_iter().take(2).map(|m| m.0).collect();
    assert_eq!(first_two, [0, 1], "stopping early keeps the rest");
    drop(sender);
    let rest: Vec<u8> = receiver.try_iter().map(|m| m.0).collect();
    assert_eq!(rest, [2, 3, 4]);
    assert_eq!(receiver.try_iter().count(), 0);
    assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn is_disconnected_after_the_last_sender_or_close_while_messages_remain() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(1));
    let second = sender.clone();
    let _ = sender.enqueue(Spill(1));
    let _ = sender.enqueue(Spill(2));
    drop(sender);
    assert!(!receiver.is_disconnected(), "one sender is left");
    drop(second);
    assert!(receiver.is_disconnected());
    assert_eq!(receiver.len(), 2, "messages remain");
    assert_eq!(receiver.try_recv(), Ok(Spill(1)));
    assert_eq!(receiver.try_recv(), Ok(Spill(2)));
    assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));

    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(1));
    let _ = sender.enqueue(Spill(1));
    receiver.close();
    assert!(receiver.is_disconnected(), "close ends intake too");
    assert_eq!(receiver.try_recv(), Ok(Spill(1)));
}

#[test]
fn recv_deadline_times_out_never_early_and_reports_disconnection() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(2));
    let start = Instant::now();
    let deadline = start + Duration::from_millis(30);
    assert_eq!(
        receiver.recv_deadline(deadline),
        Err(RecvTimeoutError::Timeout)
    );
    assert!(Instant::now() >= deadline, "returned before its deadline");
    let late = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        let _ = sender.enqueue(Spill(7));
        sender
    });
    let far = Instant::now() + Duration::from_secs(10);
    assert_eq!(receiver.recv_deadline(far), Ok(Spill(7)));
    drop(late.join().unwrap());
    assert_eq!(
        receiver.recv_deadline(far),
        Err(RecvTimeoutError::Disconnected)
    );
    // A deadline in the past still takes what is buffered (one look, no wait).
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(2));
    let _ = sender.enqueue(Spill(1));
    assert_eq!(receiver.recv_deadline(start), Ok(Spill(1)));
    assert_eq!(
        receiver.recv_deadline(start),
        Err(RecvTimeoutError::Timeout)
    );
}

#[test]
fn sender_len_counts_ready_and_overflow_and_same_channel_tells_mailboxes_apart() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(2));
    let clone = sender.clone();
    let (other, _other_receiver) = mailbox::new::<Spill<u8>>(cap(2));
    assert!(sender.same_channel(&clone) && clone.same_channel(&sender));
    assert!(!sender.same_channel(&other));
    assert!(sender.is_empty());
    for i in 0..5 {
        let _ = sender.enqueue(Spill(i));
        assert_eq!(clone.len(), usize::from(i) + 1);
    }
    let mut batch = Vec::new();
    assert_eq!(receiver.try_recv_many(&mut batch, 3), Ok(3));
    assert_eq!(sender.len(), 2);
    assert_eq!(receiver.len(), 2);
    receiver.try_iter().for_each(drop);
    assert!(sender.is_empty());
    // Many laps of a small ring: the count never drifts.
    for round in 0..1000u32 {
        for i in 0..3 {
            let _ = sender.enqueue(Spill(i));
        }
        assert_eq!(sender.len(), 3, "round {round}");
        let _ = receiver.try_recv();
        assert_eq!(sender.len(), 2, "round {round}");
        batch.clear();
        let _ = receiver.try_recv_many(&mut batch, 2);
        assert!(sender.is_empty(), "round {round}");
    }
    // After close, what is still queued counts until taken.
    let _ = sender.enqueue(Spill(1));
    receiver.close();
    assert_eq!(sender.len(), 1);
    let _ = receiver.try_recv();
    assert_eq!(sender.len(), 0);
}

/// A best-effort message for the unreliable flavour: at most one retained.
#[derive(Debug, PartialEq)]
struct Hint(u32);

impl UnreliablePolicy for Hint {
    type Overflow = VecDeque<Hint>;
    fn handle(overflow: &mut VecDeque<Hint>, hint: Hint) -> bool {
        policies::capped(overflow, hint, 1)
    }
}

#[test]
fn the_unreliable_flavour_has_the_same_api() {
    let (sender, mut receiver) = mailbox::new_unreliable::<Hint>(cap(2));
    assert!(sender.same_channel(&sender.clone()));
    for i in 0..4 {
        let answer = sender.enqueue(Hint(i));
        assert_eq!(answer.is_rejected(), i == 3);
    }
    assert_eq!(sender.len(), 3);
    assert!(!sender.is_empty());
    let mut batch = Vec::new();
    assert_eq!(receiver.try_recv_many(&mut batch, 8), Ok(3));
    assert_eq!(batch, [Hint(0), Hint(1), Hint(2)]);
    assert_eq!(sender.enqueue(Hint(9)), Unreliable::Outcome(Feedback::Ok));
    assert_eq!(receiver.try_iter().collect::<Vec<_>>(), [Hint(9)]);
    assert!(!receiver.is_disconnected());
    drop(sender);
    assert!(receiver.is_disconnected());
    assert_eq!(
        receiver.recv_deadline(Instant::now()),
        Err(RecvTimeoutError::Disconnected)
    );
    let runtime = runtime();
    let got = runtime.block_on(runtime.spawn(async move {
        let mut batch = Vec::new();
        receiver.recv_many(&mut batch, 4).await
    }));
    assert_eq!(got.unwrap(), 0);
}

#[test]
fn recv_many_waits_for_one_then_takes_what_is_there_and_ends_with_zero() {
    let runtime = runtime();
    let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(4));
    let consumer = runtime.spawn(async move {
        let mut batches = Vec::new();
        let mut buffer = Vec::new();
        assert_eq!(
            receiver.recv_many(&mut buffer, 0).await,
            0,
            "limit 0: at once"
        );
        loop {
            let n = receiver.recv_many(&mut buffer, 3).await;
            if n == 0 {
                break;
            }
            assert!(n <= 3);
            batches.push(buffer.drain(..).map(|m| m.0).collect::<Vec<_>>());
        }
        // Ended: stays ended.
        assert_eq!(receiver.recv_many(&mut buffer, 3).await, 0);
        batches
    });
    for i in 0..50 {
        let _ = sender.enqueue(Spill(i));
        if i % 7 == 0 {
            thread::sleep(Duration::from_millis(1));
        }
    }
    drop(sender);
    let batches = runtime.block_on(consumer).unwrap();
    assert!(batches.iter().all(|b| !b.is_empty()));
    let all: Vec<u32> = batches.into_iter().flatten().collect();
    assert_eq!(all, (0..50).collect::<Vec<_>>());
}

#[test]
fn recv_many_after_close_delivers_ready_then_overflow_then_zero() {
    let runtime = runtime();
    let drops = Arc::new(AtomicUsize::new(0));
    let (sender, mut receiver) = mailbox::new::<Counted>(cap(2));
    for id in 0..6 {
        let _ = sender.enqueue(Counted {
            id,
            drops: Arc::clone(&drops),
        });
    }
    receiver.close();
    let late = Counted {
        id: 6,
        drops: Arc::clone(&drops),
    };
    assert_eq!(sender.enqueue(late), Feedback::Closed);
    let ids = runtime
        .block_on(runtime.spawn(async move {
            let mut ids = Vec::new();
            let mut buffer = Vec::new();
            while receiver.recv_many(&mut buffer, 4).await > 0 {
                ids.extend(buffer.drain(..).map(|m| m.id));
            }
            ids
        }))
        .unwrap();
    assert_eq!(ids, [0, 1, 2, 3, 4, 5]);
    assert_eq!(drops.load(Ordering::Relaxed), 7);
    drop(sender);
}

#[test]
fn a_cancelled_recv_many_loses_nothing() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(4));
    let mut buffer = Vec::new();
    let mut cx = Context::from_waker(Waker::noop());
    {
        let mut pending = std::pin::pin!(receiver.recv_many(&mut buffer, 8));
        assert!(pending.as_mut().poll(&mut cx).is_pending());
        let _ = sender.enqueue(Spill(1));
        // Dropped without being polled again.
    }
    let _ = sender.enqueue(Spill(2));
    assert_eq!(
        receiver.poll_recv_many(&mut cx, &mut buffer, 8),
        Poll::Ready(2)
    );
    assert_eq!(buffer, [Spill(1), Spill(2)]);
}

use std::future::Future;

/// For batches: while a sender's policy runs under the overflow lock, an
/// async batch receive that finds `ready` empty returns `Pending` instead of waiting for the
/// lock, and is woken once the policy's message is out. One worker thread: if the receive
/// blocked it, the second task would never run.
#[test]
fn recv_many_never_blocks_its_executor_while_a_policy_runs() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let (sender, mut receiver) = mailbox::new::<Slow>(cap(1));
    let spiller = thread::spawn(move || {
        assert_eq!(sender.enqueue(Slow(1)), Feedback::Ok);
        assert_eq!(sender.enqueue(Slow(2)), Feedback::Backoff); // the policy blocks here
    });
    assert!(wait_for(&IN_POLICY));
    let took_first = Arc::new(AtomicBool::new(false));
    let receiving = {
        let took_first = Arc::clone(&took_first);
        runtime.spawn(async move {
            let mut buffer = Vec::new();
            let first = receiver.recv_many(&mut buffer, 8).await;
            took_first.store(true, Ordering::SeqCst);
            // `ready` is empty now, overflow is active and the lock is held.
            let second = receiver.recv_many(&mut buffer, 8).await;
            let ids: Vec<u32> = buffer.into_iter().map(|Slow(n)| n).collect();
            (first, second, ids)
        })
    };
    assert!(wait_for(&took_first));
    let other_ran = Arc::new(AtomicBool::new(false));
    runtime.spawn({
        let other_ran = Arc::clone(&other_ran);
        async move { other_ran.store(true, Ordering::SeqCst) }
    });
    let ran = wait_for(&other_ran);
    RELEASE_POLICY.store(true, Ordering::SeqCst);
    assert!(
        ran,
        "the executor's only thread was blocked by the batch receive"
    );
    assert_eq!(runtime.block_on(receiving).unwrap(), (1, 1, vec![1, 2]));
    spiller.join().unwrap();
}

/// Stress: 4 sender threads through a capacity-3 mailbox (most messages spill), the receiver a
/// task on a multi-thread runtime taking batches of random-ish sizes; every message arrives
/// once, in its sender's order, and is dropped exactly once.
#[test]
fn recv_many_under_contention_delivers_each_message_once_in_each_senders_order() {
    const SENDERS: usize = 4;
    const EACH: u64 = 20_000;
    let runtime = runtime();
    let drops = Arc::new(AtomicUsize::new(0));
    let (sender, mut receiver) = mailbox::new::<Counted>(cap(3));
    let consumer = runtime.spawn(async move {
        let mut ids = Vec::new();
        let mut buffer = Vec::new();
        let mut limit = 1;
        loop {
            let n = receiver.recv_many(&mut buffer, limit).await;
            if n == 0 {
                break;
            }
            assert!(n <= limit && n == buffer.len());
            ids.extend(buffer.drain(..).map(|m| m.id));
            limit = limit % 37 + 1;
        }
        ids
    });
    let threads: Vec<_> = (0..SENDERS as u64)
        .map(|who| {
            let sender = sender.clone();
            let drops = Arc::clone(&drops);
            thread::spawn(move || {
                for seq in 0..EACH {
                    let message = Counted {
                        id: who << 32 | seq,
                        drops: Arc::clone(&drops),
                    };
                    assert!(sender.enqueue(message).accepted());
                }
            })
        })
        .collect();
    drop(sender);
    for thread in threads {
        thread.join().unwrap();
    }
    let ids = runtime.block_on(consumer).unwrap();
    assert_eq!(ids.len() as u64, SENDERS as u64 * EACH);
    assert_eq!(assert_per_sender_order(ids, SENDERS), vec![EACH; SENDERS]);
    assert_eq!(drops.load(Ordering::Relaxed) as u64, SENDERS as u64 * EACH);
}

/// Stress for the blocking side: `try_recv_many` and `try_iter` polled from a thread while
/// senders spill and the receiver closes intake midway; each accepted message is delivered
/// once, in order, each refused one dropped at once, and nothing is dropped twice.
#[test]
fn try_recv_many_racing_spilling_senders_and_close_strands_and_doubles_nothing() {
    const SENDERS: usize = 3;
    for round in 0..60 {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, mut receiver) = mailbox::new::<Counted>(cap(2));
        let threads: Vec<_> = (0..SENDERS as u64)
            .map(|who| {
                let sender = sender.clone();
                let drops = Arc::clone(&drops);
                thread::spawn(move || {
                    let (mut accepted, mut refused) = (0u64, 0u64);
                    for seq in 0..500u64 {
                        let message = Counted {
                            id: who << 32 | seq,
                            drops: Arc::clone(&drops),
                        };
                        match sender.enqueue(message) {
                            Feedback::Closed => refused += 1,
                            _ => accepted += 1,
                        }
                    }
                    (accepted, refused)
                })
            })
            .collect();
        drop(sender);
        let mut received = Vec::new();
        let mut buffer = Vec::new();
        let mut spins = 0u64;
        loop {
            match receiver.try_recv_many(&mut buffer, 1 + round % 9) {
                Ok(n) => {
                    assert_eq!(n, buffer.len());
                    received.append(&mut buffer);
                }
                Err(TryRecvError::Empty) => thread::yield_now(),
                Err(TryRecvError::Disconnected) => break,
            }
            spins += 1;
            if spins == 50 + (round as u64 % 5) * 40 {
                receiver.close();
            }
            if spins % 3 == 0 {
                received.extend(receiver.try_iter().take(2));
            }
        }
        let (accepted, refused) = threads
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0), |(a, r), (a2, r2)| (a + a2, r + r2));
        assert_eq!(received.len() as u64, accepted, "round {round}");
        assert_per_sender_order(received.iter().map(|m| m.id), SENDERS);
        assert_eq!(
            drops.load(Ordering::Relaxed) as u64,
            refused,
            "round {round}"
        );
        drop(received);
        drop(receiver);
        assert_eq!(drops.load(Ordering::Relaxed) as u64, accepted + refused);
    }
}

/// `Sender::len` read in a loop from other threads while the receiver sleeps in `recv_many`:
/// no published message may be slept through (a depth read takes the overflow lock). Also: the count never exceeds what can be queued.
#[test]
fn sender_len_readers_never_make_the_receiver_sleep_through_a_message() {
    let runtime = runtime();
    let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(2));
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let sender = sender.clone();
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut max = 0;
                while !stop.load(Ordering::Relaxed) {
                    max = max.max(sender.len());
                }
                max
            })
        })
        .collect();
    let consumer = runtime.spawn(async move {
        let mut buffer = Vec::new();
        let mut got = 0u32;
        // The readers' clones keep the mailbox connected: stop at the last message.
        while got < 5_000 {
            assert!(receiver.recv_many(&mut buffer, 2).await > 0);
            for Spill(i) in buffer.drain(..) {
                assert_eq!(i, got);
                got += 1;
            }
        }
        got
    });
    for i in 0..5_000 {
        let _ = sender.enqueue(Spill(i));
        if i % 100 == 0 {
            thread::sleep(Duration::from_micros(200));
        }
    }
    drop(sender);
    let got = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(30), consumer).await })
        .expect("the receiver slept through a message")
        .unwrap();
    assert_eq!(got, 5_000);
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        // 2 in ready; overflow is unbounded for Spill, so only sanity: no wrap-around garbage.
        assert!(reader.join().unwrap() <= 5_000);
    }
}
