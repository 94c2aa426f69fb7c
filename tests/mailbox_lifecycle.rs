//! The mailbox's lifecycle: close (by `Receiver::close` or the receiver's drop) and what it
//! delivers, drops or refuses (also racing senders, and through the batch receives), the
//! senders' `closed()`, disconnection (also racing a last enqueue), user code panicking at
//! close (a `closed()` waker, `Overflow::default`, a message's `Drop`), the stream's end
//! (`FusedStream`), and weak senders.
#![cfg(not(loom))]

mod common;
use common::{assert_per_sender_order, cap, poll_once, runtime, CountWakes, Counted};

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use conflux::mailbox::{self, policies, policies::Spill, Feedback, Overflow, Policy, TryRecvError};

/// `close` stops intake but delivers everything accepted, in order, then ends.
#[test]
fn close_stops_intake_and_delivers_what_was_accepted() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (sender, mut receiver) = mailbox::new::<Counted>(cap(2));
    let counted = |id| Counted {
        id,
        drops: Arc::clone(&drops),
    };
    for id in 0..5 {
        assert!(sender.enqueue(counted(id)).accepted());
    }
    receiver.close();
    receiver.close(); // idempotent
    assert!(sender.is_closed());
    assert_eq!(sender.enqueue(counted(5)), Feedback::Closed);
    assert_eq!(drops.load(Ordering::Relaxed), 1);
    let got: Vec<u64> = std::iter::from_fn(|| receiver.try_recv().ok())
        .map(|m| m.id)
        .collect();
    assert_eq!(got, [0, 1, 2, 3, 4]);
    assert_eq!(receiver.try_recv().err(), Some(TryRecvError::Disconnected));
    assert_eq!(receiver.recv_blocking().map(|m| m.id), None);
    assert_eq!(drops.load(Ordering::Relaxed), 6);
    drop(sender);
    drop(receiver);
    assert_eq!(drops.load(Ordering::Relaxed), 6);
}

#[test]
fn dropping_the_receiver_drops_everything_buffered_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (sender, receiver) = mailbox::new::<Counted>(cap(4));
    for id in 0..10 {
        let _ = sender.enqueue(Counted {
            id,
            drops: Arc::clone(&drops),
        });
    }
    assert_eq!(drops.load(Ordering::Relaxed), 0);
    drop(receiver);
    assert_eq!(
        drops.load(Ordering::Relaxed),
        10,
        "ready and overflow dropped at close"
    );
    assert!(sender.is_closed());
    let late = Counted {
        id: 99,
        drops: Arc::clone(&drops),
    };
    assert_eq!(sender.enqueue(late), Feedback::Closed);
    assert_eq!(
        drops.load(Ordering::Relaxed),
        11,
        "a refused message is dropped at once"
    );
    drop(sender);
    assert_eq!(drops.load(Ordering::Relaxed), 11, "and nothing twice");
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

/// `close` racing senders: every message is either refused (`Closed`, dropped at once) or
/// accepted and then delivered exactly once, in its sender's order; then the receive ends.
#[test]
fn close_racing_senders_delivers_or_refuses_each_message_once() {
    for round in 0..100 {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, mut receiver) = mailbox::new::<Counted>(cap(3));
        let senders: Vec<_> = (0..3u64)
            .map(|who| {
                let sender = sender.clone();
                let drops = Arc::clone(&drops);
                thread::spawn(move || {
                    let mut accepted = 0u64;
                    for seq in 0..200u64 {
                        let message = Counted {
                            id: who << 32 | seq,
                            drops: Arc::clone(&drops),
                        };
                        match sender.enqueue(message) {
                            Feedback::Closed => return (accepted, 1u64),
                            _ => accepted += 1,
                        }
                    }
                    (accepted, 0)
                })
            })
            .collect();
        drop(sender);
        let mut received = Vec::new();
        for _ in 0..round % 7 {
            received.extend(receiver.try_recv().ok());
        }
        receiver.close();
        while let Some(message) = receiver.recv_blocking() {
            received.push(message);
        }
        let (accepted, refused) = senders
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0), |(a, r), (a2, r2)| (a + a2, r + r2));
        assert_eq!(received.len() as u64, accepted, "round {round}");
        let mut next = [0u64; 3];
        for message in &received {
            let (who, seq) = ((message.id >> 32) as usize, message.id & 0xffff_ffff);
            assert_eq!(
                seq, next[who],
                "sender {who} out of order or lost (round {round})"
            );
            next[who] += 1;
        }
        assert_eq!(drops.load(Ordering::Relaxed) as u64, refused);
        drop(received);
        drop(receiver);
        assert_eq!(drops.load(Ordering::Relaxed) as u64, accepted + refused);
    }
}

