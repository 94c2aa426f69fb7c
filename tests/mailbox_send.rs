//! Backpressure: `send`, `send_blocking`, `send_timeout` and `try_send` wait for room in `ready`
//! (or answer `Full`), never hand the message to the policy, never overtake retained messages,
//! and give the message back once the mailbox is closed.
#![cfg(not(loom))]

mod common;

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use common::{cap, runtime, Counted};
use conflux::mailbox::{
    self, policies::Spill, Feedback, Policy, SendError, SendTimeoutError, TrySendError,
    UnreliablePolicy,
};
use conflux::Unreliable;

/// Counts how often it is woken.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let count = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (Arc::clone(&count), Waker::from(count))
}

fn wakes(count: &CountingWaker) -> usize {
    count.0.load(Ordering::SeqCst)
}

#[test]
fn blocking_senders_on_many_threads_deliver_everything_once_in_each_senders_order() {
    const SENDERS: u64 = 4;
    const EACH: u64 = 20_000;
    let (sender, mut receiver) = mailbox::new::<Spill<u64>>(cap(4));
    let producers: Vec<_> = (0..SENDERS)
        .map(|id| {
            let sender = sender.clone();
            thread::spawn(move || {
                for sequence in 0..EACH {
                    sender.send_blocking(Spill(id << 32 | sequence)).unwrap();
                }
            })
        })
        .collect();
    drop(sender);
    let mut next = [0u64; SENDERS as usize];
    while let Some(Spill(value)) = receiver.recv_blocking() {
        let (id, sequence) = ((value >> 32) as usize, value & 0xffff_ffff);
        assert_eq!(sequence, next[id], "sender {id} out of order");
        next[id] += 1;
    }
    assert_eq!(next, [EACH; SENDERS as usize]);
    assert_eq!(
        receiver.stats().backoff,
        0,
        "a send never goes to the policy"
    );
    for producer in producers {
        producer.join().unwrap();
    }
}

#[test]
fn async_senders_in_many_tasks_on_a_multi_thread_runtime_deliver_everything_in_order() {
    const TASKS: u64 = 64;
    const EACH: u64 = 1_000;
    runtime().block_on(async {
        let (sender, mut receiver) = mailbox::new::<Spill<u64>>(cap(16));
        for id in 0..TASKS {
            let sender = sender.clone();
            tokio::spawn(async move {
                for sequence in 0..EACH {
                    sender.send(Spill(id << 32 | sequence)).await.unwrap();
                    if sequence % 256 == 255 {
                        tokio::task::yield_now().await;
                    }
                }
            });
        }
        drop(sender);
        let consumer = tokio::spawn(async move {
            let mut next = vec![0u64; TASKS as usize];
            while let Some(Spill(value)) = receiver.recv().await {
                let (id, sequence) = ((value >> 32) as usize, value & 0xffff_ffff);
                assert_eq!(sequence, next[id], "task {id} out of order");
                next[id] += 1;
            }
            next
        });
        let next = tokio::time::timeout(Duration::from_secs(60), consumer)
            .await
            .expect("every send completes")
            .unwrap();
        assert!(next.iter().all(|&n| n == EACH));
    });
}

#[test]
fn a_woken_then_cancelled_send_passes_its_wake_up_to_the_next_waiter() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(1));
    sender.try_send(Spill(0)).unwrap();
    let (first_count, first_waker) = counting_waker();
    let (second_count, second_waker) = counting_waker();
    let mut first = Box::pin(sender.send(Spill(1)));
    let mut second = Box::pin(sender.send(Spill(2)));
    let mut first_cx = Context::from_waker(&first_waker);
    let mut second_cx = Context::from_waker(&second_waker);
    assert!(first.as_mut().poll(&mut first_cx).is_pending());
    assert!(second.as_mut().poll(&mut second_cx).is_pending());

    assert_eq!(receiver.try_recv(), Ok(Spill(0)));
    assert_eq!((wakes(&first_count), wakes(&second_count)), (1, 0));
    drop(first); // a lost `select!` branch: woken, never polled again
    assert_eq!(
        wakes(&second_count),
        1,
        "the wake-up went to the next waiter"
    );
    assert_eq!(second.as_mut().poll(&mut second_cx), Poll::Ready(Ok(())));
    assert_eq!(receiver.try_recv(), Ok(Spill(2)));
}

