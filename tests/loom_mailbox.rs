//! loom models of the mailbox's protocols (see `src/mailbox/shared.rs` and
//! `src/core/ready_queue.rs`). Run with `bash scripts/loom.sh`.
#![cfg(loom)]

mod loom_common;

use loom_common::{one, Counted};

use conflux::mailbox::{self, policies::Spill, Feedback, TryRecvError};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    loom_common::model_with_bound(2, f);
}

/// A sender's second message spills while the receiver takes the first: the receiver gets both,
/// in order, whether the spill lands before or after its refill check (fast path vs spill).
#[test]
fn fast_path_and_spill_keep_one_senders_order() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let producer = thread::spawn(move || {
            assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
            let second = sender.enqueue(Spill(2));
            assert!(second.accepted());
        });
        let mut got = Vec::new();
        if let Ok(Spill(v)) = receiver.try_recv() {
            got.push(v);
        }
        producer.join().unwrap();
        while let Ok(Spill(v)) = receiver.try_recv() {
            got.push(v);
        }
        assert_eq!(got, [1, 2]);
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// Two senders while the receiver refills: each sender's messages stay in its order, none is
/// lost or duplicated (refill vs enqueue).
#[test]
fn refill_racing_another_sender_keeps_each_order() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let _ = sender.enqueue(Spill(10));
        let _ = sender.enqueue(Spill(11)); // retained in overflow
        let other = {
            let sender = sender.clone();
            thread::spawn(move || {
                let _ = sender.enqueue(Spill(20));
            })
        };
        drop(sender);
        let mut got = Vec::new();
        if let Ok(Spill(v)) = receiver.try_recv() {
            got.push(v);
        }
        other.join().unwrap();
        while let Ok(Spill(v)) = receiver.try_recv() {
            got.push(v);
        }
        let mine: Vec<u8> = got.iter().copied().filter(|v| *v < 20).collect();
        assert_eq!(mine, [10, 11]);
        assert_eq!(got.len(), 3);
        assert!(got.contains(&20));
    });
}

/// A stale "full" never spills while `ready` has room and overflow is empty: once the
/// receiver has made room, an enqueue that races it either lands in `ready` (Ok) or, if it was
/// handled by the policy, the count of Backoffs matches.
#[test]
fn stale_full_retries_ready_under_the_lock() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let _ = sender.enqueue(Spill(1));
        let racer = {
            let sender = sender.clone();
            thread::spawn(move || sender.enqueue(Spill(2)))
        };
        assert_eq!(receiver.try_recv(), Ok(Spill(1)));
        let answer = racer.join().unwrap();
        assert_eq!(receiver.try_recv(), Ok(Spill(2)));
        let backoffs = receiver.stats().backoff;
        match answer {
            Feedback::Ok => assert_eq!(backoffs, 0),
            Feedback::Backoff => assert_eq!(backoffs, 1),
            Feedback::Closed => unreachable!(),
        }
        // After the take, overflow is empty and ready has room: the fast path is back.
        assert_eq!(sender.enqueue(Spill(3)), Feedback::Ok);
    });
}

/// Dropping the receiver while a sender enqueues: every message is dropped exactly once,
/// whichever side wins (close vs enqueue, drain on close).
#[test]
fn close_racing_enqueue_drops_every_message_once() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, receiver) = mailbox::new::<Counted>(one());
        let producer = {
            let drops = Arc::clone(&drops);
            thread::spawn(move || {
                for _ in 0..2 {
                    let _ = sender.enqueue(Counted(0, Arc::clone(&drops)));
                }
                sender
            })
        };
        drop(receiver);
        let sender = producer.join().unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 2);
        assert!(sender.is_closed());
    });
}

/// The last sender enqueues (one to ready, one spilled) and drops while the receiver blocks:
/// both arrive, then the end (disconnect vs receive, never a stranded message).
#[test]
fn disconnect_racing_a_blocked_receiver_strands_nothing() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let producer = thread::spawn(move || {
            let _ = sender.enqueue(Spill(1));
            let _ = sender.enqueue(Spill(2));
        });
        assert_eq!(receiver.recv_blocking(), Some(Spill(1)));
        assert_eq!(receiver.recv_blocking(), Some(Spill(2)));
        assert_eq!(receiver.recv_blocking(), None);
        producer.join().unwrap();
    });
}

/// A spill that lands while the receiver announces its sleep wakes it: the sender's tail-word
/// RMW after setting `overflow_active` meets the announcement in one modification order.
#[test]
fn a_spill_racing_the_receivers_sleep_wakes_it() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let producer = thread::spawn(move || {
            let _ = sender.enqueue(Spill(1));
            let _ = sender.enqueue(Spill(2));
            sender
        });
        assert_eq!(receiver.recv_blocking(), Some(Spill(1)));
        assert_eq!(receiver.recv_blocking(), Some(Spill(2)));
        drop(producer.join().unwrap());
    });
}

