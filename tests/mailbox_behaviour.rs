//! Behaviour of `conflux::mailbox`, one property per test.
#![cfg(not(loom))]

mod common;
use common::{cap, runtime, wait_for, Counted, Slow, IN_POLICY, RELEASE_POLICY};

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use conflux::mailbox::{
    self, policies, policies::Spill, Feedback, Policy, RecvTimeoutError, TryRecvError,
    UnreliablePolicy,
};
use conflux::Unreliable;

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

#[derive(Debug, PartialEq)]
enum Update {
    State { key: u8, value: u32 },
    Count { key: u8, n: u32 },
}

impl Policy for Update {
    type Overflow = VecDeque<Update>;
    fn handle(overflow: &mut VecDeque<Update>, update: Update) {
        match update {
            Update::State { .. } => policies::replace(
                overflow,
                update,
                |old, new| matches!((old, new), (Update::State { key: a, .. }, Update::State { key: b, .. }) if a == b),
            ),
            Update::Count { .. } => {
                policies::merge(overflow, update, |old, new| match (old, new) {
                    (Update::Count { key: a, n }, Update::Count { key: b, n: more }) if *a == b => {
                        *n += more;
                        None
                    }
                    (_, new) => Some(new),
                })
            }
        }
    }
}

#[test]
fn replace_and_merge_policies_keep_one_message_per_key() {
    let (sender, mut receiver) = mailbox::new::<Update>(cap(1));
    let _ = sender.enqueue(Update::Count { key: 9, n: 0 }); // fills ready
    for value in 1..=3 {
        let _ = sender.enqueue(Update::State { key: 1, value });
        let _ = sender.enqueue(Update::Count { key: 2, n: 10 });
    }
    assert_eq!(receiver.len(), 3);
    let got: Vec<Update> = std::iter::from_fn(|| receiver.try_recv().ok()).collect();
    assert_eq!(
        got,
        [
            Update::Count { key: 9, n: 0 },
            Update::State { key: 1, value: 3 },
            Update::Count { key: 2, n: 30 },
        ]
    );
}

struct Hint(u32);

impl UnreliablePolicy for Hint {
    type Overflow = VecDeque<Hint>;
    fn handle(overflow: &mut VecDeque<Hint>, hint: Hint) -> bool {
        policies::capped(overflow, hint, 2)
    }
}

#[test]
fn an_unreliable_policy_can_reject_and_is_counted() {
    let (sender, mut receiver) = mailbox::new_unreliable::<Hint>(cap(1));
    assert_eq!(sender.enqueue(Hint(0)), Unreliable::Outcome(Feedback::Ok));
    assert_eq!(
        sender.enqueue(Hint(1)),
        Unreliable::Outcome(Feedback::Backoff)
    );
    assert_eq!(
        sender.enqueue(Hint(2)),
        Unreliable::Outcome(Feedback::Backoff)
    );
    assert_eq!(sender.enqueue(Hint(3)), Unreliable::Rejected);
    let stats = receiver.stats();
    assert_eq!((stats.backoff, stats.rejected), (2, 1));
    let got: Vec<u32> = std::iter::from_fn(|| receiver.try_recv().ok().map(|h| h.0)).collect();
    assert_eq!(got, [0, 1, 2]);
    drop(receiver);
    assert_eq!(
        sender.enqueue(Hint(4)),
        Unreliable::Outcome(Feedback::Closed)
    );
}

#[test]
fn drop_oldest_and_drop_newest_building_blocks() {
    struct Tick(u32);
    impl Policy for Tick {
        type Overflow = VecDeque<Tick>;
        fn handle(overflow: &mut VecDeque<Tick>, tick: Tick) {
            if tick.0 % 2 == 0 {
                policies::drop_oldest(overflow, tick, 2);
            } else {
                policies::drop_newest(overflow, tick);
            }
        }
    }
    let (sender, mut receiver) = mailbox::new::<Tick>(cap(1));
    for i in [0, 2, 4, 5, 6] {
        let _ = sender.enqueue(Tick(i));
    }
    let got: Vec<u32> = std::iter::from_fn(|| receiver.try_recv().ok().map(|t| t.0)).collect();
    assert_eq!(got, [0, 4, 6]);
}

