//! Who wakes whom: reading a mailbox's depth or stats wakes no receiver and never makes one
//! sleep through a message, and no receive waits for a sender's policy (try receives answer at
//! once, timed ones honour their deadline, the blocking and async ones sleep until the policy
//! is done and are then woken, never blocking their executor meanwhile).
#![cfg(not(loom))]

mod common;
use common::{cap, runtime, wait_for, Slow, IN_POLICY, RELEASE_POLICY};

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use conflux::mailbox::{
    self, policies, policies::Spill, Feedback, Policy, RecvTimeoutError, TryRecvError,
};

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

/// What a `Gated` message's policy waits for, per test.
#[derive(Default)]
struct Gate {
    in_policy: AtomicBool,
    open: AtomicBool,
}

/// A message whose policy blocks under the overflow lock until its gate opens (10 s at most).
struct Gated(u32, Arc<Gate>);

impl Policy for Gated {
    type Overflow = VecDeque<Gated>;
    fn handle(overflow: &mut VecDeque<Gated>, message: Gated) {
        let gate = Arc::clone(&message.1);
        gate.in_policy.store(true, Ordering::SeqCst);
        let start = Instant::now();
        while !gate.open.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(10) {
            thread::sleep(Duration::from_millis(1));
        }
        policies::spill(overflow, message);
    }
}

/// A capacity-1 mailbox whose `ready` holds message 1 and whose second message sits in a
/// sender's policy, under the overflow lock, until the returned gate opens.
fn mailbox_with_a_policy_running() -> (
    mailbox::Sender<Gated>,
    mailbox::Receiver<Gated>,
    Arc<Gate>,
    thread::JoinHandle<Feedback>,
) {
    let gate = Arc::new(Gate::default());
    let (sender, receiver) = mailbox::new::<Gated>(cap(1));
    assert_eq!(sender.enqueue(Gated(1, Arc::clone(&gate))), Feedback::Ok);
    let spilling = {
        let (sender, gate) = (sender.clone(), Arc::clone(&gate));
        thread::spawn(move || sender.enqueue(Gated(2, gate)))
    };
    let start = Instant::now();
    while !gate.in_policy.load(Ordering::SeqCst) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the policy never ran"
        );
        thread::sleep(Duration::from_millis(1));
    }
    (sender, receiver, gate, spilling)
}

#[test]
fn depth_and_stats_reads_from_either_end_never_wake_a_waiting_receive() {
    let (sender, mut receiver) = mailbox::new::<policies::Spill<u8>>(cap(2));
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(receiver.poll_recv(&mut cx).is_pending());
    for _ in 0..1_000 {
        assert_eq!(sender.len(), 0);
        assert!(sender.is_empty());
        assert_eq!(sender.stats().backoff, 0);
        assert_eq!(receiver.len(), 0);
        assert_eq!(receiver.stats().backoff, 0);
    }
    let reader = {
        let sender = sender.clone();
        thread::spawn(move || {
            for _ in 0..10_000 {
                let _ = sender.len();
                let _ = sender.stats();
            }
        })
    };
    reader.join().unwrap();
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        0,
        "a depth read woke the receive"
    );
    let _ = sender.enqueue(policies::Spill(7));
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        1,
        "a message still wakes it"
    );
    assert_eq!(
        receiver.poll_recv(&mut cx),
        Poll::Ready(Some(policies::Spill(7)))
    );
}

#[test]
fn a_receive_task_that_reads_its_own_depth_each_poll_does_not_wake_itself() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (sender, mut receiver) = mailbox::new::<policies::Spill<u8>>(cap(4));
        let polls = Arc::new(AtomicUsize::new(0));
        let gauge = {
            let polls = Arc::clone(&polls);
            tokio::spawn(async move {
                std::future::poll_fn(|cx| {
                    polls.fetch_add(1, Ordering::SeqCst);
                    let received = receiver.poll_recv(cx);
                    let _depth = receiver.len(); // a gauge, recorded after every poll
                    let _stats = receiver.stats();
                    received
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        let idle_polls = polls.load(Ordering::SeqCst);
        assert!(
            idle_polls <= 2,
            "an idle receive task was polled {idle_polls} times"
        );
        let _ = sender.enqueue(policies::Spill(1));
        assert_eq!(gauge.await.unwrap(), Some(policies::Spill(1)));
    });
}

/// `Sender::len` read in a loop from other threads while the receiver sleeps in `recv_many`:
/// no published message may be slept through (a depth read takes the overflow lock). Also: the count never exceeds what can be queued.
#[test]
fn sender_len_readers_never_make_the_receiver_sleep_through_a_message() {
    let runtime = runtime();
    let (sender, mut receiver) = mailbox::new::<Spill<u32>>(cap(2));
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let sender = sender.clone();
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut max = 0;
                while !stop.load(Ordering::Relaxed) {
                    max = max.max(sender.len());
                }
                max
            })
        })
        .collect();
    let consumer = runtime.spawn(async move {
        let mut buffer = Vec::new();
        let mut got = 0u32;
        // The readers' clones keep the mailbox connected: stop at the last message.
        while got < 5_000 {
            assert!(receiver.recv_many(&mut buffer, 2).await > 0);
            for Spill(i) in buffer.drain(..) {
                assert_eq!(i, got);
                got += 1;
            }
        }
        got
    });
    for i in 0..5_000 {
        let _ = sender.enqueue(Spill(i));
        if i % 100 == 0 {
            thread::sleep(Duration::from_micros(200));
        }
    }
    drop(sender);
    let got = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(30), consumer).await })
        .expect("the receiver slept through a message")
        .unwrap();
    assert_eq!(got, 5_000);
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        // 2 in ready; overflow is unbounded for Spill, so only sanity: no wrap-around garbage.
        assert!(reader.join().unwrap() <= 5_000);
    }
}

