//! loom models of the overflow lock's release (`src/mailbox/shared/overflow_lock.rs`) and
//! `Shared::overflow_needs_a_look`: no receive waits for the lock, a receive that found it held
//! is woken by its release, and a holder that only reads (`Sender::len`, `Sender::stats`)
//! wakes nobody else. Run with `bash scripts/loom.sh loom_mailbox_lock`.
//!
//! `tests/loom_mailbox.rs` has the spill-side models (`a_spill_racing_the_receivers_sleep_wakes_it`,
//! `async_recv_never_waits_for_a_spilling_senders_lock_and_is_woken`); these add the holders
//! that publish nothing, the blocking receive against them, and `try_recv` against a policy
//! that keeps the lock until the receiver has answered.
#![cfg(loom)]

mod loom_common;

use std::task::{Context, Poll};

use loom_common::{one, Gate, Gated, Wakes};

use conflux::mailbox::{self, policies::Spill, Feedback, TryRecvError};
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    loom_common::model_with_bound(2, f);
}

/// (g) A blocking receive that finds `ready` empty while a sender reads `len` under the
/// overflow lock (a message retained, so the receive must refill) sets `receiver_wants_lock`
/// and parks; the reader's release, which publishes nothing, swaps the request back and
/// wakes it. Deadlocks if the release skips that swap.
#[test]
fn recv_blocking_contending_with_a_sender_len_reader_is_woken() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
        assert_eq!(sender.enqueue(Spill(2)), Feedback::Backoff);
        let reader = thread::spawn(move || {
            assert!(sender.len() <= 2);
            sender
        });
        assert_eq!(receiver.recv_blocking(), Some(Spill(1)));
        assert_eq!(receiver.recv_blocking(), Some(Spill(2)));
        let sender = reader.join().unwrap();
        assert_eq!(sender.len(), 0);
    });
}

/// (g) The same for a single async receive (`recv_many` has its own model in
/// `loom_mailbox_batch.rs`): `Pending` instead of waiting for the reader's lock, then woken
/// by its release.
#[test]
fn async_recv_contending_with_a_sender_len_reader_is_woken() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
        assert_eq!(sender.enqueue(Spill(2)), Feedback::Backoff);
        let reader = thread::spawn(move || {
            assert!(sender.len() <= 2);
            sender
        });
        assert_eq!(loom::future::block_on(receiver.recv()), Some(Spill(1)));
        assert_eq!(loom::future::block_on(receiver.recv()), Some(Spill(2)));
        drop(reader.join().unwrap());
    });
}

/// (g) A spill behind a message already retained, racing a blocking receiver: the receiver's
/// refills find the lock held or free in every order, it sleeps only when the spiller's
/// release owes it a wake-up, and the three messages arrive in order.
#[test]
fn recv_blocking_racing_a_spill_behind_a_retained_message_gets_all_in_order() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
        assert_eq!(sender.enqueue(Spill(2)), Feedback::Backoff);
        let producer = thread::spawn(move || {
            assert!(sender.enqueue(Spill(3)).accepted());
        });
        for i in 1..=3 {
            assert_eq!(receiver.recv_blocking(), Some(Spill(i)));
        }
        assert_eq!(receiver.recv_blocking(), None);
        producer.join().unwrap();
    });
}

/// (h) An idle async receiver (nothing sent, its task registered and `Pending`) racing a
/// sender's `len` and `stats`: the depth reads wake it in no interleaving (the waker counts
/// its wakes); the message the sender enqueues afterwards always does, and is delivered.
#[test]
fn depth_reads_never_wake_an_idle_receiver_and_a_message_does() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let (wakes, waker) = Wakes::new();
        let reader = {
            let wakes = std::sync::Arc::clone(&wakes);
            thread::spawn(move || {
                assert_eq!(sender.len(), 0);
                assert_eq!(sender.stats().backoff, 0);
                assert_eq!(wakes.count(), 0, "a depth read woke the idle receiver");
                assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
                sender
            })
        };
        let mut cx = Context::from_waker(&waker);
        let got = loop {
            let seen = wakes.count();
            match receiver.poll_recv(&mut cx) {
                Poll::Ready(message) => break message,
                Poll::Pending => wakes.park_past(seen),
            }
        };
        assert_eq!(got, Some(Spill(1)));
        drop(reader.join().unwrap());
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// (h) The same after the overflow was used and emptied (the flag went up and down, the lock
/// was taken by a spill and by the receiver's refill): still no wake-up from depth reads.
#[test]
fn depth_reads_after_the_overflow_emptied_never_wake_an_idle_receiver() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
        assert_eq!(sender.enqueue(Spill(2)), Feedback::Backoff);
        assert_eq!(receiver.try_recv(), Ok(Spill(1)));
        assert_eq!(receiver.try_recv(), Ok(Spill(2)));
        let (wakes, waker) = Wakes::new();
        let reader = {
            let wakes = std::sync::Arc::clone(&wakes);
            thread::spawn(move || {
                assert_eq!(sender.len(), 0);
                assert_eq!(sender.stats().backoff, 1);
                assert_eq!(wakes.count(), 0, "a depth read woke the idle receiver");
                assert_eq!(sender.enqueue(Spill(3)), Feedback::Ok);
                sender
            })
        };
        let mut cx = Context::from_waker(&waker);
        let got = loop {
            let seen = wakes.count();
            match receiver.poll_recv(&mut cx) {
                Poll::Ready(message) => break message,
                Poll::Pending => wakes.park_past(seen),
            }
        };
        assert_eq!(got, Some(Spill(3)));
        drop(reader.join().unwrap());
    });
}

/// (i) `try_recv` while a sender's policy holds the overflow lock (the model waits until the
/// policy has arrived at its gate, so this interleaving is forced, not left to the search):
/// the first take gets the message in `ready`, the next ones (`try_recv`, `try_recv_many`)
/// find `ready` empty and the lock held and answer `Empty` at once. A receive that waited
/// for the lock would deadlock the model. Then a blocking receive gets the spilled message.
#[test]
fn try_recv_while_a_policy_holds_the_lock_answers_at_once() {
    model(|| {
        let gate = Gate::new();
        let (sender, mut receiver) = mailbox::new::<Gated>(one());
        let producer = {
            let gate = gate.clone();
            thread::spawn(move || {
                assert_eq!(sender.enqueue(Gated(1, None)), Feedback::Ok);
                assert_eq!(sender.enqueue(Gated(2, Some(gate))), Feedback::Backoff);
            })
        };
        gate.arrived.wait();
        assert_eq!(receiver.try_recv().map(|m| m.0), Ok(1));
        assert_eq!(receiver.try_recv().map(|m| m.0), Err(TryRecvError::Empty));
        let mut batch = Vec::new();
        assert_eq!(
            receiver.try_recv_many(&mut batch, 2),
            Err(TryRecvError::Empty)
        );
        gate.open.set();
        assert_eq!(receiver.recv_blocking().map(|m| m.0), Some(2));
        assert!(receiver.recv_blocking().is_none());
        producer.join().unwrap();
    });
}
