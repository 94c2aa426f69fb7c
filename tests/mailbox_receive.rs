//! Receiving: every kind of receive (`try_recv`, `recv_blocking`, `recv_timeout`,
//! `recv_deadline`, `recv().await`, the `Stream`, the batches `recv_many` / `try_recv_many` /
//! `try_iter`) on both flavours and under every `WaitStrategy`, the depth reads (`len`,
//! `is_empty`, and `same_channel`), and cancelled receives losing nothing. Behaviour first,
//! then stress: batches of varying sizes against spilling sender threads.
#![cfg(not(loom))]

mod common;
use common::{
    assert_per_sender_order, cap, poll_once, runtime, wait_for, CountWakes, Counted, Slow,
    IN_POLICY, RELEASE_POLICY,
};

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use conflux::mailbox::{
    self, policies, policies::Spill, Feedback, RecvTimeoutError, TryRecvError, UnreliablePolicy,
};
use conflux::Unreliable;

#[test]
fn recv_timeout_never_returns_early_and_gets_a_late_message() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(2));
    for ms in [1, 20] {
        let start = Instant::now();
        assert_eq!(
            receiver.recv_timeout(Duration::from_millis(ms)),
            Err(RecvTimeoutError::Timeout)
        );
        assert!(start.elapsed() >= Duration::from_millis(ms));
    }
    let late = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        let _ = sender.enqueue(Spill(3));
    });
    assert_eq!(receiver.recv_timeout(Duration::from_secs(10)), Ok(Spill(3)));
    late.join().unwrap();
    assert_eq!(
        receiver.recv_timeout(Duration::from_secs(10)),
        Err(RecvTimeoutError::Disconnected)
    );
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

/// flume 0.12's class: `recv_timeout(Duration::MAX)` (a "wait forever" computed by the caller)
/// neither panics (`Instant + Duration` overflows) nor returns early: it waits for a late
/// message, and still sees disconnection.
#[test]
fn a_duration_max_timeout_waits_without_panicking_or_returning_early() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(1));
    let late = thread::spawn(move || {
        thread::sleep(Duration::from_millis(30));
        let _ = sender.enqueue(Spill(1));
        let _ = sender.enqueue(Spill(2)); // spilled
        thread::sleep(Duration::from_millis(30));
    });
    let start = Instant::now();
    assert_eq!(receiver.recv_timeout(Duration::MAX), Ok(Spill(1)));
    assert!(start.elapsed() >= Duration::from_millis(25));
    assert_eq!(receiver.recv_timeout(Duration::MAX), Ok(Spill(2)));
    assert_eq!(
        receiver.recv_timeout(Duration::MAX),
        Err(RecvTimeoutError::Disconnected)
    );
    late.join().unwrap();
    let (_sender, mut unreliable) = mailbox::new_unreliable::<Spill<u8>>(cap(1));
    unreliable.close();
    assert_eq!(
        unreliable.recv_timeout(Duration::MAX),
        Err(RecvTimeoutError::Disconnected)
    );
}

#[test]
fn every_wait_strategy_receives_times_out_and_sees_disconnection() {
    use conflux::WaitStrategy;
    for strategy in [
        WaitStrategy::Adaptive,
        WaitStrategy::Park,
        WaitStrategy::SpinOnly,
        WaitStrategy::Spin(Duration::from_micros(100)),
        WaitStrategy::Spin(Duration::MAX),
    ] {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(2));
        receiver.set_wait_strategy(strategy);
        assert_eq!(receiver.wait_strategy(), strategy);
        assert_eq!(
            receiver.recv_timeout(Duration::from_millis(2)),
            Err(RecvTimeoutError::Timeout),
            "{strategy:?}"
        );
        let producer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1));
            for i in 0..5 {
                let _ = sender.enqueue(Spill(i)); // 3 of them spill past capacity 2
            }
        });
        for i in 0..5 {
            assert_eq!(receiver.recv_blocking(), Some(Spill(i)), "{strategy:?}");
        }
        producer.join().unwrap();
        assert_eq!(receiver.recv_blocking(), None, "{strategy:?}");
    }
}