#[test]
fn close_racing_senders_drops_every_message_exactly_once() {
    for round in 0..200 {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, mut receiver) = mailbox::new::<Counted>(cap(2));
        let senders: Vec<_> = (0..3)
            .map(|_| {
                let (sender, drops) = (sender.clone(), Arc::clone(&drops));
                thread::spawn(move || {
                    let mut made = 0;
                    for id in 0..50 {
                        made += 1;
                        let message = Counted {
                            id,
                            drops: Arc::clone(&drops),
                        };
                        if sender.enqueue(message) == Feedback::Closed {
                            break;
                        }
                    }
                    made
                })
            })
            .collect();
        drop(sender);
        let mut received = 0;
        for _ in 0..(round % 40) {
            if receiver.try_recv().is_ok() {
                received += 1;
            }
        }
        drop(receiver);
        let made: usize = senders.into_iter().map(|s| s.join().unwrap()).sum();
        assert!(received <= made);
        assert_eq!(drops.load(Ordering::Relaxed), made, "round {round}");
    }
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

/// `Sender::closed` completes once the receiver closes or goes, for every waiting
/// sender, inside `tokio::spawn` on a multi-thread runtime.
#[test]
fn closed_completes_for_every_waiting_sender_on_close_or_drop() {
    let runtime = runtime();
    runtime.block_on(async {
        for by_drop in [false, true] {
            let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(2));
            let waiting: Vec<_> = (0..4)
                .map(|_| {
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        sender.closed().await;
                        sender.enqueue(Spill(0))
                    })
                })
                .collect();
            // An abandoned wait leaves nothing behind.
            let abandoned = tokio::time::timeout(Duration::from_millis(10), sender.closed()).await;
            assert!(abandoned.is_err());
            tokio::time::sleep(Duration::from_millis(10)).await;
            if by_drop {
                drop(receiver);
            } else {
                receiver.close();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    drop(receiver);
                });
            }
            for task in waiting {
                let answer = tokio::time::timeout(Duration::from_secs(5), task)
                    .await
                    .expect("a waiting sender was not woken")
                    .unwrap();
                assert_eq!(answer, Feedback::Closed);
            }
            sender.closed().await; // already closed: at once
        }
    });
}

#[test]
fn disconnect_delivers_everything_then_ends_and_wakes_a_waiting_receiver() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(1));
    let _ = sender.enqueue(Spill(1));
    let _ = sender.enqueue(Spill(2)); // in overflow
    drop(sender);
    assert_eq!(receiver.try_recv(), Ok(Spill(1)));
    assert_eq!(receiver.recv_blocking(), Some(Spill(2)));
    assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(receiver.recv_blocking(), None);

    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(1));
    let dropper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(30));
        drop(sender);
    });
    let start = Instant::now();
    assert_eq!(receiver.recv_blocking(), None);
    assert!(start.elapsed() >= Duration::from_millis(25));
    dropper.join().unwrap();
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
fn a_message_enqueued_just_before_the_last_sender_drops_is_never_lost() {
    for round in 0..2_000u32 {
        let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(1));
        let racer = thread::spawn(move || {
            let _ = sender.enqueue(Spill(round));
            let _ = sender.enqueue(Spill(round + 1)); // spills
        });
        let mut got = Vec::new();
        while let Some(Spill(v)) = receiver.recv_blocking() {
            got.push(v);
        }
        assert_eq!(got, [round, round + 1]);
        racer.join().unwrap();
    }
}

