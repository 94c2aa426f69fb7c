//! The bounded lock-free multi-producer single-consumer queue behind the mailbox's `ready`.
//!
//! ```text
//!   producers                                   the one consumer
//!   ─────────                                   ────────────────
//!   read tail word; slot = slots[tail.index]    slot = slots[head.index]
//!   slot.stamp == tail?  (free this lap)        slot.stamp == head + 1?  (written)
//!     CAS tail word -> next position              take the value
//!     write the value                             slot.stamp = head + one_lap  (free next lap)
//!     slot.stamp = tail + 1          ─────────▶   head = next position
//!     wake the consumer if SLEEPING
//!   slot.stamp == tail + 1 - one_lap? -> Full
//!   CLOSED in the tail word?          -> Closed
//! ```
//!
//! Each slot has a **stamp** (Vyukov's bounded queue, in crossbeam's lap encoding so the
//! capacity is exact and no division is needed): a position is `lap + index`, with laps counted
//! in steps of `one_lap`, the next power of two above the capacity. A producer may write a
//! slot whose stamp equals its position; the consumer may read one whose stamp is its position
//! plus one. Producers claim positions by CAS on the **tail word**, which also carries the wait
//! core's bits (see `waiter.rs`): the receiver's sleep announcement, disconnection, and CLOSED,
//! set by the consumer when it leaves so no producer claims a position it will never drain.
//! The consumer's position is its own (no atomic): it never CASes, and producers learn that a
//! slot is free from the slot's stamp alone.
//!
//! Positions wrap after 2<sup>61</sup> claims (73 years at one per nanosecond); the queue does
//! not handle that wrap.

use std::cell::Cell;
use std::mem::MaybeUninit;

use crossbeam_utils::{Backoff, CachePadded};

use super::waiter::{position_of, Waiter, CLOSED, POSITION_SHIFT};
use crate::sync::{cell::UnsafeCell, AtomicUsize, Ordering};

