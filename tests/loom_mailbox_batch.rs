//! loom models of the mailbox's batch receive: `recv_many` / `try_recv_many` racing
//! a spilling sender, a sender-side lock holder (`Sender::len`), and `close`. Run with
//! `bash scripts/loom.sh loom_mailbox_batch`.
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

/// An async batch receive racing a sender whose second message spills (capacity 1): the
/// batches hold both messages, in order, and the last `recv_many` returns 0 after the sender
/// left. A batch that found `ready` empty while the sender held the overflow lock returned
/// `Pending` and was woken by the lock's release (loom reports a deadlock otherwise).
#[test]
fn recv_many_racing_a_spilling_sender_gets_everything_in_order() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let producer = thread::spawn(move || {
            assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
            assert!(sender.enqueue(Spill(2)).accepted());
        });
        let mut got = Vec::new();
        loop {
            let n = loom::future::block_on(receiver.recv_many(&mut got, 2));
            if n == 0 {
                break;
            }
        }
        assert_eq!(got, [Spill(1), Spill(2)]);
        producer.join().unwrap();
    });
}

/// `Sender::len` takes the overflow lock the way every sender-side holder must (unlock, then
/// a tail-word RMW that wakes an announced receiver): an async batch receive that found the
/// lock held by the reader is woken. Deadlocks if `len` takes the lock without `OverflowLock`.
#[test]
fn recv_many_contending_with_a_sender_len_reader_is_woken() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
        assert_eq!(sender.enqueue(Spill(2)), Feedback::Backoff); // retained
        let reader = thread::spawn(move || {
            let len = sender.len();
            assert!(len <= 2, "len {len} with two messages ever queued");
            sender
        });
        let mut got = Vec::new();
        assert_eq!(loom::future::block_on(receiver.recv_many(&mut got, 1)), 1);
        assert_eq!(loom::future::block_on(receiver.recv_many(&mut got, 1)), 1);
        assert_eq!(got, [Spill(1), Spill(2)]);
        let sender = reader.join().unwrap();
        assert_eq!(sender.len(), 0);
    });
}

/// Batch receives racing a sender that spills and `close`: each message is refused (`Closed`,
/// dropped at once) or accepted and then delivered exactly once, in order (ready, then the
/// retained overflow handed over after close); then the batch receive reports the end, and
/// every message is dropped exactly once.
#[test]
fn batch_receive_racing_spill_and_close_delivers_or_refuses_each_once() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, mut receiver) = mailbox::new::<Counted>(one());
        let producer = {
            let drops = Arc::clone(&drops);
            thread::spawn(move || {
                let mut accepted = 0;
                for id in 0..2 {
                    if sender.enqueue(Counted(id, Arc::clone(&drops))).accepted() {
                        accepted += 1;
                    }
                }
                (sender, accepted)
            })
        };
        let mut got = Vec::new();
        let _ = receiver.try_recv_many(&mut got, 2);
        receiver.close();
        while loom::future::block_on(receiver.recv_many(&mut got, 2)) > 0 {}
        let (sender, accepted) = producer.join().unwrap();
        let ids: Vec<u8> = got.iter().map(|m| m.0).collect();
        assert_eq!(ids, [0, 1][..accepted], "in order, none lost");
        assert!(sender.is_closed());
        assert_eq!(
            receiver.try_recv_many(&mut got, 2),
            Err(TryRecvError::Disconnected)
        );
        assert_eq!(drops.load(Ordering::Relaxed), 2 - accepted);
        drop(got);
        drop(receiver);
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    });
}

/// A blocking-side batch (`try_recv_many` waits for the lock only while it has nothing)
/// racing the last sender's spill and drop: polling until `Disconnected` yields both
/// messages in order, never the end before a message.
#[test]
fn try_recv_many_until_disconnected_strands_nothing() {
    model(|| {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(one());
        let producer = thread::spawn(move || {
            let _ = sender.enqueue(Spill(1));
            let _ = sender.enqueue(Spill(2));
        });
        let mut got = Vec::new();
        loop {
            match receiver.try_recv_many(&mut got, 2) {
                Ok(n) => assert!(n >= 1),
                Err(TryRecvError::Empty) => thread::yield_now(),
                Err(TryRecvError::Disconnected) => break,
            }
        }
        assert_eq!(got, [Spill(1), Spill(2)]);
        producer.join().unwrap();
    });
}
