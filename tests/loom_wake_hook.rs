//! loom models of the event-loop wake hook (`event_queue_with_waker` + `Poller::arm`, see
//! `src/core/wake_hook.rs`). Run with `bash scripts/loom.sh loom_wake_hook`.
//!
//! The loop in every model is the one an epoll loop runs: poll; if nothing came, `arm()`; if
//! that says `true`, sleep (here on a condition variable the hook rings); if `false`,
//! poll again. A loop that sleeps through a notify parks for good, which loom reports as a
//! deadlock; every model also checks that `wake` ran at most once per `arm() == true`.
#![cfg(loom)]

mod loom_common;

use conflux::notify::{event_queue_with_waker, Events, Notifier, Poller, Token};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

/// What the loop sleeps on: a flag the hook sets, and a condition variable it signals.
/// (Not `thread::park`: a wake-up left pending when the loop exits confuses loom's `join`.)
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

    fn sleep(&self) {
        let mut rung = self.rung.lock().unwrap();
        while !*rung {
            rung = self.signal.wait(rung).unwrap();
        }
        *rung = false;
    }

    fn wakes(&self) -> usize {
        self.wakes.load(Ordering::Relaxed)
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    loom_common::model_with_bound(3, f);
}

/// A queue whose hook rings (and counts) the loop's bell.
fn hooked(capacity: usize) -> (Notifier, Poller, Arc<Bell>) {
    let bell = Arc::new(Bell::default());
    let ringer = Arc::clone(&bell);
    let (notifier, poller) = event_queue_with_waker(capacity, move || ringer.ring());
    (notifier, poller, bell)
}

/// The event loop: runs until `done(seen)`; returns how many times `arm` said `true`.
fn run_loop(
    poller: &Poller,
    bell: &Bell,
    seen: &mut Vec<usize>,
    done: impl Fn(&[usize]) -> bool,
) -> usize {
    let mut events = Events::with_capacity(poller.capacity());
    let mut arms = 0;
    while !done(seen) {
        poller.poll(&mut events);
        if !events.is_empty() {
            seen.extend(events.iter().map(Token::index));
            continue;
        }
        if poller.arm() {
            arms += 1;
            bell.sleep();
        } else {
            // A producer is between claiming and publishing: let it finish.
            thread::yield_now();
        }
    }
    arms
}

fn contains_all(needed: &'static [usize]) -> impl Fn(&[usize]) -> bool {
    move |seen| needed.iter().all(|t| seen.contains(t))
}

/// One notify racing the loop's poll / arm / sleep: the loop always wakes with the token,
/// and the hook ran at most once for the one arm.
#[test]
fn arm_racing_notify_never_sleeps_through_it() {
    model(|| {
        let (notifier, poller, bell) = hooked(2);
        let producer = thread::spawn(move || notifier.notify(Token::new(1)).unwrap());
        let mut seen = Vec::new();
        let arms = run_loop(&poller, &bell, &mut seen, contains_all(&[1]));
        producer.join().unwrap();
        assert_eq!(seen, [1]);
        assert!(bell.wakes() <= arms);
    });
}

/// A notify conflated into a pending token leaves the token pending: `arm` says `false`
/// while it is, whatever the race; later notifies are still never slept through.
#[test]
fn arm_after_a_conflated_notify_reports_pending() {
    model(|| {
        let (notifier, poller, bell) = hooked(2);
        notifier.notify(Token::new(0)).unwrap();
        let producer = thread::spawn(move || {
            notifier.notify(Token::new(0)).unwrap(); // conflated: 0 is pending
            notifier.notify(Token::new(1)).unwrap();
        });
        // Token 0 is pending (nothing was polled): arming must refuse, also while the
        // conflated notify and the claim of token 1 race it.
        assert!(!poller.arm());
        let mut seen = Vec::new();
        let arms = run_loop(&poller, &bell, &mut seen, contains_all(&[0, 1]));
        producer.join().unwrap();
        assert!(bell.wakes() <= arms);
        // Nothing was lost or doubled: at most one more 0 (the conflated notify may have
        // re-armed token 0 after the loop delivered it).
        let mut events = Events::with_capacity(2);
        poller.poll(&mut events);
        seen.extend(events.iter().map(Token::index));
        assert_eq!(seen.iter().filter(|&&t| t == 1).count(), 1);
        assert!((1..=2).contains(&seen.iter().filter(|&&t| t == 0).count()));
    });
}

/// Two producers race each other and the arm: exactly one of them (at most) calls `wake`
/// per arm, and the loop gets both tokens.
#[test]
fn two_producers_wake_at_most_once_per_arm() {
    model(|| {
        let (notifier, poller, bell) = hooked(2);
        let producers: Vec<_> = (0..2)
            .map(|token| {
                let notifier = notifier.clone();
                thread::spawn(move || notifier.notify(Token::new(token)).unwrap())
            })
            .collect();
        drop(notifier);
        let mut seen = Vec::new();
        let arms = run_loop(&poller, &bell, &mut seen, contains_all(&[0, 1]));
        for producer in producers {
            producer.join().unwrap();
        }
        seen.sort_unstable();
        assert_eq!(seen, [0, 1]);
        assert!(bell.wakes() <= arms);
    });
}

/// Arm, sleep, wake, poll, arm again: each cycle gets its own wake, none is slept through,
/// and a wake never fires for an arm that was already used.
#[test]
fn rearm_cycles_wake_once_per_arm() {
    model(|| {
        let (notifier, poller, bell) = hooked(3);
        let producer = thread::spawn(move || {
            for token in 0..3 {
                notifier.notify(Token::new(token)).unwrap();
            }
        });
        let mut seen = Vec::new();
        let arms = run_loop(&poller, &bell, &mut seen, contains_all(&[0, 1, 2]));
        producer.join().unwrap();
        assert_eq!(seen, [0, 1, 2]);
        assert!(bell.wakes() <= arms);
    });
}

/// The last notifier's drop wakes an armed loop, which then sees the disconnection (checked
/// after a `true` arm, before sleeping).
#[test]
fn last_notifier_drop_wakes_an_armed_loop() {
    model(|| {
        let (notifier, poller, bell) = hooked(1);
        let producer = thread::spawn(move || drop(notifier));
        let mut events = Events::with_capacity(1);
        let mut arms = 0;
        loop {
            poller.poll(&mut events);
            assert!(events.is_empty());
            if poller.arm() {
                arms += 1;
                if poller.is_disconnected() {
                    break;
                }
                bell.sleep();
            } else {
                thread::yield_now();
            }
        }
        producer.join().unwrap();
        assert!(bell.wakes() <= arms);
    });
}

/// A batch (`notify_many`) racing the arm: one claim for the run, at most one wake, and the
/// loop never sleeps through it.
#[test]
fn notify_many_racing_arm_wakes_at_most_once() {
    model(|| {
        let (notifier, poller, bell) = hooked(2);
        let producer = thread::spawn(move || {
            notifier
                .notify_many(&[Token::new(1), Token::new(0)])
                .unwrap()
        });
        let mut seen = Vec::new();
        let arms = run_loop(&poller, &bell, &mut seen, contains_all(&[0, 1]));
        producer.join().unwrap();
        assert_eq!(seen, [1, 0]);
        assert!(bell.wakes() <= arms);
    });
}