struct Slot<T> {
    /// The position this slot expects next: `position` when free for it, `position + 1` when
    /// written at it.
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// Why a push did not take the value (it is handed back).
pub(crate) enum PushError<T> {
    /// Every slot holds an unread value.
    Full(T),
    /// The consumer is gone.
    Closed(T),
}

/// The largest `ready` capacity: positions (lap + index, with laps a power of two above the
/// capacity) must leave room in the tail word's position bits for many laps.
pub(crate) const MAX_CAPACITY: usize = 1 << (usize::BITS - POSITION_SHIFT - 2);

pub(crate) struct ReadyQueue<T> {
    slots: Box<[Slot<T>]>,
    one_lap: usize,
    /// Claimed positions above `POSITION_SHIFT`, plus the waiter's flag bits.
    tail: CachePadded<AtomicUsize>,
}

// SAFETY: values move between threads through the queue (hence `T: Send`); every slot access
// is guarded by the stamp protocol, so `&ReadyQueue` can be shared.
unsafe impl<T: Send> Sync for ReadyQueue<T> {}
// SAFETY: the queue owns its values; moving it moves them, which `T: Send` allows.
unsafe impl<T: Send> Send for ReadyQueue<T> {}

/// The consumer's end: its position. Only the owner of this value may pop (it is `!Sync`).
pub(crate) struct ReadyHead {
    position: Cell<usize>,
}

impl<T> ReadyQueue<T> {
    pub(crate) fn new(capacity: usize) -> (ReadyQueue<T>, ReadyHead) {
        assert!(capacity > 0);
        assert!(
            capacity <= MAX_CAPACITY,
            "a mailbox holds at most {MAX_CAPACITY} messages in ready, {capacity} were asked for"
        );
        let one_lap = (capacity + 1).next_power_of_two();
        let slots = (0..capacity)
            .map(|index| Slot {
                stamp: AtomicUsize::new(index),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        let queue = ReadyQueue {
            slots,
            one_lap,
            tail: CachePadded::new(AtomicUsize::new(0)),
        };
        (
            queue,
            ReadyHead {
                position: Cell::new(0),
            },
        )
    }

    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The word producers claim positions on; the wait core keeps its bits in it.
    pub(crate) fn tail(&self) -> &AtomicUsize {
        &self.tail
    }

    /// The position after `position`.
    #[inline]
    fn next(&self, position: usize) -> usize {
        let index = position & (self.one_lap - 1);
        if index + 1 < self.slots.len() {
            position + 1
        } else {
            (position & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    /// Appends `value` unless the queue is full or closed; wakes an announced consumer.
    #[inline]
    pub(crate) fn push(&self, value: T, waiter: &Waiter) -> Result<(), PushError<T>> {
        let backoff = Backoff::new();
        // Relaxed: a stale word only fails the CAS below.
        let mut word = self.tail.load(Ordering::Relaxed);
        loop {
            if word & CLOSED != 0 {
                return Err(PushError::Closed(value));
            }
            let position = position_of(word);
            let slot = &self.slots[position & (self.one_lap - 1)];
            // Acquire: pairs with the consumer's Release of this stamp, so its read of the
            // previous lap's value happened before we overwrite the slot.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == position {
                let claimed = (self.next(position) << POSITION_SHIFT)
                    | (word & !(usize::MAX << POSITION_SHIFT));
                // AcqRel on success: Acquire receives a SLEEPING announcement's registration;
                // Release keeps the tail word a release sequence. Relaxed on failure: retry.
                match self.tail.compare_exchange_weak(
                    word,
                    claimed,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the CAS made this producer the only owner of `position`, and
                        // the stamp says the slot's previous value was taken: nobody else
                        // touches the slot until the stamp below is published.
                        slot.value.with_mut(|cell| unsafe { (*cell).write(value) });
                        // Release: the consumer's Acquire of the stamp sees the value.
                        slot.stamp
                            .store(position.wrapping_add(1), Ordering::Release);
                        waiter.wake_if_announced(&self.tail, word);
                        return Ok(());
                    }
                    Err(current) => {
                        word = current;
                        backoff.spin();
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == position.wrapping_add(1) {
                // The slot still holds the value written one lap ago: full.
                return Err(PushError::Full(value));
            } else {
                // Another producer claimed this position and has not published yet, or our
                // view of the tail is stale: look again.
                crate::sync::retry_hint();
                // Relaxed: as above, a stale word only fails the CAS.
                word = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Takes the oldest value, if it has been published. Only the consumer calls this.
    #[inline]
    pub(crate) fn pop(&self, head: &ReadyHead) -> Option<T> {
        let position = head.position.get();
        let slot = &self.slots[position & (self.one_lap - 1)];
        // Acquire: pairs with the producer's Release of the stamp, so the value is visible.
        if slot.stamp.load(Ordering::Acquire) != position.wrapping_add(1) {
            return None;
        }
        // SAFETY: the stamp says a producer wrote this slot at `position` and nobody read it:
        // only the consumer (the owner of `head`) reads, and it advances past it below.
        let value = slot
            .value
            .with_mut(|cell| unsafe { (*cell).assume_init_read() });
        // Release: the producer that claims this slot next lap sees it emptied.
        slot.stamp
            .store(position.wrapping_add(self.one_lap), Ordering::Release);
        head.position.set(self.next(position));
        Some(value)
    }

    /// The consumer's position, for sleep announcements (the tail word's position encoding).
    pub(crate) fn head_position(&self, head: &ReadyHead) -> usize {
        head.position.get()
    }

    /// How many values are claimed but not yet taken, as the consumer sees it.
    pub(crate) fn len(&self, head: &ReadyHead) -> usize {
        // Relaxed: a snapshot.
        let tail = position_of(self.tail.load(Ordering::Relaxed));
        let head = head.position.get();
        let mask = self.one_lap - 1;
        let (hix, tix) = (head & mask, tail & mask);
        if hix < tix {
            tix - hix
        } else if hix > tix {
            self.slots.len() - hix + tix
        } else if tail == head {
            0
        } else {
            self.slots.len()
        }
    }

    /// Closes the queue to producers and drops every value claimed before that, waiting for
    /// producers that claimed a position to finish publishing it. Only the consumer calls
    /// this, once.
    pub(crate) fn close_and_drain(&self, head: &ReadyHead) {
        // AcqRel: Acquire makes every claim before the bit visible as a final position;
        // Release is not needed by producers (they only test the bit) but keeps the sequence.
        let last = position_of(self.tail.fetch_or(CLOSED, Ordering::AcqRel));
        while head.position.get() != last {
            let backoff = Backoff::new();
            loop {
                if let Some(value) = self.pop(head) {
                    drop(value);
                    break;
                }
                // A producer claimed this position and is writing it: it will finish.
                backoff.snooze();
                crate::sync::retry_hint();
            }
        }
    }
}

impl<T> Drop for ReadyQueue<T> {
    fn drop(&mut self) {
        // The consumer drains on close, but a queue can also be dropped with values in it
        // (a panic mid-drain): drop exactly the slots that hold one. A slot at index `i`
        // written at position `p` has stamp `p + 1`, whose index part is `i + 1` (never
        // wrapping, since `i < capacity < one_lap`); a free slot's stamp has index `i`.
        let mask = self.one_lap - 1;
        for (index, slot) in self.slots.iter_mut().enumerate() {
            // Relaxed: `&mut self` means every other handle is gone; their writes
            // happened-before the drop of the last `Arc`.
            if slot.stamp.load(Ordering::Relaxed) & mask == index + 1 {
                // SAFETY: `&mut self`: no other thread can reach the slot, and its stamp says
                // it holds a value that was never read.
                slot.value
                    .with_mut(|cell| unsafe { (*cell).assume_init_drop() });
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn waiter() -> Waiter {
        Waiter::new()
    }

    #[test]
    fn fills_to_exactly_its_capacity_then_reports_full() {
        let waiter = waiter();
        for capacity in [1, 3, 4, 5] {
            let (queue, head) = ReadyQueue::new(capacity);
            for round in 0..3 {
                for i in 0..capacity {
                    assert!(queue.push(round * 10 + i, &waiter).is_ok());
                }
                assert!(matches!(queue.push(99, &waiter), Err(PushError::Full(99))));
                assert_eq!(queue.len(&head), capacity);
                for i in 0..capacity {
                    assert_eq!(queue.pop(&head), Some(round * 10 + i));
                }
                assert_eq!(queue.pop(&head), None);
                assert_eq!(queue.len(&head), 0);
            }
        }
    }

    #[test]
    fn closing_drains_and_refuses_later_pushes() {
        let waiter = waiter();
        let (queue, head) = ReadyQueue::new(2);
        let value = std::sync::Arc::new(());
        queue
            .push(std::sync::Arc::clone(&value), &waiter)
            .ok()
            .unwrap();
        queue.close_and_drain(&head);
        assert_eq!(std::sync::Arc::strong_count(&value), 1);
        assert!(matches!(
            queue.push(std::sync::Arc::clone(&value), &waiter),
            Err(PushError::Closed(_))
        ));
    }

    #[test]
    fn dropping_the_queue_drops_unread_values_once() {
        let waiter = waiter();
        let value = std::sync::Arc::new(());
        let (queue, head) = ReadyQueue::new(3);
        for _ in 0..3 {
            queue
                .push(std::sync::Arc::clone(&value), &waiter)
                .ok()
                .unwrap();
        }
        drop(queue.pop(&head));
        drop(queue);
        assert_eq!(std::sync::Arc::strong_count(&value), 1);
    }
}
