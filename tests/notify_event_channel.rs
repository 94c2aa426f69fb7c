//! Behaviour of `event_channel`: blocking, timeouts, disconnection both ways, async.
#![cfg(not(loom))]

use std::thread;
use std::time::{Duration, Instant};

use conflux::notify::{
    event_channel, Events, NotifyError, RecvError, RecvTimeoutError, Token, TryRecvError,
};

fn indices(events: &Events) -> Vec<usize> {
    events.iter().map(Token::index).collect()
}

#[test]
fn a_blocked_receiver_wakes_on_notify() {
    let (sender, receiver) = event_channel(8);
    let notifier = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        sender.notify(Token::new(6)).unwrap();
        sender
    });
    let mut events = Events::with_capacity(8);
    receiver.recv(&mut events).unwrap();
    assert_eq!(indices(&events), [6]);
    drop(notifier.join().unwrap());
}

#[test]
fn receives_honour_the_limit_and_keep_fifo_order() {
    let (sender, receiver) = event_channel(8);
    for index in [3, 1, 2] {
        sender.notify(Token::new(index)).unwrap();
    }
    let mut events = Events::with_capacity(8);
    receiver.recv_limit(&mut events, 2).unwrap();
    assert_eq!(indices(&events), [3, 1]);
    receiver.try_recv(&mut events).unwrap();
    assert_eq!(indices(&events), [2]);
    assert_eq!(receiver.try_recv(&mut events), Err(TryRecvError::Empty));
    assert!(
        events.is_empty(),
        "a failed receive leaves the buffer cleared"
    );
}

#[test]
fn a_zero_limit_receive_is_taken_as_one() {
    let (sender, receiver) = event_channel(4);
    sender.notify(Token::new(0)).unwrap();
    sender.notify(Token::new(1)).unwrap();
    let mut events = Events::with_capacity(4);
    receiver.try_recv_limit(&mut events, 0).unwrap();
    assert_eq!(indices(&events), [0]);
    receiver.recv_limit(&mut events, 0).unwrap();
    assert_eq!(indices(&events), [1]);
}

#[test]
fn recv_timeout_never_returns_early_without_a_token() {
    let (_sender, receiver) = event_channel(4);
    let mut events = Events::with_capacity(4);
    for timeout_ms in [1, 10, 30] {
        let timeout = Duration::from_millis(timeout_ms);
        let start = Instant::now();
        assert_eq!(
            receiver.recv_timeout(&mut events, timeout),
            Err(RecvTimeoutError::Timeout)
        );
        assert!(start.elapsed() >= timeout, "returned before {timeout:?}");
    }
}

#[test]
fn recv_deadline_returns_a_token_that_arrives_in_time() {
    let (sender, receiver) = event_channel(4);
    let late = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        sender.notify(Token::new(2)).unwrap();
        sender
    });
    let mut events = Events::with_capacity(4);
    let deadline = Instant::now() + Duration::from_secs(10);
    receiver.recv_deadline(&mut events, deadline).unwrap();
    assert_eq!(indices(&events), [2]);
    assert!(Instant::now() < deadline);
    let past = Instant::now() - Duration::from_millis(1);
    assert_eq!(
        receiver.recv_deadline(&mut events, past),
        Err(RecvTimeoutError::Timeout)
    );
    drop(late.join().unwrap());
}

#[test]
fn a_huge_timeout_is_no_timeout() {
    let (sender, receiver) = event_channel(4);
    sender.notify(Token::new(1)).unwrap();
    let mut events = Events::with_capacity(4);
    receiver
        .recv_timeout(&mut events, Duration::MAX)
        .expect("a pending token is delivered");
}

#[test]
fn pending_tokens_are_delivered_before_disconnection_is_reported() {
    let (sender, receiver) = event_channel(4);
    sender.notify(Token::new(3)).unwrap();
    drop(sender);
    assert!(receiver.is_disconnected());
    let mut events = Events::with_capacity(4);
    assert_eq!(receiver.recv(&mut events), Ok(()));
    assert_eq!(indices(&events), [3]);
    assert_eq!(receiver.recv(&mut events), Err(RecvError));
    assert_eq!(
        receiver.try_recv(&mut events),
        Err(TryRecvError::Disconnected)
    );
    assert_eq!(
        receiver.recv_timeout(&mut events, Duration::from_secs(5)),
        Err(RecvTimeoutError::Disconnected)
    );
}

