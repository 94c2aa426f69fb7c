//! Behaviour of `event_queue` and `LocalNotify`, one property per test.
#![cfg(not(loom))]

use conflux::notify::{event_queue, Events, LocalNotify, NotifyError, Token};

fn indices(events: &Events) -> Vec<usize> {
    events.iter().map(Token::index).collect()
}

#[test]
#[should_panic(expected = "capacity of a notify queue must be non-zero")]
fn zero_capacity_panics_with_a_message() {
    let _ = event_queue(0);
}

#[test]
#[should_panic(expected = "at most 2147483648 tokens")]
#[cfg(target_pointer_width = "64")]
fn unrepresentable_capacity_panics_naming_the_limit() {
    let _ = event_queue(usize::MAX);
}

/// On 32-bit targets the limit is 2^27 (the ring's bytes, 8 per slot, must stay below
/// `isize::MAX`); one more failed inside the allocator ("capacity overflow") instead.
#[test]
#[should_panic(
    expected = "a notify queue holds at most 134217728 tokens, 134217729 were asked for"
)]
#[cfg(target_pointer_width = "32")]
fn unrepresentable_capacity_panics_naming_the_limit() {
    let _ = event_queue((1 << 27) + 1);
}

/// Tokens a partial drain left are no longer pending; the next poll must carry
/// them over (in front, counted in the limit) instead of clearing them for good.
#[test]
fn a_partial_drain_is_carried_over_by_the_next_poll() {
    let (notifier, poller) = event_queue(16);
    let mut events = Events::with_capacity(4);
    for index in 0..4 {
        notifier.notify(Token::new(index)).unwrap();
    }
    poller.poll(&mut events);
    let handled: Vec<usize> = events.drain().take(1).map(Token::index).collect();
    assert_eq!(handled, [0]);
    for index in 8..12 {
        notifier.notify(Token::new(index)).unwrap();
    }
    // Budget 4: the three carried tokens first, then one new; the rest stays pending.
    poller.poll_limit(&mut events, 4);
    assert_eq!(indices(&events), [1, 2, 3, 8]);
    assert!(events.capacity() >= 4);
    // Read without draining: the next poll replaces the buffer (mio's convention).
    poller.poll(&mut events);
    assert_eq!(indices(&events), [9, 10, 11]);
    // A budget of 0 delivers nothing new, and drops nothing carried.
    drop(events.drain());
    poller.poll_limit(&mut events, 0);
    assert_eq!(indices(&events), [9, 10, 11]);
    // Every token was delivered exactly once, and all are re-armable.
    events.drain().for_each(drop);
    for index in [1, 9] {
        notifier.notify(Token::new(index)).unwrap();
    }
    poller.poll(&mut events);
    assert_eq!(indices(&events), [1, 9]);
}

#[test]
fn local_notify_carries_a_partial_drain_over_too() {
    let mut dirty = LocalNotify::with_capacity(8);
    let mut events = Events::with_capacity(8);
    for index in [5, 6, 7] {
        dirty.mark(Token::new(index)).unwrap();
    }
    dirty.poll(&mut events);
    assert_eq!(events.drain().next(), Some(Token::new(5)));
    dirty.mark(Token::new(1)).unwrap();
    dirty.poll(&mut events);
    assert_eq!(indices(&events), [6, 7, 1]);
}

#[test]
fn a_token_notified_many_times_between_polls_is_delivered_once() {
    let (notifier, poller) = event_queue(8);
    let mut events = Events::with_capacity(8);
    for _ in 0..100 {
        notifier.notify(Token::new(3)).unwrap();
    }
    poller.poll(&mut events);
    assert_eq!(indices(&events), [3]);
    poller.poll(&mut events);
    assert!(events.is_empty());
}

#[test]
fn tokens_are_delivered_in_the_order_they_became_pending() {
    let (notifier, poller) = event_queue(16);
    let mut events = Events::with_capacity(16);
    for index in [5, 1, 9, 1, 5, 0] {
        notifier.notify(Token::new(index)).unwrap();
    }
    poller.poll(&mut events);
    assert_eq!(indices(&events), [5, 1, 9, 0]);
}

