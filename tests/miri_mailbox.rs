//! A small-N suite for miri (`bash scripts/miri.sh`): the mailbox's unsafe ring, its spill and
//! refill paths, close and disconnect, with few enough operations for the interpreter.
//! Also runs in `cargo test`.
#![cfg(not(loom))]

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use conflux::mailbox::{self, policies, Feedback, Policy};

/// A heap-owning message that counts its drops: miri checks the memory, the count checks
/// "exactly once".
struct Owned {
    id: Box<u32>,
    drops: Arc<AtomicUsize>,
}

impl Drop for Owned {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

impl Policy for Owned {
    type Overflow = VecDeque<Owned>;
    fn handle(overflow: &mut VecDeque<Owned>, message: Owned) {
        policies::spill(overflow, message);
    }
}

fn cap(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

#[test]
fn two_senders_through_ready_and_overflow_keep_order_and_drop_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (sender, mut receiver) = mailbox::new::<Owned>(cap(2));
    let senders: Vec<_> = (0..2u32)
        .map(|s| {
            let (sender, drops) = (sender.clone(), Arc::clone(&drops));
            thread::spawn(move || {
                for i in 0..15 {
                    let message = Owned {
                        id: Box::new(s * 100 + i),
                        drops: Arc::clone(&drops),
                    };
                    assert!(sender.enqueue(message).accepted());
                }
            })
        })
        .collect();
    drop(sender);
    let mut next = [0u32; 2];
    while let Some(message) = receiver.recv_blocking() {
        let (s, i) = (*message.id / 100, *message.id % 100);
        assert_eq!(i, next[s as usize]);
        next[s as usize] += 1;
    }
    for sender in senders {
        sender.join().unwrap();
    }
    assert_eq!(next, [15, 15]);
    assert_eq!(drops.load(Ordering::Relaxed), 30);
}

#[test]
fn closing_with_messages_in_ready_and_overflow_frees_each_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (sender, receiver) = mailbox::new::<Owned>(cap(3));
    for i in 0..7 {
        let _ = sender.enqueue(Owned {
            id: Box::new(i),
            drops: Arc::clone(&drops),
        });
    }
    let racer = {
        let (sender, drops) = (sender.clone(), Arc::clone(&drops));
        thread::spawn(move || {
            let message = Owned {
                id: Box::new(99),
                drops,
            };
            let _ = sender.enqueue(message);
        })
    };
    drop(receiver);
    racer.join().unwrap();
    assert_eq!(drops.load(Ordering::Relaxed), 8);
    assert_eq!(
        sender.enqueue(Owned {
            id: Box::new(100),
            drops: Arc::clone(&drops)
        }),
        Feedback::Closed
    );
    assert_eq!(drops.load(Ordering::Relaxed), 9);
}

#[test]
fn ring_wraps_many_laps_with_owned_values() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (sender, mut receiver) = mailbox::new::<Owned>(cap(3));
    for round in 0..10u32 {
        for i in 0..2 {
            let _ = sender.enqueue(Owned {
                id: Box::new(round * 2 + i),
                drops: Arc::clone(&drops),
            });
        }
        for i in 0..2 {
            assert_eq!(*receiver.try_recv().unwrap().id, round * 2 + i);
        }
    }
    // Leave values in the ring when everything is dropped: the queue's own Drop frees them.
    let _ = sender.enqueue(Owned {
        id: Box::new(7),
        drops: Arc::clone(&drops),
    });
    drop(sender);
    drop(receiver);
    assert_eq!(drops.load(Ordering::Relaxed), 21);
}

/// The batch receive over the unsafe ring: runs across the lap boundary, a claim racing
/// it, overflow refills between runs, close with messages everywhere; each heap-owning message
/// is moved out exactly once and dropped exactly once.
#[test]
fn batch_receives_across_laps_and_close_move_each_value_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (sender, mut receiver) = mailbox::new::<Owned>(cap(3));
    let owned = {
        let drops = Arc::clone(&drops);
        move |id| Owned {
            id: Box::new(id),
            drops: Arc::clone(&drops),
        }
    };
    let producer = {
        let sender = sender.clone();
        let owned = owned.clone();
        thread::spawn(move || {
            for i in 0..20 {
                assert!(sender.enqueue(owned(i)).accepted());
            }
        })
    };
    let mut got = Vec::new();
    let mut buffer = Vec::new();
    while got.len() < 20 {
        if let Ok(n) = receiver.try_recv_many(&mut buffer, 1 + got.len() % 4) {
            assert_eq!(n, buffer.len());
            got.extend(buffer.drain(..).map(|m| *m.id));
        }
    }
    producer.join().unwrap();
    assert_eq!(got, (0..20).collect::<Vec<_>>());
    assert_eq!(drops.load(Ordering::Relaxed), 20);
    for i in 0..7 {
        let _ = sender.enqueue(owned(100 + i)); // 3 in ready, 4 retained
    }
    assert_eq!(sender.len(), 7);
    receiver.close();
    assert_eq!(receiver.try_recv_many(&mut buffer, 2), Ok(2));
    let rest: Vec<u32> = receiver.try_iter().map(|m| *m.id).collect();
    assert_eq!(rest, [102, 103, 104, 105, 106]);
    drop(buffer);
    drop(receiver);
    assert_eq!(drops.load(Ordering::Relaxed), 27);
}
