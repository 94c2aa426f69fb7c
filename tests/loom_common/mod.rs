//! Scaffolding shared by the loom model files that `mod loom_common;` it (a subdirectory, so
//! cargo does not build it as a test crate of its own): the model runner and, for the mailbox
//! models, a capacity of one and a message that counts its drops. Not every including file
//! uses every item.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::num::NonZeroUsize;

use conflux::mailbox::{policies, Policy};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;

/// Runs `f` under loom with at most `default_bound` preemptions per execution, unless
/// `LOOM_MAX_PREEMPTIONS` sets another bound (`scripts/loom.sh`).
pub fn model_with_bound(default_bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(default_bound);
    }
    builder.check(f);
}

pub fn one() -> NonZeroUsize {
    NonZeroUsize::new(1).unwrap()
}

/// A message (its value, and a drop counter): every message must be dropped exactly once.
/// Its policy spills.
pub struct Counted(pub u8, pub Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::Relaxed);
    }
}

impl Policy for Counted {
    type Overflow = VecDeque<Counted>;
    fn handle(overflow: &mut VecDeque<Counted>, message: Counted) {
        policies::spill(overflow, message);
    }
}

/// A waker that counts its wakes and unparks the loom thread that made it, for models that
/// poll a future by hand: they can assert how often it was woken, and park until it is (a
/// wake-up that never comes is a loom deadlock).
pub struct Wakes {
    count: AtomicUsize,
    thread: loom::thread::Thread,
}

impl Wakes {
    /// A counting waker for the calling thread, and the handle that reads its count.
    pub fn new() -> (std::sync::Arc<Wakes>, std::task::Waker) {
        let wakes = std::sync::Arc::new(Wakes {
            count: AtomicUsize::new(0),
            thread: loom::thread::current(),
        });
        (std::sync::Arc::clone(&wakes), std::task::Waker::from(wakes))
    }

    /// Wakes so far.
    pub fn count(&self) -> usize {
        // SeqCst: a model's check, not a protocol under test.
        self.count.load(Ordering::SeqCst)
    }

    /// Parks the calling thread (the one that made the waker) until the count passes `seen`.
    pub fn park_past(&self, seen: usize) {
        while self.count() <= seen {
            loom::thread::park();
        }
    }
}

impl std::task::Wake for Wakes {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        // SeqCst: as in `count`.
        self.count.fetch_add(1, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// A one-shot event one thread parks on until another sets it (a model in which it is never
/// set is a loom deadlock). Both sides meet in one word's read-modify-writes, which loom
/// orders exactly.
pub struct Signal {
    state: AtomicUsize,
    /// The thread waiting; a plain (non-loom) lock, only to hand the handle over.
    waiting: std::sync::Mutex<Option<loom::thread::Thread>>,
}

const UNSET: usize = 0;
const WAITING: usize = 1;
const SET: usize = 2;

impl Signal {
    pub fn new() -> Signal {
        Signal {
            state: AtomicUsize::new(UNSET),
            waiting: std::sync::Mutex::new(None),
        }
    }

    pub fn set(&self) {
        // AcqRel: meets `wait`'s registration in this word's modification order.
        if self.state.swap(SET, Ordering::AcqRel) == WAITING {
            if let Some(thread) = self.waiting.lock().unwrap().take() {
                thread.unpark();
            }
        }
    }

    /// Parks until `set` (at once if it already was). One waiter at a time.
    pub fn wait(&self) {
        *self.waiting.lock().unwrap() = Some(loom::thread::current());
        // AcqRel: as in `set`; a set before this RMW is seen here, one after it sees WAITING.
        if self
            .state
            .compare_exchange(UNSET, WAITING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        // An RMW reads the latest value (a plain load may read a stale one under loom).
        while self.state.fetch_or(0, Ordering::AcqRel) != SET {
            loom::thread::park();
        }
    }
}

/// Where a [`Gated`] message's policy stops: it sets `arrived` (the sender holds the overflow
/// lock now) and waits until the model sets `open`.
pub struct Gate {
    pub arrived: Signal,
    pub open: Signal,
}

impl Gate {
    pub fn new() -> Arc<Gate> {
        Arc::new(Gate {
            arrived: Signal::new(),
            open: Signal::new(),
        })
    }
}

/// A message whose policy, if the message carries a gate, waits at it before spilling: the
/// sender holds the overflow lock until the model opens the gate. A receive that waited for
/// that lock before the gate opens deadlocks the model.
pub struct Gated(pub u8, pub Option<Arc<Gate>>);

impl Policy for Gated {
    type Overflow = VecDeque<Gated>;
    fn handle(overflow: &mut VecDeque<Gated>, message: Gated) {
        if let Some(gate) = &message.1 {
            gate.arrived.set();
            gate.open.wait();
        }
        policies::spill(overflow, message);
    }
}
