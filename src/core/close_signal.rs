//! [`CloseSignal`]: how producers awaiting `closed()` (the mailbox's and the notify channel's
//! senders) learn that the consumer closed intake or went away.
//!
//! ```text
//!   Sender::closed().await                          Receiver::close / drop
//!   ──────────────────────                          ──────────────────────
//!   lock; closed? ─ yes ─▶ Ready                    lock; closed = true; take every waker
//!         │ no                                      unlock; wake each (outside the lock,
//!         ▼                                         every one even if some panic)
//!   keep (id, waker); unlock; Pending ◀───────────  woken
//!   (the future's drop removes its entry)
//! ```
//!
//! Any number of senders may wait, so the wakers live in a list behind a mutex of their own:
//! only senders that await `closed()` and the one close ever take it, never an enqueue, a
//! notify or a receive. The `closed` flag lives under the same mutex, so "check, then register"
//! and "set, then take the wakers" cannot interleave badly; nothing else orders them.
//!
//! A waker is user code: its `wake` may panic. The close wakes every waker anyway (each under
//! `catch_unwind`) and re-raises the first panic once all are woken, so one faulty waker never
//! strands the other waiters. No waker ever runs under the lock.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::sync::{self, Mutex};

/// The wakers of producers awaiting the consumer's close.
pub(crate) struct CloseSignal {
    state: Mutex<Waiting>,
}

struct Waiting {
    closed: bool,
    /// Each waiting future's id and its latest waker.
    wakers: Vec<(u64, Waker)>,
    next_id: u64,
}

impl CloseSignal {
    pub(crate) fn new() -> CloseSignal {
        CloseSignal {
            state: Mutex::new(Waiting {
                closed: false,
                wakers: Vec::new(),
                next_id: 0,
            }),
        }
    }

    /// Marks the signal closed and wakes every waiting producer. Idempotent.
    ///
    /// # Panics
    ///
    /// If a waker's `wake` panics: after every other waker has been woken, the first panic
    /// continues from here. The signal is closed either way.
    pub(crate) fn close(&self) {
        if let Some(payload) = self.close_catching() {
            panic::resume_unwind(payload);
        }
    }

    /// [`close`](Self::close), handing back the first panic of a waker instead of raising it,
    /// for a caller with more to do before it re-raises.
    pub(crate) fn close_catching(&self) -> Option<Box<dyn Any + Send>> {
        let wakers = {
            let mut state = sync::lock(&self.state);
            state.closed = true;
            std::mem::take(&mut state.wakers)
        };
        // Outside the lock: a waker may run user code, even re-enter `closed()`. Each under
        // `catch_unwind`, so a panicking one does not leave the rest unwoken.
        let mut first_panic = None;
        for (_, waker) in wakers {
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(move || waker.wake())) {
                first_panic.get_or_insert(payload);
            }
        }
        first_panic
    }

    /// A future that completes once [`close`](Self::close) has been called.
    pub(crate) fn wait(&self) -> ClosedFuture<'_> {
        ClosedFuture {
            signal: self,
            id: None,
        }
    }
}

/// The future behind the senders' `closed()`: registers its waker until the close, and withdraws it
/// when dropped, so futures abandoned in a `select!` loop do not pile up.
pub(crate) struct ClosedFuture<'a> {
    signal: &'a CloseSignal,
    id: Option<u64>,
}

impl Future for ClosedFuture<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = sync::lock(&this.signal.state);
        if state.closed {
            this.id = None;
            return Poll::Ready(());
        }
        match this.id {
            Some(id) => {
                if let Some((_, waker)) = state.wakers.iter_mut().find(|(entry, _)| *entry == id) {
                    if !waker.will_wake(cx.waker()) {
                        waker.clone_from(cx.waker());
                    }
                }
            }
            None => {
                let id = state.next_id;
                state.next_id += 1;
                state.wakers.push((id, cx.waker().clone()));
                this.id = Some(id);
            }
        }
        Poll::Pending
    }
}

impl Drop for ClosedFuture<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let removed = {
                let mut state = sync::lock(&self.signal.state);
                let at = state.wakers.iter().position(|(entry, _)| *entry == id);
                at.map(|at| state.wakers.swap_remove(at))
            };
            drop(removed);
        }
    }
}

impl fmt::Debug for CloseSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = sync::lock(&self.state);
        f.debug_struct("CloseSignal")
            .field("closed", &state.closed)
            .field("waiting", &state.wakers.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn waiting_futures_are_woken_once_and_abandoned_ones_leave_no_entry() {
        let signal = CloseSignal::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        let mut kept = signal.wait();
        assert!(Pin::new(&mut kept).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut kept).poll(&mut cx).is_pending()); // same entry, same waker
        for _ in 0..100 {
            let mut abandoned = signal.wait();
            assert!(Pin::new(&mut abandoned).poll(&mut cx).is_pending());
        }
        assert_eq!(sync::lock(&signal.state).wakers.len(), 1);
        signal.close();
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        assert!(Pin::new(&mut kept).poll(&mut cx).is_ready());
        assert!(Pin::new(&mut signal.wait()).poll(&mut cx).is_ready());
    }

    struct Explode;

    impl Wake for Explode {
        fn wake(self: Arc<Self>) {
            panic!("this waker refuses to wake");
        }
    }

    #[test]
    fn a_panicking_waker_does_not_strand_the_others_and_its_panic_comes_last() {
        let signal = CloseSignal::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let counting = Waker::from(Arc::clone(&count));
        let exploding = Waker::from(Arc::new(Explode));
        let mut first = signal.wait();
        let mut second = signal.wait();
        let mut third = signal.wait();
        assert!(Pin::new(&mut first)
            .poll(&mut Context::from_waker(&exploding))
            .is_pending());
        for future in [&mut second, &mut third] {
            assert!(Pin::new(future)
                .poll(&mut Context::from_waker(&counting))
                .is_pending());
        }
        let payload = panic::catch_unwind(AssertUnwindSafe(|| signal.close())).unwrap_err();
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"this waker refuses to wake")
        );
        assert_eq!(count.0.load(Ordering::Relaxed), 2, "both others woken");
        assert!(sync::lock(&signal.state).closed);
        let mut cx = Context::from_waker(&counting);
        assert!(Pin::new(&mut second).poll(&mut cx).is_ready());
        assert!(sync::lock(&signal.state).wakers.is_empty());
    }
}
