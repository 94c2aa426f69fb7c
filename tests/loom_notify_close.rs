//! loom models of the notify channel's lifecycle: `Receiver::close` racing notifies, and
//! `Sender::closed()` racing the close or the drop (see `src/notify/event_channel.rs`). Run
//! with `bash scripts/loom.sh loom_notify_close`.
#![cfg(loom)]

mod loom_common;

use conflux::notify::{event_channel, Events, NotifyError, Token};
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    loom_common::model_with_bound(3, f);
}

fn indices(events: &Events) -> Vec<usize> {
    events.iter().map(Token::index).collect()
}

/// `close` racing two notifies of different tokens: every notify answered `Ok` is delivered
/// before disconnection is reported, nothing is delivered twice, nothing beyond the end (a
/// token whose claim came after the close) is delivered, and the receive always ends (loom
/// reports a deadlock if a receive sleeps below the end). Fails if a notify's claim does not
/// see the flag raised before the close's tail-word RMW (a notify answered `Ok` beyond the
/// end, never delivered).
#[test]
fn close_racing_notifies_delivers_every_accepted_token_then_ends() {
    model(|| {
        let (sender, mut receiver) = event_channel(2);
        let notifier = thread::spawn(move || {
            let first = sender.notify(Token::new(0));
            let second = sender.notify(Token::new(1));
            (sender, [first, second])
        });
        receiver.close();
        let mut events = Events::with_capacity(2);
        let mut delivered = Vec::new();
        while receiver.recv(&mut events).is_ok() {
            delivered.extend(indices(&events));
        }
        let (sender, answers) = notifier.join().unwrap();
        for (index, answer) in answers.iter().enumerate() {
            match answer {
                Ok(()) => assert!(delivered.contains(&index), "{index} accepted, lost"),
                Err(NotifyError::Closed { .. }) => {}
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        let mut sorted = delivered.clone();
        sorted.dedup();
        assert_eq!(sorted, delivered, "nothing twice");
        assert!(sender.is_closed());
        assert_eq!(
            sender.notify(Token::new(0)),
            Err(NotifyError::Closed {
                token: Token::new(0)
            })
        );
    });
}

/// The async receive after `close` racing a notify: the awaiting task is never stranded
/// below the end and ends with disconnection.
#[test]
fn an_async_receive_after_close_racing_a_notify_ends() {
    model(|| {
        let (sender, mut receiver) = event_channel(1);
        let notifier = thread::spawn(move || sender.notify(Token::new(0)).is_ok());
        receiver.close();
        let mut events = Events::with_capacity(1);
        let mut delivered = 0;
        while loom::future::block_on(receiver.recv_async(&mut events, 1)).is_ok() {
            delivered += events.len();
        }
        let accepted = notifier.join().unwrap();
        assert!(delivered >= usize::from(accepted));
        assert!(delivered <= 1);
    });
}

/// `Sender::closed().await` registered while the receiver closes is always woken, and the
/// woken sender's notify is refused.
#[test]
fn closed_is_woken_by_a_racing_close() {
    model(|| {
        let (sender, mut receiver) = event_channel(1);
        let watcher = thread::spawn(move || {
            loom::future::block_on(sender.closed());
            assert!(sender.is_closed());
            assert!(sender.notify(Token::new(0)).is_err());
        });
        receiver.close();
        watcher.join().unwrap();
    });
}

/// The same for the receiver's drop: the woken sender finds the channel closed.
#[test]
fn closed_is_woken_by_a_racing_drop() {
    model(|| {
        let (sender, receiver) = event_channel(1);
        let watcher = thread::spawn(move || {
            loom::future::block_on(sender.closed());
            assert!(sender.is_closed());
            assert!(sender.notify(Token::new(0)).is_err());
        });
        drop(receiver);
        watcher.join().unwrap();
    });
}