#[test]
fn a_delivered_token_is_rearmed_by_the_next_notify() {
    let (notifier, poller) = event_queue(4);
    let mut events = Events::with_capacity(4);
    notifier.notify(Token::new(2)).unwrap();
    poller.poll(&mut events);
    notifier.notify(Token::new(1)).unwrap();
    notifier.notify(Token::new(2)).unwrap();
    poller.poll(&mut events);
    assert_eq!(indices(&events), [1, 2]);
}

#[test]
fn poll_limit_delivers_the_oldest_and_keeps_the_rest_in_order() {
    let (notifier, poller) = event_queue(64);
    let mut events = Events::with_capacity(64);
    for index in 0..10 {
        notifier.notify(Token::new(index)).unwrap();
    }
    poller.poll_limit(&mut events, 4);
    assert_eq!(indices(&events), [0, 1, 2, 3]);
    // A token still pending conflates; one already delivered re-arms behind the rest.
    notifier.notify(Token::new(5)).unwrap();
    notifier.notify(Token::new(0)).unwrap();
    poller.poll_limit(&mut events, 3);
    assert_eq!(indices(&events), [4, 5, 6]);
    poller.poll(&mut events);
    assert_eq!(indices(&events), [7, 8, 9, 0]);
}

#[test]
fn poll_limit_zero_delivers_nothing_and_clears_the_buffer() {
    let (notifier, poller) = event_queue(4);
    let mut events = Events::with_capacity(4);
    notifier.notify(Token::new(1)).unwrap();
    poller.poll(&mut events);
    notifier.notify(Token::new(2)).unwrap();
    poller.poll_limit(&mut events, 0);
    assert!(events.is_empty());
    poller.poll(&mut events);
    assert_eq!(indices(&events), [2]);
}

#[test]
fn polling_clears_the_buffer_before_filling_it_and_never_grows_a_big_enough_one() {
    let (notifier, poller) = event_queue(32);
    let mut events = Events::with_capacity(32);
    let capacity = events.capacity();
    for round in 0..3 {
        for index in 0..32 {
            notifier.notify(Token::new((index + round) % 32)).unwrap();
        }
        poller.poll(&mut events);
        assert_eq!(events.len(), 32);
        assert_eq!(events.capacity(), capacity);
    }
}

#[test]
fn out_of_range_notify_is_an_error_that_changes_nothing() {
    let (notifier, poller) = event_queue(4);
    let err = notifier.notify(Token::new(4)).unwrap_err();
    assert_eq!(
        err,
        NotifyError::OutOfRange {
            token: Token::new(4),
            capacity: 4
        }
    );
    assert!(notifier.notify(Token::new(usize::MAX)).is_err());
    let mut events = Events::with_capacity(4);
    poller.poll(&mut events);
    assert!(events.is_empty());
}

#[test]
fn notify_after_the_poller_is_dropped_is_closed() {
    let (notifier, poller) = event_queue(4);
    assert!(!notifier.is_closed());
    drop(poller);
    assert!(notifier.is_closed());
    assert_eq!(
        notifier.notify(Token::new(1)),
        Err(NotifyError::Closed {
            token: Token::new(1)
        })
    );
    // Range is still checked first: bad input is reported as such.
    assert!(matches!(
        notifier.notify(Token::new(9)),
        Err(NotifyError::OutOfRange { .. })
    ));
}

#[test]
fn the_poller_sees_disconnection_only_when_every_notifier_is_gone() {
    let (notifier, poller) = event_queue(4);
    let clone = notifier.clone();
    drop(notifier);
    assert!(!poller.is_disconnected());
    clone.notify(Token::new(3)).unwrap();
    drop(clone);
    assert!(poller.is_disconnected());
    let mut events = Events::with_capacity(4);
    poller.poll(&mut events);
    assert_eq!(indices(&events), [3]);
}