#[test]
fn dropping_the_receiver_drops_everything_buffered_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (sender, receiver) = mailbox::new::<Counted>(cap(4));
    for id in 0..10 {
        let _ = sender.enqueue(Counted {
            id,
            drops: Arc::clone(&drops),
        });
    }
    assert_eq!(drops.load(Ordering::Relaxed), 0);
    drop(receiver);
    assert_eq!(
        drops.load(Ordering::Relaxed),
        10,
        "ready and overflow dropped at close"
    );
    assert!(sender.is_closed());
    let late = Counted {
        id: 99,
        drops: Arc::clone(&drops),
    };
    assert_eq!(sender.enqueue(late), Feedback::Closed);
    assert_eq!(
        drops.load(Ordering::Relaxed),
        11,
        "a refused message is dropped at once"
    );
    drop(sender);
    assert_eq!(drops.load(Ordering::Relaxed), 11, "and nothing twice");
}

#[test]
fn close_racing_senders_drops_every_message_exactly_once() {
    for round in 0..200 {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, mut receiver) = mailbox::new::<Counted>(cap(2));
        let senders: Vec<_> = (0..3)
            .map(|_| {
                let (sender, drops) = (sender.clone(), Arc::clone(&drops));
                thread::spawn(move || {
                    let mut made = 0;
                    for id in 0..50 {
                        made += 1;
                        let message = Counted {
                            id,
                            drops: Arc::clone(&drops),
                        };
                        if sender.enqueue(message) == Feedback::Closed {
                            break;
                        }
                    }
                    made
                })
            })
            .collect();
        drop(sender);
        let mut received = 0;
        for _ in 0..(round % 40) {
            if receiver.try_recv().is_ok() {
                received += 1;
            }
        }
        drop(receiver);
        let made: usize = senders.into_iter().map(|s| s.join().unwrap()).sum();
        assert!(received <= made);
        assert_eq!(drops.load(Ordering::Relaxed), made, "round {round}");
    }
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

#[test]
fn disconnect_delivers_everything_then_ends_and_wakes_a_waiting_receiver() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(1));
    let _ = sender.enqueue(Spill(1));
    let _ = sender.enqueue(Spill(2)); // in overflow
    drop(sender);
    assert_eq!(receiver.try_recv(), Ok(Spill(1)));
    assert_eq!(receiver.recv_blocking(), Some(Spill(2)));
    assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(receiver.recv_blocking(), None);

    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(1));
    let dropper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(30));
        drop(sender);
    });
    let start = Instant::now();
    assert_eq!(receiver.recv_blocking(), None);
    assert!(start.elapsed() >= Duration::from_millis(25));
    dropper.join().unwrap();
}

#[test]
fn a_message_enqueued_just_before_the_last_sender_drops_is_never_lost() {
    for round in 0..2_000u32 {
        let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(1));
        let racer = thread::spawn(move || {
            let _ = sender.enqueue(Spill(round));
            let _ = sender.enqueue(Spill(round + 1)); // spills
        });
        let mut got = Vec::new();
        while let Some(Spill(v)) = receiver.recv_blocking() {
            got.push(v);
        }
        assert_eq!(got, [round, round + 1]);
        racer.join().unwrap();
    }
}

#[test]
fn recv_timeout_never_returns_early_and_gets_a_late_message() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(2));
    for ms in [1, 20] {
        let start = Instant::now();
        assert_eq!(
            receiver.recv_timeout(Duration::from_millis(ms)),
            Err(RecvTimeoutError::Timeout)
        );
        assert!(start.elapsed() >= Duration::from_millis(ms));
    }
    let late = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        let _ = sender.enqueue(Spill(3));
    });
    assert_eq!(receiver.recv_timeout(Duration::from_secs(10)), Ok(Spill(3)));
    late.join().unwrap();
    assert_eq!(
        receiver.recv_timeout(Duration::from_secs(10)),
        Err(RecvTimeoutError::Disconnected)
    );
}