#[test]
fn a_cancelled_send_on_tokio_loses_no_other_senders_wake_up() {
    runtime().block_on(async {
        let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(1));
        sender.send(Spill(0)).await.unwrap();
        let cancelled = tokio::time::timeout(Duration::from_millis(20), sender.send(Spill(1)));
        assert!(
            cancelled.await.is_err(),
            "the mailbox is full: the send waits"
        );
        let waiting = {
            let sender = sender.clone();
            tokio::spawn(async move { sender.send(Spill(2)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(receiver.recv().await, Some(Spill(0)));
        tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("the waiting send got the room")
            .unwrap()
            .unwrap();
        assert_eq!(
            receiver.recv().await,
            Some(Spill(2)),
            "the cancelled one was dropped"
        );
    });
}

#[test]
fn dropping_or_closing_the_receiver_hands_every_waiting_message_back() {
    for close in [false, true] {
        let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(1));
        sender.send_blocking(Spill(0)).unwrap();
        let blocked: Vec<_> = (1..4)
            .map(|i| {
                let sender = sender.clone();
                thread::spawn(move || sender.send_blocking(Spill(i)))
            })
            .collect();
        let mut cx = Context::from_waker(Waker::noop());
        let mut pending = Box::pin(sender.send(Spill(9)));
        assert!(pending.as_mut().poll(&mut cx).is_pending());
        thread::sleep(Duration::from_millis(50));
        if close {
            receiver.close();
        } else {
            drop(receiver);
        }
        let mut back: Vec<u32> = blocked
            .into_iter()
            .map(|thread| thread.join().unwrap().unwrap_err().into_inner().0)
            .collect();
        back.sort_unstable();
        assert_eq!(back, [1, 2, 3]);
        assert_eq!(
            pending.as_mut().poll(&mut cx),
            Poll::Ready(Err(SendError(Spill(9))))
        );
        assert_eq!(
            sender.try_send(Spill(5)),
            Err(TrySendError::Closed(Spill(5)))
        );
        assert_eq!(
            sender.send_timeout(Spill(6), Duration::from_secs(1)),
            Err(SendTimeoutError::Closed(Spill(6)))
        );
    }
}

#[test]
fn a_send_never_overtakes_messages_retained_in_overflow() {
    let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(1));
    assert_eq!(sender.enqueue(Spill(1)), Feedback::Ok);
    assert_eq!(sender.enqueue(Spill(2)), Feedback::Backoff); // retained
    assert_eq!(receiver.try_recv(), Ok(Spill(1))); // 2 moves into ready
    assert_eq!(sender.enqueue(Spill(3)), Feedback::Backoff); // retained again
                                                             // Ready is full and overflow retains 3: the send waits behind both.
    assert_eq!(sender.try_send(Spill(4)), Err(TrySendError::Full(Spill(4))));
    let sending = {
        let sender = sender.clone();
        thread::spawn(move || sender.send_blocking(Spill(4)))
    };
    let mut got = Vec::new();
    while got.len() < 3 {
        if let Ok(Some(Spill(value))) = receiver.recv_timeout(Duration::from_secs(10)).map(Some) {
            got.push(value);
        }
    }
    assert_eq!(got, [2, 3, 4]);
    sending.join().unwrap().unwrap();
}

#[test]
fn a_send_waiting_for_the_overflow_to_empty_is_woken_when_it_does() {
    let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(4));
    for i in 0..6 {
        let _ = sender.enqueue(Spill(i)); // 0-3 in ready, 4 and 5 retained
    }
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut send = Box::pin(sender.send(Spill(6)));
    assert!(send.as_mut().poll(&mut cx).is_pending());
    assert_eq!(receiver.try_recv(), Ok(Spill(0))); // refills 4; 5 still retained
    assert_eq!(receiver.try_recv(), Ok(Spill(1))); // refills 5: overflow empty
    assert_eq!(
        wakes(&count),
        1,
        "emptying the overflow wakes the waiting send"
    );
    // Ready is full again (2, 3, 4, 5): woken, the send waits on, first in line.
    assert!(send.as_mut().poll(&mut cx).is_pending());
    assert_eq!(receiver.try_recv(), Ok(Spill(2)));
    assert_eq!(wakes(&count), 2, "the freed slot wakes it");
    assert_eq!(send.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    let rest: Vec<u32> = receiver.try_iter().map(|Spill(v)| v).collect();
    assert_eq!(rest, [3, 4, 5, 6]);
}

/// A policy that must never run: sends do not hand messages to it.
struct NeverHandled(u32);

impl Policy for NeverHandled {
    type Overflow = VecDeque<NeverHandled>;
    fn handle(_: &mut VecDeque<NeverHandled>, message: NeverHandled) {
        panic!("the policy was handed message {} by a send", message.0);
    }
}

#[test]
fn sends_never_call_the_policy() {
    let (sender, mut receiver) = mailbox::new::<NeverHandled>(cap(1));
    sender.send_blocking(NeverHandled(1)).unwrap();
    assert!(sender.try_send(NeverHandled(2)).unwrap_err().is_full());
    let timed_out = sender.send_timeout(NeverHandled(3), Duration::from_millis(10));
    assert!(timed_out.unwrap_err().is_timeout());
    assert_eq!(receiver.try_recv().map(|m| m.0), Ok(1));
    assert_eq!(sender.stats().backoff, 0);
}

#[test]
fn send_timeout_waits_about_its_timeout_and_takes_any_duration() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(1));
    sender.send_timeout(Spill(0), Duration::MAX).unwrap(); // room: at once
    let start = Instant::now();
    let waited = sender.send_timeout(Spill(1), Duration::from_millis(30));
    assert_eq!(waited, Err(SendTimeoutError::Timeout(Spill(1))));
    assert!(start.elapsed() >= Duration::from_millis(30), "never early");
    let late = {
        let sender = sender.clone();
        thread::spawn(move || sender.send_timeout(Spill(2), Duration::MAX))
    };
    thread::sleep(Duration::from_millis(20));
    assert_eq!(receiver.try_recv(), Ok(Spill(0)));
    late.join().unwrap().unwrap();
    assert_eq!(receiver.recv_timeout(Duration::from_secs(5)), Ok(Spill(2)));
}