/// flume #120's class, async: a message enqueued (one to `ready`, one spilled) just before the
/// last sender drops is delivered before `None`, for a receive awaiting in `tokio::spawn` on
/// a multi-thread runtime (the blocking receive has its own test, above).
#[test]
fn an_enqueue_just_before_the_last_drop_is_delivered_before_the_end_async() {
    common::runtime().block_on(async {
        for round in 0..1_000u32 {
            let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(1));
            let consumer = tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(Spill(v)) = receiver.recv().await {
                    got.push(v);
                }
                got
            });
            let racer = std::thread::spawn(move || {
                let _ = sender.enqueue(Spill(round));
                let _ = sender.enqueue(Spill(round + 1)); // spills unless taken already
            });
            let got = tokio::time::timeout(std::time::Duration::from_secs(10), consumer)
                .await
                .expect("the receive ended")
                .unwrap();
            racer.join().unwrap();
            assert_eq!(got, [round, round + 1], "round {round}");
        }
    });
}

/// A waker whose `wake` panics (user code: it may).
struct ExplodingWaker;

impl Wake for ExplodingWaker {
    fn wake(self: Arc<Self>) {
        panic!("this waker refuses to wake");
    }
}

/// A waker nobody watches (`Waker::noop` is newer than the crate's minimum Rust).
fn noop_waker() -> Waker {
    Waker::from(Arc::new(CountWakes(AtomicUsize::new(0))))
}

/// One panicking waker among the senders awaiting `closed()` used to leave
/// the wakers after it unwoken (the close took them all and woke them one by one). Now every
/// waiter is woken, and the first panic continues from the close afterwards.
#[test]
fn a_panicking_closed_waker_does_not_strand_the_other_waiters() {
    for by_drop in [false, true] {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(2));
        let others = [sender.clone(), sender.clone()];
        let counter = Arc::new(CountWakes(AtomicUsize::new(0)));
        let counting = Waker::from(Arc::clone(&counter));
        let exploding = Waker::from(Arc::new(ExplodingWaker));

        let mut first = pin!(sender.closed());
        assert!(poll_once(first.as_mut(), &exploding).is_pending());
        let mut second = pin!(others[0].closed());
        let mut third = pin!(others[1].closed());
        assert!(poll_once(second.as_mut(), &counting).is_pending());
        assert!(poll_once(third.as_mut(), &counting).is_pending());

        let closed = panic::catch_unwind(AssertUnwindSafe(|| {
            if by_drop {
                drop(receiver);
            } else {
                receiver.close();
            }
        }));
        let payload = closed.expect_err("the waker's panic continues from the close");
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"this waker refuses to wake")
        );
        assert_eq!(counter.0.load(Ordering::SeqCst), 2, "by_drop {by_drop}");
        assert!(poll_once(second.as_mut(), &counting).is_ready());
        assert!(poll_once(third.as_mut(), &counting).is_ready());
        assert!(poll_once(first.as_mut(), &counting).is_ready());
        assert!(sender.is_closed());
        assert_eq!(sender.enqueue(Spill(1)), Feedback::Closed);
    }
}

thread_local! {
    /// How many `Brittle` overflows this thread may still make before `default` panics.
    static DEFAULTS_LEFT: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

/// An overflow whose `Default` panics once its thread's allowance is used up: the mailbox
/// makes one when it is built, and the receiver's drop used to make another (`mem::take`)
/// before it closed anything.
struct Brittle(VecDeque<Tracked>);

impl Default for Brittle {
    fn default() -> Brittle {
        let left = DEFAULTS_LEFT.with(|left| left.get());
        if left == 0 {
            panic!("no more overflows");
        }
        DEFAULTS_LEFT.with(|cell| cell.set(left - 1));
        Brittle(VecDeque::new())
    }
}

impl Overflow<Tracked> for Brittle {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn drain<F: FnMut(Tracked) -> Option<Tracked>>(&mut self, push: F) {
        Overflow::drain(&mut self.0, push);
    }
}

/// A message that counts its drops and is retained in a `Brittle` overflow (the shared
/// `Counted` is retained in a `VecDeque`).
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Policy for Tracked {
    type Overflow = Brittle;
    fn handle(overflow: &mut Brittle, message: Tracked) {
        overflow.0.push_back(message);
    }
}

/// An overflow whose `Default` panics inside the
/// receiver's drop left the mailbox open forever (senders kept getting `Ok` for messages
/// nobody would receive, `closed()` never completed). Now the mailbox is closed before any
/// user code runs; every message is still dropped exactly once.
#[test]
fn a_panicking_overflow_default_at_close_still_closes_the_mailbox() {
    let drops = Arc::new(AtomicUsize::new(0));
    DEFAULTS_LEFT.with(|left| left.set(1));
    let (sender, receiver) = mailbox::new::<Tracked>(cap(1));
    assert_eq!(sender.enqueue(Tracked(Arc::clone(&drops))), Feedback::Ok);
    assert_eq!(
        sender.enqueue(Tracked(Arc::clone(&drops))),
        Feedback::Backoff
    );
    let dropped = panic::catch_unwind(AssertUnwindSafe(move || drop(receiver)));
    DEFAULTS_LEFT.with(|left| left.set(usize::MAX));
    let payload = dropped.expect_err("the overflow's panic continues from the drop");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"no more overflows"));
    assert!(sender.is_closed());
    assert_eq!(
        sender.enqueue(Tracked(Arc::clone(&drops))),
        Feedback::Closed
    );
    assert!(poll_once(pin!(sender.closed()), &noop_waker()).is_ready());
    // The message in `ready` and the refused one are dropped; the retained one goes with
    // the mailbox's memory.
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    drop(sender);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