#[test]
fn dropping_the_last_sender_wakes_a_blocked_receiver() {
    let (sender, receiver) = event_channel(4);
    let clone = sender.clone();
    let dropper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(30));
        drop(sender);
        thread::sleep(Duration::from_millis(30));
        drop(clone);
    });
    let start = Instant::now();
    let mut events = Events::with_capacity(4);
    assert_eq!(receiver.recv(&mut events), Err(RecvError));
    assert!(start.elapsed() >= Duration::from_millis(50));
    dropper.join().unwrap();
}

#[test]
fn a_notify_just_before_the_last_sender_drops_is_never_lost() {
    // The trap: the receiver sees "empty", the last sender notifies and drops, the receiver
    // sees "disconnected". Raced many times, the token must always come out first.
    let mut events = Events::with_capacity(2);
    for round in 0..3_000 {
        let (sender, receiver) = event_channel(2);
        let racer = thread::spawn(move || {
            sender.notify(Token::new(round % 2)).unwrap();
        });
        let mut got = Vec::new();
        while receiver.recv(&mut events).is_ok() {
            got.extend(indices(&events));
        }
        assert_eq!(got, [round % 2], "round {round}");
        racer.join().unwrap();
    }
}

#[test]
fn dropping_the_receiver_closes_the_channel() {
    let (sender, receiver) = event_channel(4);
    drop(receiver);
    assert!(sender.is_closed());
    assert_eq!(
        sender.notify(Token::new(0)),
        Err(NotifyError::Closed {
            token: Token::new(0)
        })
    );
}

/// The calling thread's id, as `/proc/self/task/<tid>` names it.
#[cfg(target_os = "linux")]
fn current_tid() -> String {
    let link = std::fs::read_link("/proc/thread-self").unwrap(); // "<pid>/task/<tid>"
    link.file_name().unwrap().to_string_lossy().into_owned()
}

/// CPU time (user + system, in clock ticks) that thread `tid` of this process has used.
#[cfg(target_os = "linux")]
fn thread_cpu_ticks(tid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime, fields 14 and 15 of the whole line (11 and 12 after the name).
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Waits until thread `tid` sleeps (its state in `/proc` is `S`), for at most 10 s.
#[cfg(target_os = "linux")]
fn wait_until_asleep(tid: &str) {
    for _ in 0..10_000 {
        if is_asleep(tid) {
            return;
        }
        thread::sleep(Duration::from_millis(1));
    }
    panic!("thread {tid} never went to sleep");
}

/// Whether thread `tid` is in state `S` (sleeping, interruptible).
#[cfg(target_os = "linux")]
fn is_asleep(tid: &str) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
    stat[stat.rfind(')').unwrap() + 2..].starts_with('S')
}

/// How many times thread `tid` has gone to sleep of its own accord, read once it sleeps and
/// that count has stayed the same for 50 ms. A thread seen in `S` may not be counted yet: the
/// kernel sets the state before the switch that counts it, and a thread preempted in between
/// (CI boxes are loaded) stays uncounted until it runs again; reading the count then made this
/// test fail once on CI (the wake-up's sleep looked like a second one).
#[cfg(target_os = "linux")]
fn sleeps_once_settled(tid: &str) -> u64 {
    loop {
        wait_until_asleep(tid);
        let sleeps = thread_sleeps(tid);
        thread::sleep(Duration::from_millis(50));
        if thread_sleeps(tid) == sleeps && is_asleep(tid) {
            return sleeps;
        }
    }
}

