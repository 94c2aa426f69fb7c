//! loom models of the sends that wait for room (`send`, `send_blocking`, `send_timeout`,
//! `try_send`; see `src/mailbox/shared/send.rs`, the ready queue's "Waiting for room" and
//! `src/core/wait_list.rs`). Run with `bash scripts/loom.sh loom_mailbox_send`.
//!
//! Most models free a slot and then join the waiting sender before receiving anything else:
//! nothing but the wake-up under test can let the send in, so a lost wake-up is a loom
//! deadlock.
#![cfg(loom)]

mod loom_common;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

use loom_common::{one, Counted, Wakes};

use conflux::mailbox::{
    self, policies::Spill, Feedback, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    loom_common::model_with_bound(2, f);
}

/// Models with two senders and a receiver: one preemption (two take minutes, and the bugs
/// these models are for need only one).
fn model_three_threads(f: impl Fn() + Sync + Send + 'static) {
    loom_common::model_with_bound(1, f);
}

/// (a) A sender blocked on a full mailbox (capacity 1) is woken by the receive that frees
/// the slot, whichever comes first: its announcement (`ROOM_WANTED`) or the receiver's swap of
/// the published head. Deadlocks if the swap becomes a plain store.
#[test]
fn a_blocked_send_is_woken_by_the_receive_that_makes_room() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        assert_eq!(sender.try_send(Spill(1)), Ok(()));
        let producer = thread::spawn(move || {
            assert_eq!(sender.send_blocking(Spill(2)), Ok(()));
            sender
        });
        assert_eq!(receiver.try_recv(), Ok(Spill(1)));
        // Nothing else frees a slot: the send gets in only if that receive woke it.
        let sender = producer.join().unwrap();
        assert_eq!(receiver.try_recv(), Ok(Spill(2)));
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
        drop(sender);
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// (a) The same for an async send under `block_on`: the task's waker in the wait list is
/// woken by the receive that frees the slot.
#[test]
fn an_awaiting_send_is_woken_by_the_receive_that_makes_room() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        assert_eq!(sender.try_send(Spill(1)), Ok(()));
        let producer = thread::spawn(move || {
            assert_eq!(loom::future::block_on(sender.send(Spill(2))), Ok(()));
            sender
        });
        assert_eq!(receiver.try_recv(), Ok(Spill(1)));
        let sender = producer.join().unwrap();
        assert_eq!(receiver.try_recv(), Ok(Spill(2)));
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
        drop(sender);
    });
}

/// (a) Both sides wait on each other through a mailbox of one slot: a blocking sender of
/// three messages and a blocking receiver. Every message arrives once, in order, and neither
/// side sleeps through the other's progress.
#[test]
fn blocking_send_and_blocking_receive_hand_off_through_one_slot() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let producer = thread::spawn(move || {
            for i in 1..=3 {
                assert_eq!(sender.send_blocking(Spill(i)), Ok(()));
            }
        });
        for i in 1..=3 {
            assert_eq!(receiver.recv_blocking(), Some(Spill(i)));
        }
        assert_eq!(receiver.recv_blocking(), None);
        producer.join().unwrap();
    });
}