/// A message whose destructor panics when its id is `poison`.
struct Poisoned {
    id: u64,
    poison: u64,
    drops: Arc<AtomicUsize>,
}

impl Drop for Poisoned {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
        if self.id == self.poison {
            panic!("message {} refuses to be dropped quietly", self.id);
        }
    }
}

impl Policy for Poisoned {
    type Overflow = VecDeque<Poisoned>;
    fn handle(overflow: &mut VecDeque<Poisoned>, message: Poisoned) {
        policies::spill(overflow, message);
    }
}

/// One message's panicking `Drop` during the receiver's drop must not strand the messages
/// after it: all are dropped, then the panic continues.
#[test]
fn a_panicking_message_destructor_does_not_strand_the_others() {
    for poison in [0, 2, 5, 7] {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, receiver) = mailbox::new::<Poisoned>(cap(4));
        for id in 0..8 {
            let message = Poisoned {
                id,
                poison,
                drops: Arc::clone(&drops),
            };
            assert!(sender.enqueue(message).accepted()); // 4 in ready, 4 in overflow
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(receiver)));
        let payload = outcome.expect_err("the destructor's panic continues from the drop");
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some(format!("message {poison} refuses to be dropped quietly").as_str())
        );
        // The sender is still alive: nothing waits for it to let go.
        assert_eq!(drops.load(Ordering::Relaxed), 8, "poison {poison}");
        assert!(sender.is_closed());
        let late = Poisoned {
            id: 99,
            poison,
            drops: Arc::clone(&drops),
        };
        assert_eq!(sender.enqueue(late), Feedback::Closed);
        assert_eq!(drops.load(Ordering::Relaxed), 9);
    }
}

fn poll_stream<S: futures_core::Stream + Unpin>(stream: &mut S) -> Poll<Option<S::Item>> {
    Pin::new(stream).poll_next(&mut Context::from_waker(&noop_waker()))
}

/// Both receivers are `FusedStream`s (`futures::select!` needs it):
/// `is_terminated` turns true exactly when the stream has returned `None`, after the last
/// sender's drop or after `close` once what was accepted is out.
#[test]
fn both_receivers_are_fused_streams() {
    use futures_core::FusedStream;
    for by_close in [false, true] {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(1));
        let _ = sender.enqueue(Spill(1));
        let _ = sender.enqueue(Spill(2)); // retained in overflow
        if by_close {
            receiver.close();
        } else {
            drop(sender);
        }
        for expected in [1, 2] {
            assert!(!receiver.is_terminated());
            assert_eq!(
                poll_stream(&mut receiver),
                Poll::Ready(Some(Spill(expected)))
            );
        }
        assert!(!receiver.is_terminated());
        assert_eq!(poll_stream(&mut receiver), Poll::Ready(None));
        assert!(receiver.is_terminated());
        assert_eq!(poll_stream(&mut receiver), Poll::Ready(None));
        assert!(receiver.is_terminated());
    }
    let (sender, mut receiver) = mailbox::new_unreliable::<Spill<u8>>(cap(1));
    assert!(poll_stream(&mut receiver).is_pending());
    assert!(!receiver.is_terminated());
    drop(sender);
    assert_eq!(poll_stream(&mut receiver), Poll::Ready(None));
    assert!(receiver.is_terminated());
}

