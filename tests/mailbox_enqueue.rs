//! Enqueue: the `Feedback` of each path (`Ok` on the fast path, `Backoff` once the policy ran),
//! no newcomer overtaking retained messages, the stale-full retry under the lock, each sender's
//! order across `ready` and overflow (sender threads, and sender tasks on a multi-thread
//! runtime), the handles' `Send` / `Sync`, and the capacity limits (too large to represent or
//! to allocate: a panic naming the size, at the caller's line, never an arithmetic overflow).
#![cfg(not(loom))]

mod common;
use common::{cap, runtime, Counted};

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use conflux::mailbox::{self, policies::Spill, Feedback, Policy, TryRecvError};

#[test]
fn fast_path_answers_ok_until_ready_is_full_then_backoff() {
    let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(3));
    for i in 0..3 {
        assert_eq!(sender.enqueue(Spill(i)), Feedback::Ok);
    }
    assert_eq!(sender.enqueue(Spill(3)), Feedback::Backoff);
    assert_eq!(sender.stats().backoff, 1);
    assert_eq!(receiver.len(), 4);
    // Refill after each message taken: order kept across ready and overflow.
    for i in 0..4 {
        assert_eq!(receiver.try_recv(), Ok(Spill(i)));
    }
    assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_newcomer_never_overtakes_retained_messages() {
    let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(2));
    for i in 0..4 {
        let _ = sender.enqueue(Spill(i));
    }
    // Room appears in ready, but overflow still retains 2 and 3: 4 must queue behind them.
    assert_eq!(receiver.try_recv(), Ok(Spill(0)));
    assert_eq!(sender.enqueue(Spill(4)), Feedback::Backoff);
    let rest: Vec<u32> = std::iter::from_fn(|| receiver.try_recv().ok().map(|s| s.0)).collect();
    assert_eq!(rest, [1, 2, 3, 4]);
    // Overflow drained: back on the fast path.
    assert_eq!(sender.enqueue(Spill(5)), Feedback::Ok);
}

#[test]
fn a_stale_full_view_retries_ready_before_spilling() {
    // With overflow empty, the slow path tries `ready` again under the lock: a sender that saw
    // "full" just before the receiver made room still gets `Ok`. Drive the slow path with a
    // policy that records whether it ran.
    static RAN: AtomicUsize = AtomicUsize::new(0);
    struct Probe;
    impl Policy for Probe {
        type Overflow = VecDeque<Probe>;
        fn handle(overflow: &mut VecDeque<Probe>, message: Probe) {
            RAN.fetch_add(1, Ordering::Relaxed);
            overflow.push_back(message);
        }
    }
    let (sender, mut receiver) = mailbox::new::<Probe>(cap(1));
    assert_eq!(sender.enqueue(Probe), Feedback::Ok);
    assert_eq!(sender.enqueue(Probe), Feedback::Backoff);
    assert_eq!(RAN.load(Ordering::Relaxed), 1);
    receiver.try_recv().unwrap(); // refills the retained one into ready
    receiver.try_recv().unwrap();
    assert_eq!(sender.enqueue(Probe), Feedback::Ok);
    assert_eq!(RAN.load(Ordering::Relaxed), 1);
}

#[test]
fn each_senders_order_is_kept_across_ready_and_overflow_under_contention() {
    const SENDERS: u64 = 3;
    const EACH: u64 = 20_000;
    let drops = Arc::new(AtomicUsize::new(0));
    let (sender, mut receiver) = mailbox::new::<Counted>(cap(8));
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let (sender, drops) = (sender.clone(), Arc::clone(&drops));
            thread::spawn(move || {
                let mut backoffs = 0;
                for i in 0..EACH {
                    let message = Counted {
                        id: s * EACH + i,
                        drops: Arc::clone(&drops),
                    };
                    if sender.enqueue(message) == Feedback::Backoff {
                        backoffs += 1;
                    }
                }
                backoffs
            })
        })
        .collect();
    drop(sender);
    let mut next = [0u64; SENDERS as usize];
    while let Some(message) = receiver.recv_blocking() {
        let (s, i) = (message.id / EACH, message.id % EACH);
        assert_eq!(i, next[s as usize], "sender {s} out of order");
        next[s as usize] += 1;
    }
    let backoffs: u64 = senders.into_iter().map(|s| s.join().unwrap()).sum();
    assert_eq!(next, [EACH; SENDERS as usize], "nothing lost");
    assert_eq!(receiver.stats().backoff, backoffs);
    assert_eq!(drops.load(Ordering::Relaxed), (SENDERS * EACH) as usize);
}