#[test]
fn a_panicking_policy_propagates_and_leaves_the_mailbox_usable() {
    struct Fragile {
        explode: bool,
        drops: Arc<AtomicUsize>,
    }
    impl Drop for Fragile {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::Relaxed);
        }
    }
    impl Policy for Fragile {
        type Overflow = VecDeque<Fragile>;
        fn handle(overflow: &mut VecDeque<Fragile>, message: Fragile) {
            if message.explode {
                panic!("policy refuses");
            }
            overflow.push_back(message);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let make = |explode| Fragile {
        explode,
        drops: Arc::clone(&drops),
    };
    let (sender, mut receiver) = mailbox::new::<Fragile>(cap(1));
    assert_eq!(sender.enqueue(make(false)), Feedback::Ok);
    assert_eq!(sender.enqueue(make(false)), Feedback::Backoff);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = sender.enqueue(make(true));
    }));
    assert!(panicked.is_err(), "the policy's panic reaches the sender");
    assert_eq!(
        drops.load(Ordering::Relaxed),
        1,
        "the panicking message dropped once"
    );
    assert_eq!(
        sender.enqueue(make(false)),
        Feedback::Backoff,
        "still usable"
    );
    assert_eq!(receiver.len(), 3);
    for _ in 0..3 {
        assert!(receiver.try_recv().is_ok());
    }
    assert_eq!(drops.load(Ordering::Relaxed), 4);
    drop((sender, receiver));
    assert_eq!(drops.load(Ordering::Relaxed), 4, "nothing dropped twice");
}

#[test]
fn async_receive_on_a_multi_thread_runtime_and_as_a_stream() {
    let runtime = runtime();
    runtime.block_on(async {
        let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(4));
        let producer = tokio::spawn(async move {
            for i in 0..64u32 {
                if i % 8 == 0 {
                    tokio::time::sleep(Duration::from_micros(300)).await;
                }
                let _ = sender.enqueue(Spill(i));
            }
        });
        let mut got = Vec::new();
        while let Some(Spill(i)) = receiver.recv().await {
            got.push(i);
        }
        producer.await.unwrap();
        assert_eq!(got, (0..64).collect::<Vec<_>>());

        // As a Stream: poll_next through futures_core, driven by hand.
        let (sender, receiver) = mailbox::new::<Spill<u8>>(cap(2));
        let _ = sender.enqueue(Spill(1));
        drop(sender);
        let mut stream = Box::pin(receiver);
        let next = std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx));
        assert_eq!(next.await, Some(Spill(1)));
        let end = std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx));
        assert_eq!(end.await, None);
    });
}

#[test]
fn a_cancelled_async_receive_loses_nothing() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(2));
        let waited = tokio::time::timeout(Duration::from_millis(10), receiver.recv()).await;
        assert!(waited.is_err());
        let _ = sender.enqueue(Spill(4));
        assert_eq!(receiver.recv().await, Some(Spill(4)));
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

/// A message whose destructor panics when its id is `poison`.
struct Poisoned {
    id: u64,
    poison: u64,
    drops: Arc<AtomicUsize>,
}

impl Drop for Poisoned {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
        if self.id == self.poison {
            panic!("message {} refuses to be dropped quietly", self.id);
        }
    }
}

impl Policy for Poisoned {
    type Overflow = VecDeque<Poisoned>;
    fn handle(overflow: &mut VecDeque<Poisoned>, message: Poisoned) {
        policies::spill(overflow, message);
    }
}

/// One message's panicking `Drop` during the receiver's drop must not strand the messages
/// after it: all are dropped, then the panic continues.
#[test]
fn a_panicking_message_destructor_does_not_strand_the_others() {
    for poison in [0, 2, 5, 7] {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, receiver) = mailbox::new::<Poisoned>(cap(4));
        for id in 0..8 {
            let message = Poisoned {
                id,
                poison,
                drops: Arc::clone(&drops),
            };
            assert!(sender.enqueue(message).accepted()); // 4 in ready, 4 in overflow
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(receiver)));
        let payload = outcome.expect_err("the destructor's panic continues from the drop");
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some(format!("message {poison} refuses to be dropped quietly").as_str())
        );
        // The sender is still alive: nothing waits for it to let go.
        assert_eq!(drops.load(Ordering::Relaxed), 8, "poison {poison}");
        assert!(sender.is_closed());
        let late = Poisoned {
            id: 99,
            poison,
            drops: Arc::clone(&drops),
        };
        assert_eq!(sender.enqueue(late), Feedback::Closed);
        assert_eq!(drops.load(Ordering::Relaxed), 9);
    }
}