/// How many times thread `tid` has gone to sleep of its own accord (parked, blocked).
#[cfg(target_os = "linux")]
fn thread_sleeps(tid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("voluntary_ctxt_switches:"))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn an_idle_receiver_burns_no_cpu() {
    let (sender, receiver) = event_channel(4);
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let waiter = thread::spawn(move || {
        tid_tx.send(current_tid()).unwrap();
        let mut events = Events::with_capacity(4);
        receiver.recv(&mut events).map(|()| indices(&events))
    });
    let tid = tid_rx.recv().unwrap();
    wait_until_asleep(&tid); // past any spin
    let before = thread_cpu_ticks(&tid);
    thread::sleep(Duration::from_millis(500));
    let burnt = thread_cpu_ticks(&tid) - before;
    sender.notify(Token::new(1)).unwrap();
    assert_eq!(waiter.join().unwrap(), Ok(vec![1]));
    // The receiver thread alone: spinning it would burn ~50 ticks (100 Hz) in 500 ms; parked,
    // it burns none. One tick of slack for a tick that lands on it as it parks.
    assert!(burnt <= 1, "the idle receiver thread burnt {burnt} ticks");
}

/// A receiver woken after sleeping pays one wake-up: it does not go back to sleep (and get
/// woken again) before it returns the token.
#[cfg(target_os = "linux")]
#[test]
fn a_sleeping_receiver_is_woken_once() {
    for strategy in [
        conflux::WaitStrategy::Adaptive,
        conflux::WaitStrategy::Park,
        conflux::WaitStrategy::Spin(Duration::from_micros(20)),
    ] {
        let (sender, mut receiver) = event_channel(4);
        receiver.set_wait_strategy(strategy);
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let waiter = thread::spawn(move || {
            let tid = current_tid();
            tid_tx.send(tid.clone()).unwrap();
            let mut events = Events::with_capacity(4);
            receiver.recv(&mut events).unwrap();
            (indices(&events), thread_sleeps(&tid))
        });
        let tid = tid_rx.recv().unwrap();
        let asleep = sleeps_once_settled(&tid);
        sender.notify(Token::new(2)).unwrap();
        let (tokens, after) = waiter.join().unwrap();
        assert_eq!(tokens, [2]);
        assert_eq!(
            after, asleep,
            "{strategy:?}: the receiver slept again after its wake-up"
        );
    }
}

#[test]
fn async_receive_on_a_multi_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (sender, mut receiver) = event_channel(16);
        let producer = tokio::spawn(async move {
            for index in 0..16 {
                tokio::time::sleep(Duration::from_micros(200)).await;
                sender.notify(Token::new(index)).unwrap();
            }
        });
        let mut events = Events::with_capacity(16);
        let mut got = Vec::new();
        while receiver.recv_async(&mut events, 4).await.is_ok() {
            assert!(events.len() <= 4);
            got.extend(indices(&events));
        }
        producer.await.unwrap();
        assert_eq!(got, (0..16).collect::<Vec<_>>());
    });
}

#[test]
fn a_cancelled_async_receive_loses_nothing() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (sender, mut receiver) = event_channel(4);
        let mut events = Events::with_capacity(4);
        // Cancel a receive that is waiting...
        let timed_out = tokio::time::timeout(
            Duration::from_millis(20),
            receiver.recv_async(&mut events, 4),
        )
        .await;
        assert!(timed_out.is_err());
        // ...then notify: the next receive gets the token, and a wake of the stale waker
        // is harmless.
        sender.notify(Token::new(3)).unwrap();
        receiver.recv_async(&mut events, 4).await.unwrap();
        assert_eq!(indices(&events), [3]);
        // Disconnection wakes an awaiting receiver.
        let dropper = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(sender);
        });
        assert_eq!(receiver.recv_async(&mut events, 4).await, Err(RecvError));
        dropper.await.unwrap();
    });
}

