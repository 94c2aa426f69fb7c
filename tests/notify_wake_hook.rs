//! The event-loop wake hook (`event_queue_with_waker` + `Poller::arm`): behaviour, and a stress
//! test with real threads and a loop that sleeps on a condition variable.
#![cfg(not(loom))]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use conflux::notify::{event_queue, event_queue_with_waker, Events, Notifier, Poller, Token};

/// What the loop sleeps on, standing in for `epoll_wait` + an eventfd.
#[derive(Default)]
struct Bell {
    rung: Mutex<bool>,
    signal: Condvar,
    wakes: AtomicUsize,
}

impl Bell {
    fn ring(&self) {
        self.wakes.fetch_add(1, Ordering::Relaxed);
        *self.rung.lock().unwrap() = true;
        self.signal.notify_one();
    }

    /// Sleeps until rung; `false` if `limit` passed first.
    fn sleep(&self, limit: Duration) -> bool {
        let rung = self.rung.lock().unwrap();
        let (mut rung, timeout) = self
            .signal
            .wait_timeout_while(rung, limit, |rung| !*rung)
            .unwrap();
        *rung = false;
        !timeout.timed_out()
    }

    fn wakes(&self) -> usize {
        self.wakes.load(Ordering::Relaxed)
    }
}

fn hooked(capacity: usize) -> (Notifier, Poller, Arc<Bell>) {
    let bell = Arc::new(Bell::default());
    let ringer = Arc::clone(&bell);
    let (notifier, poller) = event_queue_with_waker(capacity, move || ringer.ring());
    (notifier, poller, bell)
}

#[test]
fn arm_is_false_while_tokens_are_pending_and_true_once_polled() {
    let (notifier, poller, bell) = hooked(4);
    let mut events = Events::with_capacity(4);
    assert!(poller.arm());
    assert!(
        poller.arm(),
        "arming again while armed is true and changes nothing"
    );
    notifier.notify(Token::new(2)).unwrap();
    assert_eq!(bell.wakes(), 1);
    notifier.notify(Token::new(2)).unwrap(); // conflated
    notifier.notify(Token::new(3)).unwrap(); // new, but the arm was used
    assert_eq!(bell.wakes(), 1);
    assert!(!poller.arm(), "2 and 3 are pending");
    poller.poll_limit(&mut events, 1);
    assert!(!poller.arm(), "3 is still pending");
    poller.poll(&mut events);
    assert_eq!(events.as_slice(), &[Token::new(3)]);
    assert!(poller.arm());
    notifier.notify(Token::new(0)).unwrap();
    assert_eq!(bell.wakes(), 2);
}

#[test]
fn busy_loop_notifies_never_call_the_hook() {
    let (notifier, poller, bell) = hooked(64);
    let mut events = Events::with_capacity(64);
    for round in 0..1000 {
        notifier.notify(Token::new(round % 64)).unwrap();
        poller.poll(&mut events);
    }
    assert_eq!(bell.wakes(), 0);
}

#[test]
fn a_false_arm_leaves_nothing_that_wakes_later() {
    let (notifier, poller, bell) = hooked(4);
    notifier.notify(Token::new(0)).unwrap();
    assert!(!poller.arm());
    notifier.notify(Token::new(1)).unwrap();
    assert_eq!(bell.wakes(), 0);
}

#[test]
fn the_last_notifiers_drop_wakes_an_armed_loop_once() {
    let (notifier, poller, bell) = hooked(4);
    let second = notifier.clone();
    assert!(poller.arm());
    drop(notifier);
    assert_eq!(bell.wakes(), 0, "another notifier is alive");
    drop(second);
    assert_eq!(bell.wakes(), 1);
    assert!(poller.is_disconnected());
    assert!(poller.arm(), "nothing pending; no notify will come");
}

#[test]
fn arm_without_a_hook_only_reports_pending_tokens() {
    let (notifier, poller) = event_queue(2);
    assert!(poller.arm());
    notifier.notify(Token::new(1)).unwrap(); // armed, no hook: nothing to call
    assert!(!poller.arm());
    let mut events = Events::with_capacity(2);
    poller.poll(&mut events);
    assert_eq!(events.as_slice(), &[Token::new(1)]);
    assert!(poller.arm());
}