/// While a sender's policy runs under the overflow lock, an async receive that
/// finds `ready` empty must return `Pending` (and be woken when the policy's message is out)
/// instead of waiting for the lock and blocking the executor's thread. One worker thread: if
/// the receive blocks it, the second task never runs.
#[test]
fn an_async_receive_never_blocks_its_executor_while_a_policy_runs() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let (sender, mut receiver) = mailbox::new::<Slow>(cap(1));
    let spiller = thread::spawn(move || {
        assert_eq!(sender.enqueue(Slow(1)), Feedback::Ok);
        assert_eq!(sender.enqueue(Slow(2)), Feedback::Backoff); // the policy blocks here
    });
    assert!(wait_for(&IN_POLICY));
    let took_first = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let receiving = {
        let took_first = Arc::clone(&took_first);
        runtime.spawn(async move {
            let first = receiver.recv().await.map(|Slow(n)| n);
            took_first.store(true, Ordering::SeqCst);
            // `ready` is empty now, overflow is active and the lock is held.
            let second = receiver.recv().await.map(|Slow(n)| n);
            (first, second)
        })
    };
    assert!(wait_for(&took_first));
    let other_ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
    runtime.spawn({
        let other_ran = Arc::clone(&other_ran);
        async move { other_ran.store(true, Ordering::SeqCst) }
    });
    let ran = wait_for(&other_ran);
    RELEASE_POLICY.store(true, Ordering::SeqCst);
    assert!(ran, "the executor's only thread was blocked by the receive");
    assert_eq!(runtime.block_on(receiving).unwrap(), (Some(1), Some(2)));
    spiller.join().unwrap();
}

/// `close` stops intake but delivers everything accepted, in order, then ends.
#[test]
fn close_stops_intake_and_delivers_what_was_accepted() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (sender, mut receiver) = mailbox::new::<Counted>(cap(2));
    let counted = |id| Counted {
        id,
        drops: Arc::clone(&drops),
    };
    for id in 0..5 {
        assert!(sender.enqueue(counted(id)).accepted());
    }
    receiver.close();
    receiver.close(); // idempotent
    assert!(sender.is_closed());
    assert_eq!(sender.enqueue(counted(5)), Feedback::Closed);
    assert_eq!(drops.load(Ordering::Relaxed), 1);
    let got: Vec<u64> = std::iter::from_fn(|| receiver.try_recv().ok())
        .map(|m| m.id)
        .collect();
    assert_eq!(got, [0, 1, 2, 3, 4]);
    assert_eq!(receiver.try_recv().err(), Some(TryRecvError::Disconnected));
    assert_eq!(receiver.recv_blocking().map(|m| m.id), None);
    assert_eq!(drops.load(Ordering::Relaxed), 6);
    drop(sender);
    drop(receiver);
    assert_eq!(drops.load(Ordering::Relaxed), 6);
}

/// `close` racing senders: every message is either refused (`Closed`, dropped at once) or
/// accepted and then delivered exactly once, in its sender's order; then the receive ends.
#[test]
fn close_racing_senders_delivers_or_refuses_each_message_once() {
    for round in 0..100 {
        let drops = Arc::new(AtomicUsize::new(0));
        let (sender, mut receiver) = mailbox::new::<Counted>(cap(3));
        let senders: Vec<_> = (0..3u64)
            .map(|who| {
                let sender = sender.clone();
                let drops = Arc::clone(&drops);
                thread::spawn(move || {
                    let mut accepted = 0u64;
                    for seq in 0..200u64 {
                        let message = Counted {
                            id: who << 32 | seq,
                            drops: Arc::clone(&drops),
                        };
                        match sender.enqueue(message) {
                            Feedback::Closed => return (accepted, 1u64),
                            _ => accepted += 1,
                        }
                    }
                    (accepted, 0)
                })
            })
            .collect();
        drop(sender);
        let mut received = Vec::new();
        for _ in 0..round % 7 {
            received.extend(receiver.try_recv().ok());
        }
        receiver.close();
        while let Some(message) = receiver.recv_blocking() {
            received.push(message);
        }
        let (accepted, refused) = senders
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0), |(a, r), (a2, r2)| (a + a2, r + r2));
        assert_eq!(received.len() as u64, accepted, "round {round}");
        let mut next = [0u64; 3];
        for message in &received {
            let (who, seq) = ((message.id >> 32) as usize, message.id & 0xffff_ffff);
            assert_eq!(
                seq, next[who],
                "sender {who} out of order or lost (round {round})"
            );
            next[who] += 1;
        }
        assert_eq!(drops.load(Ordering::Relaxed) as u64, refused);
        drop(received);
        drop(receiver);
        assert_eq!(drops.load(Ordering::Relaxed) as u64, accepted + refused);
    }
}