#[test]
fn try_receives_answer_at_once_while_a_senders_policy_runs() {
    let (_sender, mut receiver, gate, spilling) = mailbox_with_a_policy_running();
    assert_eq!(receiver.try_recv().map(|m| m.0), Ok(1));
    let start = Instant::now();
    assert_eq!(receiver.try_recv().map(|m| m.0), Err(TryRecvError::Empty));
    let mut batch = Vec::new();
    assert_eq!(
        receiver.try_recv_many(&mut batch, 4),
        Err(TryRecvError::Empty)
    );
    assert_eq!(receiver.try_iter().count(), 0);
    let took = start.elapsed();
    gate.open.store(true, Ordering::SeqCst);
    assert!(
        took < Duration::from_secs(2),
        "try receives waited {took:?} for the policy"
    );
    assert_eq!(spilling.join().unwrap(), Feedback::Backoff);
    let second = receiver.recv_timeout(Duration::from_secs(5)).map(|m| m.0);
    assert_eq!(second, Ok(2));
}

#[test]
fn a_timed_receive_honours_its_deadline_while_a_senders_policy_runs() {
    let (_sender, mut receiver, gate, spilling) = mailbox_with_a_policy_running();
    assert_eq!(receiver.try_recv().map(|m| m.0), Ok(1));
    let start = Instant::now();
    let waited = receiver
        .recv_timeout(Duration::from_millis(50))
        .map(|m| m.0);
    let took = start.elapsed();
    gate.open.store(true, Ordering::SeqCst);
    assert_eq!(waited, Err(RecvTimeoutError::Timeout));
    assert!(
        took >= Duration::from_millis(50),
        "returned early, after {took:?}"
    );
    assert!(
        took < Duration::from_secs(2),
        "waited {took:?} for the policy"
    );
    spilling.join().unwrap();
    assert_eq!(receiver.recv_blocking().map(|m| m.0), Some(2));
}

#[test]
fn a_blocking_receive_sleeps_through_a_running_policy_and_is_woken_when_it_ends() {
    let (_sender, mut receiver, gate, spilling) = mailbox_with_a_policy_running();
    assert_eq!(receiver.try_recv().map(|m| m.0), Ok(1));
    let opener = {
        let gate = Arc::clone(&gate);
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(100));
            gate.open.store(true, Ordering::SeqCst);
        })
    };
    assert_eq!(receiver.recv_blocking().map(|m| m.0), Some(2));
    opener.join().unwrap();
    spilling.join().unwrap();
}

/// A message whose policy waits for its gate under the overflow lock, then panics.
struct PanicsInPolicy(u32, Arc<Gate>);

impl Policy for PanicsInPolicy {
    type Overflow = VecDeque<PanicsInPolicy>;
    fn handle(_: &mut VecDeque<PanicsInPolicy>, message: PanicsInPolicy) {
        message.1.in_policy.store(true, Ordering::SeqCst);
        let start = Instant::now();
        while !message.1.open.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(10) {
            thread::sleep(Duration::from_millis(1));
        }
        panic!("policy panicked on {}", message.0);
    }
}

/// A waker whose `wake` panics.
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("a user's waker panicked");
    }
}

#[test]
fn a_policy_panic_unwinding_into_a_panicking_waker_does_not_abort() {
    let gate = Arc::new(Gate::default());
    let (sender, mut receiver) = mailbox::new::<PanicsInPolicy>(cap(1));
    assert_eq!(
        sender.enqueue(PanicsInPolicy(1, gate.clone())),
        Feedback::Ok
    );
    let spilling = {
        let (sender, gate) = (sender.clone(), gate.clone());
        thread::spawn(move || sender.enqueue(PanicsInPolicy(2, gate)))
    };
    while !gate.in_policy.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(receiver.try_recv().map(|m| m.0), Ok(1));
    // `ready` is empty and the policy holds the lock: the receive waits for the lock's
    // release, with a waker that panics when woken.
    let waker = Waker::from(Arc::new(PanickingWaker));
    assert!(receiver
        .poll_recv(&mut Context::from_waker(&waker))
        .is_pending());
    // The policy panics; its lock's release wakes the receive while that panic unwinds.
    // Before, the second panic aborted the whole test process.
    gate.open.store(true, Ordering::SeqCst);
    let payload = spilling
        .join()
        .expect_err("the policy's panic reaches the sender");
    let message = payload.downcast_ref::<String>().map(String::as_str);
    assert_eq!(message, Some("policy panicked on 2"));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(
        receiver.poll_recv(&mut cx).is_pending(),
        "the mailbox stays usable"
    );
    assert_eq!(sender.enqueue(PanicsInPolicy(3, gate)), Feedback::Ok);
    assert_eq!(receiver.try_recv().map(|m| m.0), Ok(3));
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