#[test]
fn a_panicking_hook_unwinds_out_of_notify_and_keeps_the_token() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let (notifier, poller) = event_queue_with_waker(4, move || {
        counter.fetch_add(1, Ordering::Relaxed);
        panic!("the wake hook failed");
    });
    assert!(poller.arm());
    let result = catch_unwind(AssertUnwindSafe(|| notifier.notify(Token::new(1))));
    assert!(
        result.is_err(),
        "the hook's panic reaches the notifying caller"
    );
    assert_eq!(calls.load(Ordering::Relaxed), 1);
    // The token was published before the hook ran: pending, delivered, and the queue works.
    assert!(!poller.arm());
    notifier.notify(Token::new(2)).unwrap(); // not armed: no call, no panic
    let mut events = Events::with_capacity(4);
    poller.poll(&mut events);
    assert_eq!(events.as_slice(), &[Token::new(1), Token::new(2)]);
    assert!(poller.arm());
    assert!(catch_unwind(AssertUnwindSafe(|| notifier.notify(Token::new(3)))).is_err());
    assert_eq!(calls.load(Ordering::Relaxed), 2);
}

/// Producers write increasing values into their own tokens' slots and notify; the loop polls,
/// arms and sleeps on a condition variable. Every final value is seen, no token appears twice
/// in one poll, no slot is seen going backwards, the loop never sleeps through a notify (a
/// sleep that lasts 10 s with work outstanding fails the test), and wakes <= successful arms.
#[test]
fn stress_a_sleeping_loop_sees_every_final_value_and_wakes_at_most_once_per_arm() {
    const PRODUCERS: usize = 3;
    const TOKENS_EACH: usize = 16;
    const ROUNDS: u64 = 20_000;
    const TOKENS: usize = PRODUCERS * TOKENS_EACH;

    let slots: Arc<Vec<AtomicU64>> = Arc::new((0..TOKENS).map(|_| AtomicU64::new(0)).collect());
    let (notifier, poller, bell) = hooked(TOKENS);
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (notifier, slots) = (notifier.clone(), Arc::clone(&slots));
            thread::spawn(move || {
                for value in 1..=ROUNDS {
                    let token = p * TOKENS_EACH + (value as usize % TOKENS_EACH);
                    // The last round writes every token's final value.
                    let tokens = if value == ROUNDS {
                        (p * TOKENS_EACH..(p + 1) * TOKENS_EACH).collect()
                    } else {
                        vec![token]
                    };
                    for token in tokens {
                        slots[token].store(value, Ordering::Relaxed);
                        notifier.notify(Token::new(token)).unwrap();
                    }
                    if value % 512 == 0 {
                        // Give the loop time to fall asleep, so the arm/wake path runs often.
                        thread::sleep(Duration::from_micros(50));
                    }
                }
            })
        })
        .collect();
    drop(notifier);

    let mut events = Events::with_capacity(TOKENS);
    let mut last = vec![0u64; TOKENS];
    let mut arms = 0usize;
    let mut in_poll = [false; TOKENS];
    while last.iter().any(|&v| v != ROUNDS) {
        poller.poll(&mut events);
        for token in &events {
            let i = token.index();
            assert!(!in_poll[i], "token {i} twice in one poll");
            in_poll[i] = true;
            let value = slots[i].load(Ordering::Relaxed);
            assert!(value >= last[i], "slot {i} went backwards");
            last[i] = value;
        }
        for token in &events {
            in_poll[token.index()] = false;
        }
        if events.is_empty() {
            if poller.arm() {
                arms += 1;
                assert!(
                    bell.sleep(Duration::from_secs(10)),
                    "the loop slept 10 s through outstanding work: {:?}",
                    last.iter().filter(|&&v| v != ROUNDS).count()
                );
            } else {
                std::hint::spin_loop();
            }
        }
    }
    for producer in producers {
        producer.join().unwrap();
    }
    assert!(
        bell.wakes() <= arms,
        "{} wakes for {arms} arms",
        bell.wakes()
    );
    assert!(
        arms > 0,
        "the loop never slept: the test did not exercise the hook"
    );
    eprintln!("{arms} arms, {} wakes", bell.wakes());
}

#[test]
fn notify_many_wakes_an_armed_loop_once() {
    let (notifier, poller, bell) = hooked(256);
    assert!(poller.arm());
    let tokens: Vec<Token> = (0..200).map(Token::new).collect();
    notifier.notify_many(&tokens).unwrap();
    assert_eq!(bell.wakes(), 1, "one arm, one wake, however many claims");
    let mut events = Events::with_capacity(256);
    poller.poll(&mut events);
    assert_eq!(events.len(), 200);
}