/// Per-sender order across overflow, async: four sender tasks on a multi-thread runtime
/// spill into a capacity-2 mailbox while the receive awaits in another task; each sender's
/// messages arrive in its order, every one exactly once.
#[test]
fn each_senders_order_is_kept_across_overflow_for_an_async_receiver() {
    const SENDERS: u64 = 4;
    const EACH: u64 = 5_000;
    runtime().block_on(async {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, mut receiver) = mailbox::new::<Counted>(cap(2));
        let consumer = tokio::spawn(async move {
            let mut next = [0u64; SENDERS as usize];
            while let Some(message) = receiver.recv().await {
                let (s, i) = (message.id / EACH, message.id % EACH);
                assert_eq!(i, next[s as usize], "sender {s} out of order");
                next[s as usize] += 1;
            }
            next
        });
        let senders: Vec<_> = (0..SENDERS)
            .map(|s| {
                let (sender, drops) = (sender.clone(), Arc::clone(&drops));
                tokio::spawn(async move {
                    for i in 0..EACH {
                        let id = s * EACH + i;
                        let _ = sender.enqueue(Counted {
                            id,
                            drops: Arc::clone(&drops),
                        });
                        if i % 100 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        drop(sender);
        for s in senders {
            s.await.unwrap();
        }
        assert_eq!(consumer.await.unwrap(), [EACH; SENDERS as usize]);
        assert_eq!(drops.load(Ordering::Relaxed), (SENDERS * EACH) as usize);
    });
}

#[test]
fn handles_are_send_and_sync_as_documented() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<mailbox::Sender<Spill<String>>>();
    send_sync::<mailbox::UnreliableSender<Spill<String>>>();
    send::<mailbox::Receiver<Spill<String>>>();
    send::<mailbox::UnreliableReceiver<Spill<String>>>();
}

#[test]
#[should_panic(expected = "a mailbox holds at most")]
fn an_unrepresentable_capacity_panics_naming_the_limit() {
    let _ = mailbox::new::<Spill<u8>>(cap(usize::MAX));
}

/// The location of the last panic on this thread, recorded by a hook installed once (tests run
/// in parallel threads of one process, so the hook forwards everything to the default one).
fn panic_location_of(f: impl FnOnce() + std::panic::UnwindSafe) -> (String, String) {
    use std::cell::RefCell;
    use std::sync::Once;
    thread_local!(static LAST: RefCell<Option<String>> = const { RefCell::new(None) });
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()));
            LAST.with(|last| *last.borrow_mut() = location);
            default(info);
        }));
    });
    let payload = std::panic::catch_unwind(f).expect_err("it must panic");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    (message, LAST.with(|last| last.borrow_mut().take()).unwrap())
}

/// A capacity that cannot be allocated is a panic naming it (it once aborted the process: "memory allocation of 17592186044416 bytes failed"), at the caller's line.
#[test]
fn a_capacity_that_cannot_be_allocated_panics_naming_it_at_the_callers_line() {
    let capacity: usize = if usize::BITS == 64 { 1 << 40 } else { 1 << 26 };
    let line = line!() + 2;
    let (message, location) = panic_location_of(|| {
        let _ = mailbox::new::<Spill<[u64; 8]>>(cap(capacity));
    });
    assert!(message.contains(&capacity.to_string()), "{message}");
    assert!(message.contains("cannot allocate"), "{message}");
    assert_eq!(location, format!("{}:{line}", file!()));
    // The same for the limit panics of every constructor.
    let line = line!() + 1;
    let (message, location) = panic_location_of(|| drop(conflux::notify::event_queue(0)));
    assert!(message.contains("non-zero"), "{message}");
    assert_eq!(location, format!("{}:{line}", file!()));
    let line = line!() + 2;
    let (_, location) = panic_location_of(|| {
        let _ = mailbox::new_unreliable::<Spill<u8>>(cap(usize::MAX));
    });
    assert_eq!(location, format!("{}:{line}", file!()));
}

/// crossbeam #1301's class: the largest capacities panic with a message naming the limit,
/// never with an arithmetic overflow (tests build with overflow checks on), for both flavours
/// and `NonZeroUsize::MAX` itself.
#[test]
fn the_largest_capacities_panic_naming_the_limit_not_overflowing() {
    for capacity in [usize::MAX, usize::MAX - 1, usize::MAX / 2 + 1] {
        let capacity = std::num::NonZeroUsize::new(capacity).unwrap();
        for unreliable in [false, true] {
            let payload = std::panic::catch_unwind(move || {
                if unreliable {
                    drop(mailbox::new_unreliable::<Spill<u8>>(capacity));
                } else {
                    drop(mailbox::new::<Spill<u8>>(capacity));
                }
            })
            .expect_err("too large");
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            assert!(message.contains("a mailbox holds at most"), "{message}");
            assert!(!message.contains("overflow"), "{message}");
        }
    }
    let payload =
        std::panic::catch_unwind(|| drop(mailbox::new::<Spill<u8>>(std::num::NonZeroUsize::MAX)));
    assert!(payload.is_err());
}