/// (b) Two senders wait on a full mailbox while the receiver takes: both get in, every message
/// is delivered exactly once, and sender A's two messages (the one that filled the slot and
/// the one it waits with) stay in order. Deadlocks if a waiter whose own second look found
/// room (a slot freed before its announcement) leaves the list without passing on a wake-up
/// it received meanwhile for a slot freed after it: that slot's wake-up is then lost while B
/// waits for it.
#[test]
fn two_waiting_senders_both_get_in_in_each_ones_order() {
    model_three_threads(|| {
        let (a, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let b = a.clone();
        assert_eq!(a.try_send(Spill(10)), Ok(()));
        let sender_a = thread::spawn(move || assert_eq!(a.send_blocking(Spill(11)), Ok(())));
        let sender_b = thread::spawn(move || assert_eq!(b.send_blocking(Spill(20)), Ok(())));
        let mut got = Vec::new();
        while got.len() < 3 {
            got.push(receiver.recv_blocking().unwrap().0);
        }
        sender_a.join().unwrap();
        sender_b.join().unwrap();
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
        let from_a: Vec<u8> = got.iter().copied().filter(|v| *v < 20).collect();
        assert_eq!(from_a, [10, 11]);
        assert!(got.contains(&20));
    });
}

/// (b) Two async senders wait in line while the receiver takes one message at a time:
/// each slot freed wakes the next waiter (first come, first served), so both get in; every
/// message arrives once and A's stay in order. Deadlocks on the same lost wake-up as the
/// blocking model above (the future's `finish(true)` leaves the list the same way).
#[test]
fn two_awaiting_senders_are_woken_one_slot_at_a_time() {
    model_three_threads(|| {
        let (a, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let b = a.clone();
        assert_eq!(a.try_send(Spill(10)), Ok(()));
        let sender_a = thread::spawn(move || {
            assert_eq!(loom::future::block_on(a.send(Spill(11))), Ok(()));
        });
        let sender_b = thread::spawn(move || {
            assert_eq!(loom::future::block_on(b.send(Spill(20))), Ok(()));
        });
        let mut got = Vec::new();
        while got.len() < 3 {
            got.push(receiver.recv_blocking().unwrap().0);
        }
        sender_a.join().unwrap();
        sender_b.join().unwrap();
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
        let from_a: Vec<u8> = got.iter().copied().filter(|v| *v < 20).collect();
        assert_eq!(from_a, [10, 11]);
        assert!(got.contains(&20));
    });
}

/// (c) A waiting send racing the receiver's drop (after it took one message, so the send may
/// get in first): `Ok` (then the drop drops the message) or `SendError` with the message
/// back; either way the send returns, and every message is dropped exactly once.
#[test]
fn a_waiting_send_racing_the_receivers_drop_gets_its_message_back() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, mut receiver) = mailbox::new::<Counted>(one());
        assert!(sender.try_send(Counted(0, Arc::clone(&drops))).is_ok());
        let producer = {
            let drops = Arc::clone(&drops);
            thread::spawn(move || match sender.send_blocking(Counted(1, drops)) {
                Ok(()) => (sender, true),
                Err(SendError(message)) => {
                    assert_eq!(message.0, 1);
                    drop(message);
                    (sender, false)
                }
            })
        };
        let first = receiver.try_recv().ok().unwrap();
        assert_eq!(first.0, 0);
        drop(first);
        drop(receiver);
        let (sender, _sent) = producer.join().unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 2);
        assert!(sender.is_closed());
        // Later sends hand their message back at once.
        assert!(matches!(
            sender.send_blocking(Counted(2, Arc::clone(&drops))),
            Err(SendError(Counted(2, _)))
        ));
        assert_eq!(drops.load(Ordering::Relaxed), 3);
    });
}

/// (c) An awaiting send on a full mailbox racing `Receiver::close`: closing wakes it and it
/// gets its message back (a closed `ready` takes no claims, so it can never get in); the
/// receiver drains what was accepted, then sees the end; every message is dropped once.
#[test]
fn close_wakes_an_awaiting_send_with_its_message() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, mut receiver) = mailbox::new::<Counted>(one());
        assert!(sender.try_send(Counted(0, Arc::clone(&drops))).is_ok());
        let producer = {
            let drops = Arc::clone(&drops);
            thread::spawn(move || {
                let refused = loom::future::block_on(sender.send(Counted(1, drops)));
                let SendError(message) = refused.err().unwrap();
                assert_eq!(message.0, 1);
                drop(message);
                sender
            })
        };
        receiver.close();
        let mut delivered = Vec::new();
        while let Some(message) = receiver.recv_blocking() {
            delivered.push(message.0);
        }
        assert_eq!(delivered, [0]);
        let sender = producer.join().unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 2);
        drop(sender);
        drop(receiver);
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    });
}

/// (c) `close` after the receiver freed the slot, racing an awaiting send: the send either
/// got in before the close (and its message is delivered before the end) or gets its message
/// back; never both, never lost.
#[test]
fn close_after_a_take_delivers_or_refuses_the_waiting_send() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, mut receiver) = mailbox::new::<Counted>(one());
        assert!(sender.try_send(Counted(0, Arc::clone(&drops))).is_ok());
        let producer = {
            let drops = Arc::clone(&drops);
            thread::spawn(
                move || match loom::future::block_on(sender.send(Counted(1, drops))) {
                    Ok(()) => true,
                    Err(SendError(message)) => {
                        assert_eq!(message.0, 1);
                        false
                    }
                },
            )
        };
        let mut delivered = vec![receiver.try_recv().ok().unwrap().0];
        receiver.close();
        while let Some(message) = receiver.recv_blocking() {
            delivered.push(message.0);
        }
        let sent = producer.join().unwrap();
        assert_eq!(delivered, [0, 1][..1 + usize::from(sent)]);
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    });
}