/// `Sender::closed` completes once the receiver closes or goes, for every waiting
/// sender, inside `tokio::spawn` on a multi-thread runtime.
#[test]
fn closed_completes_for_every_waiting_sender_on_close_or_drop() {
    let runtime = runtime();
    runtime.block_on(async {
        for by_drop in [false, true] {
            let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(2));
            let waiting: Vec<_> = (0..4)
                .map(|_| {
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        sender.closed().await;
                        sender.enqueue(Spill(0))
                    })
                })
                .collect();
            // An abandoned wait leaves nothing behind.
            let abandoned = tokio::time::timeout(Duration::from_millis(10), sender.closed()).await;
            assert!(abandoned.is_err());
            tokio::time::sleep(Duration::from_millis(10)).await;
            if by_drop {
                drop(receiver);
            } else {
                receiver.close();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    drop(receiver);
                });
            }
            for task in waiting {
                let answer = tokio::time::timeout(Duration::from_secs(5), task)
                    .await
                    .expect("a waiting sender was not woken")
                    .unwrap();
                assert_eq!(answer, Feedback::Closed);
            }
            sender.closed().await; // already closed: at once
        }
    });
}

#[test]
fn every_wait_strategy_receives_times_out_and_sees_disconnection() {
    use conflux::WaitStrategy;
    for strategy in [
        WaitStrategy::Adaptive,
        WaitStrategy::Park,
        WaitStrategy::SpinOnly,
        WaitStrategy::Spin(Duration::from_micros(100)),
        WaitStrategy::Spin(Duration::MAX),
    ] {
        let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(2));
        receiver.set_wait_strategy(strategy);
        assert_eq!(receiver.wait_strategy(), strategy);
        assert_eq!(
            receiver.recv_timeout(Duration::from_millis(2)),
            Err(RecvTimeoutError::Timeout),
            "{strategy:?}"
        );
        let producer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1));
            for i in 0..5 {
                let _ = sender.enqueue(Spill(i)); // 3 of them spill past capacity 2
            }
        });
        for i in 0..5 {
            assert_eq!(receiver.recv_blocking(), Some(Spill(i)), "{strategy:?}");
        }
        producer.join().unwrap();
        assert_eq!(receiver.recv_blocking(), None, "{strategy:?}");
    }
}

/// flume 0.12's class: `recv_timeout(Duration::MAX)` (a "wait forever" computed by the caller)
/// neither panics (`Instant + Duration` overflows) nor returns early: it waits for a late
/// message, and still sees disconnection.
#[test]
fn a_duration_max_timeout_waits_without_panicking_or_returning_early() {
    let (sender, mut receiver) = mailbox::new::<Spill<u8>>(cap(1));
    let late = thread::spawn(move || {
        thread::sleep(Duration::from_millis(30));
        let _ = sender.enqueue(Spill(1));
        let _ = sender.enqueue(Spill(2)); // spilled
        thread::sleep(Duration::from_millis(30));
    });
    let start = Instant::now();
    assert_eq!(receiver.recv_timeout(Duration::MAX), Ok(Spill(1)));
    assert!(start.elapsed() >= Duration::from_millis(25));
    assert_eq!(receiver.recv_timeout(Duration::MAX), Ok(Spill(2)));
    assert_eq!(
        receiver.recv_timeout(Duration::MAX),
        Err(RecvTimeoutError::Disconnected)
    );
    late.join().unwrap();
    let (_sender, mut unreliable) = mailbox::new_unreliable::<Spill<u8>>(cap(1));
    unreliable.close();
    assert_eq!(
        unreliable.recv_timeout(Duration::MAX),
        Err(RecvTimeoutError::Disconnected)
    );
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