/// The async receive's future is `Send`, so it runs inside `tokio::spawn` on a
/// multi-thread runtime (with `&self` it held a `!Sync` receiver across the `.await`).
#[test]
fn async_receive_runs_inside_tokio_spawn_on_a_multi_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (sender, mut receiver) = event_channel(64);
        let consumer = tokio::spawn(async move {
            let mut events = Events::with_capacity(64);
            let mut got = Vec::new();
            while receiver.recv_async(&mut events, 8).await.is_ok() {
                got.extend(indices(&events));
            }
            got
        });
        let producers: Vec<_> = (0..2)
            .map(|half| {
                let sender = sender.clone();
                tokio::spawn(async move {
                    for index in (half * 32)..(half * 32 + 32) {
                        tokio::time::sleep(Duration::from_micros(50)).await;
                        sender.notify(Token::new(index)).unwrap();
                    }
                })
            })
            .collect();
        drop(sender);
        for producer in producers {
            producer.await.unwrap();
        }
        let mut got = consumer.await.unwrap();
        // Each token was notified once, so each is delivered exactly once.
        got.sort_unstable();
        assert_eq!(got, (0..64).collect::<Vec<_>>());
    });
}

/// On the channel, a receive that finds tokens carried over from a partial drain
/// returns them at once (with what else is pending, within the limit), never waits or loses them.
#[test]
fn receives_return_carried_over_tokens_at_once() {
    let (sender, receiver) = event_channel(8);
    let mut events = Events::with_capacity(8);
    for index in [1, 2, 3] {
        sender.notify(Token::new(index)).unwrap();
    }
    receiver.recv(&mut events).unwrap();
    assert_eq!(events.drain().next(), Some(Token::new(1)));
    // Nothing is pending in the queue: a blocking receive must not wait for a notify.
    receiver.recv(&mut events).unwrap();
    assert_eq!(indices(&events), [2, 3]);
    assert_eq!(
        receiver.try_recv(&mut events),
        Err(conflux::notify::TryRecvError::Empty)
    );
}

#[test]
fn every_wait_strategy_receives_times_out_and_sees_disconnection() {
    use conflux::WaitStrategy;
    for strategy in [
        WaitStrategy::Adaptive,
        WaitStrategy::Park,
        WaitStrategy::SpinOnly,
        WaitStrategy::Spin(Duration::ZERO),
        WaitStrategy::Spin(Duration::from_micros(100)),
        WaitStrategy::Spin(Duration::MAX), // too long to add to the clock: no limit
    ] {
        let (sender, mut receiver) = event_channel(4);
        receiver.set_wait_strategy(strategy);
        assert_eq!(receiver.wait_strategy(), strategy);
        let mut events = Events::with_capacity(4);
        assert_eq!(
            receiver.recv_timeout(&mut events, Duration::from_millis(2)),
            Err(RecvTimeoutError::Timeout),
            "{strategy:?}"
        );
        let producer = thread::spawn(move || {
            thread::sleep(Duration::from_millis(1));
            sender.notify(Token::new(3)).unwrap();
        });
        assert_eq!(receiver.recv(&mut events), Ok(()), "{strategy:?}");
        assert_eq!(indices(&events), [3]);
        producer.join().unwrap();
        assert_eq!(receiver.recv(&mut events), Err(RecvError), "{strategy:?}");
    }
}

/// `Receiver::close` keeps what is pending, refuses later notifies, then
/// every receive reports disconnection; `Sender::is_closed` and `is_disconnected` follow.
#[test]
fn close_keeps_what_is_pending_refuses_later_notifies_then_disconnects() {
    let (sender, mut receiver) = event_channel(8);
    sender.notify(Token::new(5)).unwrap();
    sender.notify(Token::new(2)).unwrap();
    sender.notify(Token::new(5)).unwrap(); // conflated
    receiver.close();
    assert!(sender.is_closed());
    assert!(receiver.is_disconnected());
    for index in [5, 7] {
        assert_eq!(
            sender.notify(Token::new(index)),
            Err(NotifyError::Closed {
                token: Token::new(index)
            })
        );
    }
    assert_eq!(
        sender.notify_many(&[Token::new(6), Token::new(7)]),
        Err(NotifyError::Closed {
            token: Token::new(6)
        })
    );
    let mut events = Events::with_capacity(8);
    receiver.recv_limit(&mut events, 1).unwrap();
    assert_eq!(indices(&events), [5]);
    receiver
        .recv_timeout(&mut events, Duration::from_secs(5))
        .unwrap();
    assert_eq!(
        indices(&events),
        [2],
        "the refused 7 and 6 are not delivered"
    );
    assert_eq!(receiver.recv(&mut events), Err(RecvError));
    assert_eq!(
        receiver.try_recv(&mut events),
        Err(TryRecvError::Disconnected)
    );
    assert_eq!(
        receiver.recv_timeout(&mut events, Duration::from_secs(5)),
        Err(RecvTimeoutError::Disconnected)
    );
    receiver.close(); // again: nothing changes
    assert_eq!(receiver.recv(&mut events), Err(RecvError));
    drop(sender);
    assert_eq!(receiver.recv(&mut events), Err(RecvError));
}