/// Hints that the overflow may refuse (for the unreliable flavour).
struct Hint(u32);

impl UnreliablePolicy for Hint {
    type Overflow = VecDeque<Hint>;
    fn handle(overflow: &mut VecDeque<Hint>, hint: Hint) -> bool {
        mailbox::policies::capped(overflow, hint, 0)
    }
}

#[test]
fn the_unreliable_flavour_sends_and_waits_the_same_way() {
    let (sender, mut receiver) = mailbox::new_unreliable::<Hint>(cap(2));
    assert_eq!(sender.enqueue(Hint(1)), Unreliable::Outcome(Feedback::Ok));
    sender.send_blocking(Hint(2)).unwrap();
    assert_eq!(sender.enqueue(Hint(3)), Unreliable::Rejected);
    assert!(sender.try_send(Hint(4)).unwrap_err().is_full());
    let waiting = {
        let sender = sender.clone();
        thread::spawn(move || sender.send_blocking(Hint(5)))
    };
    let got: Vec<u32> = (0..3)
        .map(|_| receiver.recv_timeout(Duration::from_secs(10)).unwrap().0)
        .collect();
    assert_eq!(got, [1, 2, 5]);
    waiting.join().unwrap().unwrap();
    assert_eq!(receiver.stats().rejected, 1);
}

#[test]
fn senders_mixing_send_and_enqueue_racing_a_drop_drop_every_message_once() {
    for round in 0..50 {
        let drops = Arc::new(AtomicUsize::new(0));
        let made = Arc::new(AtomicUsize::new(0));
        let (sender, mut receiver) = mailbox::new::<Counted>(cap(4));
        let producers: Vec<_> = (0..4u64)
            .map(|id| {
                let (sender, drops, made) = (sender.clone(), drops.clone(), made.clone());
                thread::spawn(move || {
                    for sequence in 0..200u64 {
                        made.fetch_add(1, Ordering::SeqCst);
                        let message = Counted {
                            id: id << 32 | sequence,
                            drops: drops.clone(),
                        };
                        let closed = if sequence % 3 == 0 {
                            sender.enqueue(message) == Feedback::Closed
                        } else {
                            sender.send_blocking(message).is_err()
                        };
                        if closed {
                            break;
                        }
                    }
                })
            })
            .collect();
        drop(sender);
        for _ in 0..(round * 7 % 300) {
            if receiver.recv_blocking().is_none() {
                break;
            }
        }
        drop(receiver);
        for producer in producers {
            producer.join().unwrap();
        }
        assert_eq!(drops.load(Ordering::SeqCst), made.load(Ordering::SeqCst));
    }
}