#[test]
fn async_receive_on_a_multi_thread_runtime_and_as_a_stream() {
    let runtime = runtime();
    runtime.block_on(async {
        let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(4));
        let producer = tokio::spawn(async move {
            for i in 0..64u32 {
                if i % 8 == 0 {
                    tokio::time::sleep(Duration::from_micros(300)).await;
                }
                let _ = sender.enqueue(Spill(i));
            }
        });
        let mut got = Vec::new();
        while let Some(Spill(i)) = receiver.recv().await {
            got.push(i);
        }
        producer.await.unwrap();
        assert_eq!(got, (0..64).collect::<Vec<_>>());

        // As a Stream: poll_next through futures_core, driven by hand.
        let (sender, receiver) = mailbox::new::<Spill<u8>>(cap(2));
        let _ = sender.enqueue(Spill(1));
        drop(sender);
        let mut stream = Box::pin(receiver);
        let next = std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx));
        assert_eq!(next.await, Some(Spill(1)));
        let end = std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx));
        assert_eq!(end.await, None);
    });
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
fn a_cancelled_async_receive_loses_nothing() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(2));
        let waited = tokio::time::timeout(Duration::from_millis(10), receiver.recv()).await;
        assert!(waited.is_err());
        let _ = sender.enqueue(Spill(4));
        assert_eq!(receiver.recv().await, Some(Spill(4)));
    });
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

/// tokio #4618's class: a receive future that was woken by an enqueue and then dropped before
/// it was polled again (a `select!` whose other branch won) loses nothing: the next receive
/// gets the message. Deterministic, with a waker that counts.
#[test]
fn a_woken_then_cancelled_receive_loses_nothing() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(1));
    let counter = Arc::new(CountWakes(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&counter));
    {
        let mut pending = pin!(receiver.recv());
        assert!(poll_once(pending.as_mut(), &waker).is_pending());
        assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
        assert_eq!(sender.enqueue(Spill(2)), Feedback::Backoff); // retained too
        assert!(counter.0.load(Ordering::SeqCst) >= 1, "the enqueue woke it");
    } // dropped without being polled again
    let mut batch = Vec::new();
    {
        let mut pending = pin!(receiver.recv_many(&mut batch, 8));
        assert!(poll_once(pending.as_mut(), &waker).is_ready());
    }
    assert_eq!(batch, [Spill(1), Spill(2)]);
    // The same for a batch receive woken and dropped.
    {
        let mut pending = pin!(receiver.recv_many(&mut batch, 8));
        assert!(poll_once(pending.as_mut(), &waker).is_pending());
        assert_eq!(sender.enqueue(Spill(3)), Feedback::Ok);
    }
    assert_eq!(receiver.try_recv(), Ok(Spill(3)));
}

/// tokio #4618's class on a multi-thread runtime: an actor loop whose `select!` keeps
/// cancelling its receive (a timer branch that wins often) while a sender thread streams
/// messages through `ready` and overflow: every message arrives once, in order.
#[test]
fn receives_cancelled_by_a_racing_select_lose_nothing() {
    const COUNT: u32 = 20_000;
    common::runtime().block_on(async {
        let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(4));
        let actor = tokio::spawn(async move {
            let mut next = 0;
            let mut cancelled = 0u32;
            while next < COUNT {
                tokio::select! {
                    biased;
                    () = tokio::task::yield_now() => cancelled += 1,
                    received = receiver.recv() => {
                        let Spill(v) = received.expect("the sender is alive");
                        assert_eq!(v, next);
                        next += 1;
                    }
                }
            }
            cancelled
        });
        let producer = std::thread::spawn(move || {
            for i in 0..COUNT {
                let _ = sender.enqueue(Spill(i));
                if i % 64 == 0 {
                    std::thread::yield_now();
                }
            }
            sender
        });
        let cancelled = tokio::time::timeout(std::time::Duration::from_secs(60), actor)
            .await
            .expect("every message arrived")
            .unwrap();
        drop(producer.join().unwrap());
        assert!(cancelled > 0);
    });
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