/// Async receive: waker registration racing an enqueue never misses it.
#[test]
fn async_recv_waker_registration_never_misses_an_enqueue() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let producer = thread::spawn(move || {
            let _ = sender.enqueue(Spill(7));
            sender
        });
        let got = loom::future::block_on(receiver.recv());
        assert_eq!(got, Some(Spill(7)));
        drop(producer.join().unwrap());
    });
}

/// An async receive that finds `ready` empty while a sender spills under the
/// overflow lock returns `Pending` instead of waiting for the lock, and the sender's release
/// (unlock, then a tail-word RMW) wakes it: both messages arrive, in order, and no interleaving
/// leaves the task asleep (loom reports a deadlock if the release RMW comes before the unlock
/// or is missing).
#[test]
fn async_recv_never_waits_for_a_spilling_senders_lock_and_is_woken() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
        let producer = thread::spawn(move || {
            assert!(sender.enqueue(Spill(2)).accepted());
            sender
        });
        assert_eq!(loom::future::block_on(receiver.recv()), Some(Spill(1)));
        assert_eq!(loom::future::block_on(receiver.recv()), Some(Spill(2)));
        drop(producer.join().unwrap());
    });
}

/// Any sender-side holder of the overflow lock wakes an async receiver that found it held, not
/// only a spilling one: here a sender reads `stats()` while a message is retained.
#[test]
fn async_recv_contending_with_a_stats_reader_is_woken() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
        assert_eq!(sender.enqueue(Spill(2)), Feedback::Backoff); // retained
        let reader = thread::spawn(move || {
            assert_eq!(sender.stats().backoff, 1);
            sender
        });
        assert_eq!(loom::future::block_on(receiver.recv()), Some(Spill(1)));
        assert_eq!(loom::future::block_on(receiver.recv()), Some(Spill(2)));
        drop(reader.join().unwrap());
    });
}

/// `close` racing enqueues: each message is refused (`Closed`, dropped once) or
/// accepted and then delivered, in order; afterwards the receive ends and nothing leaks.
#[test]
fn close_racing_enqueue_delivers_or_refuses_each_message_once() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, mut receiver) = mailbox::new::<Counted>(one());
        let producer = {
            let drops = Arc::clone(&drops);
            thread::spawn(move || {
                let mut accepted = 0;
                for _ in 0..2 {
                    if sender.enqueue(Counted(0, Arc::clone(&drops))).accepted() {
                        accepted += 1;
                    }
                }
                (sender, accepted)
            })
        };
        receiver.close();
        let mut delivered = 0;
        while let Some(message) = loom::future::block_on(receiver.recv()) {
            drop(message);
            delivered += 1;
        }
        let (sender, accepted) = producer.join().unwrap();
        assert_eq!(delivered, accepted);
        assert!(sender.is_closed());
        assert_eq!(drops.load(Ordering::Relaxed), 2);
        drop(receiver);
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    });
}

/// A sender awaiting `closed()` is woken by the receiver's close racing its
/// registration (check-then-register under the signal's lock).
#[test]
fn closed_is_woken_by_a_racing_close() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let watcher = thread::spawn(move || {
            loom::future::block_on(sender.closed());
            assert!(sender.is_closed());
            assert_eq!(sender.enqueue(Spill(1)), Feedback::Closed);
        });
        receiver.close();
        watcher.join().unwrap();
    });
}

/// A weak sender's upgrade racing the last sender's drop (a CAS loop on the sender
/// count): either the upgrade fails, or its message is delivered before the end; the receiver
/// always sees the end and nothing leaks (an upgrade that revived a count of zero would
/// enqueue after the end was published: its message would be lost to a receiver that already
/// returned `None`).
#[test]
fn an_upgrade_racing_the_last_drop_never_revives_the_mailbox() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, mut receiver) = mailbox::new::<Counted>(one());
        let weak = sender.downgrade();
        let dropper = thread::spawn(move || drop(sender));
        let upgrader = {
            let drops = Arc::clone(&drops);
            thread::spawn(move || match weak.upgrade() {
                Some(again) => again.enqueue(Counted(7, drops)).accepted(),
                None => false,
            })
        };
        let mut delivered = 0;
        while let Some(message) = receiver.recv_blocking() {
            assert_eq!(message.0, 7);
            delivered += 1;
        }
        dropper.join().unwrap();
        let sent = upgrader.join().unwrap();
        assert_eq!(delivered, usize::from(sent));
        drop(receiver);
        assert_eq!(drops.load(Ordering::Relaxed), usize::from(sent));
    });
}