/// Tokens a partial drain left before the close are still handed back, and the close's end
/// counts only queue positions.
#[test]
fn close_keeps_carried_over_tokens() {
    let (sender, mut receiver) = event_channel(8);
    let mut events = Events::with_capacity(8);
    sender
        .notify_many(&[Token::new(0), Token::new(1), Token::new(2)])
        .unwrap();
    receiver.recv_limit(&mut events, 2).unwrap();
    assert_eq!(events.drain().next(), Some(Token::new(0))); // 1 is carried over
    receiver.close();
    receiver.try_recv_limit(&mut events, 2).unwrap();
    assert_eq!(indices(&events), [1, 2]);
    assert_eq!(
        receiver.try_recv(&mut events),
        Err(TryRecvError::Disconnected)
    );
}

/// `close` racing notifying threads: every notify answered `Ok` is delivered before
/// disconnection is reported; the receive always ends.
#[test]
fn close_racing_notifiers_delivers_every_accepted_token() {
    const EACH: usize = 64;
    let mut events = Events::with_capacity(2 * EACH);
    for round in 0..300 {
        let (sender, mut receiver) = event_channel(2 * EACH);
        let notifiers: Vec<_> = (0..2)
            .map(|n| {
                let sender = sender.clone();
                thread::spawn(move || {
                    (n * EACH..(n + 1) * EACH)
                        .filter(|&i| sender.notify(Token::new(i)).is_ok())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        drop(sender);
        if round % 2 == 0 {
            thread::yield_now();
        }
        receiver.close();
        let mut delivered = Vec::new();
        while receiver.recv(&mut events).is_ok() {
            delivered.extend(indices(&events));
        }
        for notifier in notifiers {
            for accepted in notifier.join().unwrap() {
                assert!(
                    delivered.contains(&accepted),
                    "round {round}: token {accepted} was accepted, never delivered"
                );
            }
        }
    }
}

/// `Sender::closed()` completes for every waiting sender, on `close` or on
/// the receiver's drop, on a multi-thread runtime; at once when already closed.
#[test]
fn closed_completes_for_every_waiting_sender_on_close_or_drop() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        for by_drop in [false, true] {
            let (sender, mut receiver) = event_channel(4);
            let watchers: Vec<_> = (0..3)
                .map(|_| {
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        sender.closed().await;
                        sender.notify(Token::new(0))
                    })
                })
                .collect();
            tokio::time::sleep(Duration::from_millis(20)).await;
            if by_drop {
                drop(receiver);
            } else {
                receiver.close();
                // Receives still work after close; the watchers' notifies are refused.
                let mut events = Events::with_capacity(4);
                assert_eq!(
                    receiver.try_recv(&mut events),
                    Err(TryRecvError::Disconnected)
                );
            }
            for watcher in watchers {
                let refused = tokio::time::timeout(Duration::from_secs(10), watcher)
                    .await
                    .expect("closed() completed")
                    .unwrap();
                assert_eq!(
                    refused,
                    Err(NotifyError::Closed {
                        token: Token::new(0)
                    })
                );
            }
            sender.closed().await; // already closed: at once
        }
    });
}

