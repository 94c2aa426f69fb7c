//! The mailbox's lifecycle: close (by `Receiver::close` or the receiver's drop), the senders'
//! `closed()`, disconnection, weak senders, and the stream's end (`FusedStream`).
#![cfg(not(loom))]

mod common;

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use common::cap;
use conflux::mailbox::{self, policies::Spill, Feedback, Overflow, Policy};

/// Counts its wakes.
struct CountWakes(AtomicUsize);

impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
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

fn poll_once<F: Future>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
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
struct Brittle(VecDeque<Counted>);

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

impl Overflow<Counted> for Brittle {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn drain<F: FnMut(Counted) -> Option<Counted>>(&mut self, push: F) {
        Overflow::drain(&mut self.0, push);
    }
}

struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Policy for Counted {
    type Overflow = Brittle;
    fn handle(overflow: &mut Brittle, message: Counted) {
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
    let (sender, receiver) = mailbox::new::<Counted>(cap(1));
    assert_eq!(sender.enqueue(Counted(Arc::clone(&drops))), Feedback::Ok);
    assert_eq!(
        sender.enqueue(Counted(Arc::clone(&drops))),
        Feedback::Backoff
    );
    let dropped = panic::catch_unwind(AssertUnwindSafe(move || drop(receiver)));
    DEFAULTS_LEFT.with(|left| left.set(usize::MAX));
    let payload = dropped.expect_err("the overflow's panic continues from the drop");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"no more overflows"));
    assert!(sender.is_closed());
    assert_eq!(
        sender.enqueue(Counted(Arc::clone(&drops))),
        Feedback::Closed
    );
    assert!(poll_once(pin!(sender.closed()), &noop_waker()).is_ready());
    // The message in `ready` and the refused one are dropped; the retained one goes with
    // the mailbox's memory.
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    drop(sender);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
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

/// flume #120's class, async: a message enqueued (one to `ready`, one spilled) just before the
/// last sender drops is delivered before `None`, for a receive awaiting in `tokio::spawn` on
/// a multi-thread runtime (the blocking receive has its own test in `mailbox_behaviour.rs`).
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