/// A weak sender does not count as a sender; it upgrades while a strong one
/// exists, never after the last is gone; clones and both flavours behave alike.
#[test]
fn a_weak_sender_upgrades_only_while_a_sender_exists() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(1));
    let weak = sender.downgrade();
    let weak_clone = weak.clone();
    assert!(weak.same_channel(&weak_clone));
    assert!(format!("{weak:?}").starts_with("WeakSender"));
    let upgraded = weak_clone.upgrade().expect("a sender exists");
    assert!(upgraded.same_channel(&sender));
    drop(sender);
    assert_eq!(upgraded.enqueue(Spill(1)), Feedback::Ok);
    assert_eq!(upgraded.enqueue(Spill(2)), Feedback::Backoff);
    assert!(!receiver.is_disconnected(), "the upgraded sender counts");
    drop(upgraded);
    assert!(receiver.is_disconnected(), "weak senders do not count");
    assert!(weak.upgrade().is_none());
    assert!(weak_clone.upgrade().is_none());
    assert_eq!(receiver.try_recv(), Ok(Spill(1)));
    assert_eq!(receiver.try_recv(), Ok(Spill(2)));
    assert_eq!(
        receiver.try_recv(),
        Err(mailbox::TryRecvError::Disconnected)
    );

    let (sender, mut receiver) = mailbox::new_unreliable::<Spill<u8>>(cap(1));
    let weak: mailbox::WeakUnreliableSender<Spill<u8>> = sender.downgrade();
    let again: mailbox::UnreliableSender<Spill<u8>> = weak.upgrade().unwrap();
    drop(sender);
    assert!(again.enqueue(Spill(3)).accepted());
    drop(again);
    assert_eq!(receiver.recv_blocking(), Some(Spill(3)));
    assert_eq!(receiver.recv_blocking(), None);
    assert!(weak.upgrade().is_none());
}

/// The actor case: an actor that keeps a weak handle to itself still ends
/// when its last real sender goes (on a multi-thread runtime), and a handle it upgraded while
/// a sender existed delivers its message before that end.
#[test]
fn an_actor_holding_a_weak_handle_to_itself_still_ends() {
    common::runtime().block_on(async {
        let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(4));
        let myself = sender.downgrade();
        let actor = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(Spill(i)) = receiver.recv().await {
                seen.push(i);
                if i == 1 {
                    // Reply to itself while a sender still exists.
                    if let Some(me) = myself.upgrade() {
                        let _ = me.enqueue(Spill(100));
                    }
                }
            }
            (seen, myself.upgrade().is_none())
        });
        for i in 0..3 {
            let _ = sender.enqueue(Spill(i));
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        drop(sender);
        let (seen, upgrade_failed) =
            tokio::time::timeout(std::time::Duration::from_secs(10), actor)
                .await
                .expect("the actor ended: its weak handle did not keep it connected")
                .unwrap();
        // 100 comes after 1; where it lands against 2 depends on the actor's speed.
        let ordered: Vec<u32> = seen.iter().copied().filter(|&i| i != 100).collect();
        assert_eq!(ordered, [0, 1, 2]);
        let one = seen.iter().position(|&i| i == 1).unwrap();
        assert!(seen[one + 1..].contains(&100), "{seen:?}");
        assert!(upgrade_failed);
    });
}

/// An upgrade racing the last sender's drop: either it fails, or its message arrives before
/// the end; the receiver always ends (the count is never revived from zero).
#[test]
fn an_upgrade_racing_the_last_drop_never_revives_the_mailbox() {
    for round in 0..2_000u32 {
        let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(1));
        let weak = sender.downgrade();
        let dropper = std::thread::spawn(move || drop(sender));
        let upgrader = std::thread::spawn(move || match weak.upgrade() {
            Some(again) => {
                let _ = again.enqueue(Spill(round));
                true
            }
            None => false,
        });
        let mut got = Vec::new();
        while let Some(Spill(v)) = receiver.recv_blocking() {
            got.push(v);
        }
        dropper.join().unwrap();
        let upgraded = upgrader.join().unwrap();
        assert_eq!(
            got,
            if upgraded { vec![round] } else { vec![] },
            "round {round}"
        );
    }
}