/// An awaiting receive is not stranded by the close's end; a stream over a
/// closed channel ends after what was pending.
#[test]
fn an_async_receive_after_close_delivers_then_ends() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async {
        let (sender, mut receiver) = event_channel(4);
        sender.notify(Token::new(3)).unwrap();
        let consumer = tokio::spawn(async move {
            receiver.close();
            let mut events = Events::with_capacity(4);
            let mut seen = Vec::new();
            while receiver.recv_async(&mut events, 4).await.is_ok() {
                seen.extend(indices(&events));
            }
            seen
        });
        assert_eq!(consumer.await.unwrap(), [3]);
        assert!(sender.is_closed());
    });
}

/// flume 0.12's class: `recv_timeout(Duration::MAX)` with nothing pending neither panics
/// (`Instant + Duration` overflows) nor returns early: it waits for the late token, and still
/// sees disconnection.
#[test]
fn a_duration_max_timeout_waits_without_panicking_or_returning_early() {
    let (sender, receiver) = event_channel(4);
    let late = thread::spawn(move || {
        thread::sleep(Duration::from_millis(30));
        sender.notify(Token::new(2)).unwrap();
        thread::sleep(Duration::from_millis(30));
    });
    let mut events = Events::with_capacity(4);
    let start = Instant::now();
    receiver
        .recv_timeout(&mut events, Duration::MAX)
        .expect("the late token");
    assert!(start.elapsed() >= Duration::from_millis(25));
    assert_eq!(indices(&events), [2]);
    assert_eq!(
        receiver.recv_timeout(&mut events, Duration::MAX),
        Err(RecvTimeoutError::Disconnected)
    );
    late.join().unwrap();
}

/// crossbeam #1301's class: `event_channel(usize::MAX)` (and just above the limit) panics
/// with a message naming the limit, not an arithmetic overflow (tests build with overflow
/// checks on).
#[test]
fn the_largest_capacities_panic_naming_the_limit_not_overflowing() {
    for capacity in [usize::MAX, usize::MAX / 2 + 1, (1 << 31) + 1] {
        let payload =
            std::panic::catch_unwind(move || drop(event_channel(capacity))).expect_err("too large");
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        assert!(
            message.contains("a notify queue holds at most"),
            "{message}"
        );
        assert!(!message.contains("overflow"), "{message}");
    }
}

/// flume #120's class, async: a token notified just before the last sender drops is delivered
/// before `RecvError`, for a receive awaiting in `tokio::spawn` on a multi-thread runtime.
#[test]
fn a_notify_just_before_the_last_drop_is_delivered_before_the_end_async() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        for round in 0..1_000 {
            let (sender, mut receiver) = event_channel(2);
            let consumer = tokio::spawn(async move {
                let mut events = Events::with_capacity(2);
                let mut got = Vec::new();
                while receiver.recv_async(&mut events, 2).await.is_ok() {
                    got.extend(indices(&events));
                }
                got
            });
            let racer = thread::spawn(move || sender.notify(Token::new(round % 2)).unwrap());
            let got = tokio::time::timeout(Duration::from_secs(10), consumer)
                .await
                .expect("the receive ended")
                .unwrap();
            racer.join().unwrap();
            assert_eq!(got, [round % 2], "round {round}");
        }
    });
}

/// tokio #4618's class: a receive future woken by a notify and dropped before it was polled
/// again loses nothing: the next receive gets the token. Deterministic, with a counting waker.
#[test]
fn a_woken_then_cancelled_receive_loses_nothing() {
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Wake, Waker};

    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let counter = Arc::new(CountWakes(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&counter));
    let (sender, mut receiver) = event_channel(4);
    let mut events = Events::with_capacity(4);
    {
        let mut pending = std::pin::pin!(receiver.recv_async(&mut events, 4));
        let mut cx = Context::from_waker(&waker);
        assert!(pending.as_mut().poll(&mut cx).is_pending());
        sender.notify(Token::new(3)).unwrap();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1, "the notify woke it");
    } // dropped without being polled again
    receiver.try_recv(&mut events).unwrap();
    assert_eq!(indices(&events), [3]);
}