#[test]
fn capacity_is_reported_by_both_ends() {
    let (notifier, poller) = event_queue(1000);
    assert_eq!(notifier.capacity(), 1000);
    assert_eq!(poller.capacity(), 1000);
    notifier.notify(Token::new(999)).unwrap();
}

#[test]
fn handles_are_send_and_sync_as_documented() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<conflux::notify::Notifier>();
    send::<conflux::notify::Poller>();
    send_sync::<conflux::notify::Sender>();
    send::<conflux::notify::Receiver>();
    send_sync::<NotifyError>();
}

#[test]
fn debug_output_names_the_state() {
    let (notifier, poller) = event_queue(3);
    assert_eq!(
        format!("{notifier:?}"),
        "Notifier { capacity: 3, closed: false }"
    );
    assert_eq!(
        format!("{poller:?}"),
        "Poller { capacity: 3, disconnected: false }"
    );
}

#[test]
fn local_notify_follows_the_same_rules() {
    let mut local = LocalNotify::with_capacity(8);
    let mut events = Events::with_capacity(8);
    for index in [4, 2, 4, 7] {
        local.mark(Token::new(index)).unwrap();
    }
    assert_eq!(local.len(), 3);
    local.poll_limit(&mut events, 2);
    assert_eq!(indices(&events), [4, 2]);
    local.mark(Token::new(4)).unwrap();
    local.poll(&mut events);
    assert_eq!(indices(&events), [7, 4]);
    assert!(local.is_empty());
    assert!(matches!(
        local.mark(Token::new(8)),
        Err(NotifyError::OutOfRange { capacity: 8, .. })
    ));
}

#[test]
fn notify_many_keeps_order_conflates_and_matches_single_notifies() {
    // More than one claim's worth (64) of new tokens, some already pending, some repeated.
    let (notifier, poller) = event_queue(300);
    let (single, single_poller) = event_queue(300);
    let mut events = Events::with_capacity(300);
    notifier.notify(Token::new(7)).unwrap();
    single.notify(Token::new(7)).unwrap();
    let batch: Vec<Token> = (0..200)
        .map(|i| Token::new((i * 37) % 150))
        .chain([7, 0, 299].map(Token::new))
        .collect();
    notifier.notify_many(&batch).unwrap();
    for &token in &batch {
        single.notify(token).unwrap();
    }
    poller.poll(&mut events);
    let got = indices(&events);
    single_poller.poll(&mut events);
    assert_eq!(got, indices(&events));
    assert_eq!(got[0], 7);
    assert_eq!(got.len(), 151); // 7, the other 149 of 0..150, then 299
}

#[test]
fn notify_many_wraps_the_ring_many_times() {
    let (notifier, poller) = event_queue(3);
    let mut events = Events::with_capacity(3);
    for round in 0..100usize {
        let order = [round % 3, (round + 2) % 3, (round + 1) % 3].map(Token::new);
        notifier.notify_many(&order).unwrap();
        poller.poll_limit(&mut events, 1 + round % 3);
        let mut seen = indices(&events);
        poller.poll(&mut events);
        seen.extend(indices(&events));
        assert_eq!(seen, order.map(Token::index));
    }
}

#[test]
fn notify_many_stops_at_the_first_bad_token_and_keeps_the_ones_before() {
    let (notifier, poller) = event_queue(4);
    let mut events = Events::with_capacity(4);
    let result = notifier.notify_many(&[2, 4, 1].map(Token::new));
    assert_eq!(
        result,
        Err(NotifyError::OutOfRange {
            token: Token::new(4),
            capacity: 4
        })
    );
    poller.poll(&mut events);
    assert_eq!(indices(&events), [2]);
    assert_eq!(notifier.notify_many(&[]), Ok(()));
    drop(poller);
    assert_eq!(
        notifier.notify_many(&[3, 0].map(Token::new)),
        Err(NotifyError::Closed {
            token: Token::new(3)
        })
    );
}
