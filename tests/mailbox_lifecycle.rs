//! The mailbox's lifecycle: close (by `Receiver::close` or the receiver's drop), the senders'
//! `closed()`, disconnection, weak senders, and the stream's end (`FusedStream`).

#[allow(dead_code)] // not every fixture is used here
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

/// Issue 19 item 3: one panicking waker among the senders awaiting `closed()` used to leave
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

/// Issue 19 item 3 (the unproven half, proven): an overflow whose `Default` panics inside the
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

/// Issue 19 item 5: both receivers are `FusedStream`s (`futures::select!` needs it):
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