/// (d) Sender A's send future is woken for the slot the receiver freed, then dropped without
/// being polled again (a lost `select!` branch); sender B, waiting behind it, still gets in:
/// A's drop passes the wake-up on. Deadlocks if `give_up_wait_for_room` only withdraws.
#[test]
fn a_woken_then_dropped_send_passes_its_wake_up_on() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let b = sender.clone();
        assert_eq!(sender.try_send(Spill(1)), Ok(()));
        let (wakes, waker) = Wakes::new();
        let mut cx = Context::from_waker(&waker);
        let mut send_a = Box::pin(sender.send(Spill(2)));
        // Nobody else runs yet: A waits first in line.
        assert!(send_a.as_mut().poll(&mut cx).is_pending());
        let sender_b = thread::spawn(move || {
            assert_eq!(b.send_blocking(Spill(3)), Ok(()));
        });
        assert_eq!(receiver.try_recv(), Ok(Spill(1)));
        assert_eq!(wakes.count(), 1, "the freed slot goes to the first in line");
        drop(send_a);
        sender_b.join().unwrap();
        assert_eq!(receiver.try_recv(), Ok(Spill(3)));
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
    });
}

/// (d) Sender A polls its send once on its own thread and drops it at once, racing the
/// receive that frees the slot (A may be woken before, after, or never, or get in at its
/// first poll); sender B, blocked behind it, always gets in, with no receive in between
/// unless A's message took the slot.
#[test]
fn a_send_dropped_while_racing_its_wake_up_strands_nobody() {
    model_three_threads(|| {
        let (a, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let b = a.clone();
        assert_eq!(a.try_send(Spill(1)), Ok(()));
        let sender_a = thread::spawn(move || {
            let (_wakes, waker) = Wakes::new();
            let mut cx = Context::from_waker(&waker);
            let mut send = pin!(a.send(Spill(2)));
            matches!(send.as_mut().poll(&mut cx), Poll::Ready(Ok(())))
        });
        let sender_b = thread::spawn(move || {
            assert_eq!(b.send_blocking(Spill(3)), Ok(()));
        });
        assert_eq!(receiver.try_recv(), Ok(Spill(1)));
        if sender_a.join().unwrap() {
            // A's message took the slot: one more receive makes room for B.
            let mut got = Vec::new();
            while got.len() < 2 {
                if let Ok(Spill(v)) = receiver.try_recv() {
                    got.push(v);
                } else {
                    thread::yield_now();
                }
            }
            sender_b.join().unwrap();
            assert_eq!(got, [2, 3]);
        } else {
            sender_b.join().unwrap();
            assert_eq!(receiver.try_recv(), Ok(Spill(3)));
        }
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// (e) While overflow retains a message (spilled by `enqueue`), a blocking send waits even
/// after the receiver freed the slot, never overtakes the retained message, and is woken
/// once the overflow is emptied and a slot is free: the messages arrive 1, 2, 3.
#[test]
fn a_send_waits_behind_retained_overflow_and_never_overtakes_it() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
        assert_eq!(sender.enqueue(Spill(2)), Feedback::Backoff);
        let producer = thread::spawn(move || {
            assert_eq!(sender.send_blocking(Spill(3)), Ok(()));
            sender
        });
        assert_eq!(receiver.try_recv(), Ok(Spill(1)));
        assert_eq!(receiver.try_recv(), Ok(Spill(2)));
        let sender = producer.join().unwrap();
        assert_eq!(receiver.try_recv(), Ok(Spill(3)));
        drop(sender);
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// (e) Capacity 2, so the slot that frees up is there before the overflow empties: a batch
/// takes both `ready` messages (waking the waiting send while overflow still retains one, so
/// it goes back to sleep) and its refill empties the overflow into one slot, leaving the other
/// free. Only the release that emptied the overflow can wake the send now: it deadlocks if
/// that wake-up (`wake_everyone_waiting_for_room`) is missing. No overtaking: 1, 2, 3, 4.
#[test]
fn emptying_the_overflow_wakes_a_send_waiting_for_it() {
    model(|| {
        let (sender, mut receiver) =
            mailbox::new::<Spill<u8>>(std::num::NonZeroUsize::new(2).unwrap());
        assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
        assert_eq!(sender.enqueue(Spill(2)), Feedback::Ok);
        assert_eq!(sender.enqueue(Spill(3)), Feedback::Backoff);
        let producer = thread::spawn(move || {
            assert_eq!(loom::future::block_on(sender.send(Spill(4))), Ok(()));
            sender
        });
        let mut got = Vec::new();
        assert_eq!(receiver.try_recv_many(&mut got, 2), Ok(2));
        let sender = producer.join().unwrap();
        assert_eq!(receiver.try_recv_many(&mut got, 2), Ok(2));
        let got: Vec<u8> = got.into_iter().map(|Spill(v)| v).collect();
        assert_eq!(got, [1, 2, 3, 4]);
        drop(sender);
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// (e) `try_send` racing the refill that empties the overflow: `Full` while a message is
/// retained (never overtaking it), `Ok` only once the overflow is empty; a message handed back
/// is the one sent, and nothing is lost or doubled.
#[test]
fn try_send_never_overtakes_retained_overflow() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
        assert_eq!(sender.enqueue(Spill(2)), Feedback::Backoff);
        let producer = thread::spawn(move || {
            let answer = sender.try_send(Spill(3));
            (sender, answer)
        });
        let mut got = Vec::new();
        if let Ok(Spill(v)) = receiver.try_recv() {
            got.push(v);
        }
        let (sender, answer) = producer.join().unwrap();
        while let Ok(Spill(v)) = receiver.try_recv() {
            got.push(v);
        }
        match answer {
            Ok(()) => assert_eq!(got, [1, 2, 3]),
            Err(TrySendError::Full(Spill(3))) => assert_eq!(got, [1, 2]),
            Err(other) => panic!("unexpected {other:?}"),
        }
        drop(sender);
    });
}

/// (f) `send_timeout` with a zero timeout racing the receive that frees the slot: `Ok` (the
/// message is delivered once) or `Timeout` with the message handed back (and not delivered),
/// never both, never lost. (A zero timeout keeps the model deterministic: loom cannot model
/// time, and the deadline has passed at every check.)
#[test]
fn send_timeout_racing_a_receive_is_ok_or_timeout_never_both() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        assert_eq!(sender.try_send(Spill(1)), Ok(()));
        let producer = thread::spawn(move || {
            let answer = sender.send_timeout(Spill(2), Duration::ZERO);
            (sender, answer)
        });
        assert_eq!(receiver.try_recv(), Ok(Spill(1)));
        let (sender, answer) = producer.join().unwrap();
        match answer {
            Ok(()) => assert_eq!(receiver.try_recv(), Ok(Spill(2))),
            Err(SendTimeoutError::Timeout(Spill(2))) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
        drop(sender);
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// (f) A timed-out waiter that was woken for the freed slot passes the wake-up on: sender A
/// (`send_timeout`, zero timeout) and sender B (`send_blocking`) wait on a full mailbox, the
/// receiver frees one slot and joins both. B always gets in unless A did; whoever did not is
/// `Timeout` (A) with its message back.
#[test]
fn a_timed_out_waiter_passes_its_wake_up_on() {
    model_three_threads(|| {
        let (a, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let b = a.clone();
        assert_eq!(a.try_send(Spill(1)), Ok(()));
        let sender_a = thread::spawn(move || a.send_timeout(Spill(2), Duration::ZERO).is_ok());
        let sender_b = thread::spawn(move || {
            assert_eq!(b.send_blocking(Spill(3)), Ok(()));
        });
        assert_eq!(receiver.try_recv(), Ok(Spill(1)));
        if sender_a.join().unwrap() {
            assert_eq!(receiver.recv_blocking(), Some(Spill(2)));
        }
        sender_b.join().unwrap();
        assert_eq!(receiver.try_recv(), Ok(Spill(3)));
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    });
}
