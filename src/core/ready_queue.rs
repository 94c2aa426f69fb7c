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
//! **Waiting for room.** The consumer publishes its position after every pop (for producers'
//! `len`) with a swap on a word of its own line, and that swap doubles as the wake-up check for
//! producers waiting for room: a producer that found the queue full enters the [`WaitList`],
//! sets `ROOM_WANTED` in the published head with an RMW, and only then looks for room again.
//! The two RMWs meet in the word's single modification order: either the consumer's swap comes
//! first, and the producer's RMW acquires it, so its second look sees the freed slot; or the
//! producer's comes first, and the swap returns `ROOM_WANTED` and wakes the first waiter. No
//! fence, so loom checks it exactly; a producer that never waits costs the consumer nothing
//! but the swap, on a line no producer writes.
//!
//! ```text
//!   producer (send)                              consumer (pop)
//!   push: Full                                   take the value; stamp = free (Release)
//!   enter the wait list; head |= ROOM_WANTED ─┐  seen = head.swap(new head)
//!   push again: room? done (leave the list)   └─ seen & ROOM_WANTED: wake the first waiter,
//!   else sleep until woken, then push again         re-set the bit if others still wait
//! ```
//!
//! **Positions wrap** within the tail word's position bits: 2<sup>61</sup> positions on 64-bit
//! targets, but only 2<sup>29</sup> on 32-bit ones, which a busy mailbox passes in seconds. So
//! every position and stamp is computed modulo that range ([`wrap`]): laps are powers of two
//! that divide it, so the index part of a position never changes at the wrap and a stamp
//! always compares equal to the position it stands for. (Full-width stamps against wrapped
//! positions made `enqueue` spin forever at message 2<sup>28</sup> on i686.) The only
//! confusion left is the one every bounded queue with wrapping counters has: a producer that
//! stalls between reading the tail and its CAS while the queue goes round the whole range
//! (2<sup>28</sup> or more messages) could claim a stale position.

use std::cell::Cell;
use std::mem::MaybeUninit;

use crossbeam_utils::{Backoff, CachePadded};

use super::alloc;
use super::wait::wait_list::{Ticket, Turn, WaitList};
use super::wait::waiter::{position_of, CLOSED, POSITION_MASK, POSITION_SHIFT};
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

/// Published-head bit: a producer waits for room (the `room` list is not empty, or is being
/// emptied by the consumer right now). The top bit: positions never reach it (they wrap
/// within `POSITION_MASK`), so the consumer publishes its position as it is, unshifted.
const ROOM_WANTED: usize = 1 << (usize::BITS - 1);

/// The largest `ready` capacity: positions (lap + index, with laps a power of two above the
/// capacity) must leave room in the tail word's position bits for many laps.
pub(crate) const MAX_CAPACITY: usize = 1 << (usize::BITS - POSITION_SHIFT - 2);

/// `position` reduced to the range the tail word holds; all position arithmetic goes through it.
#[inline]
fn wrap(position: usize) -> usize {
    position & POSITION_MASK
}

/// The position after `position` in a queue of `len` slots and laps of `one_lap`: the next
/// index, or index 0 of the next lap (wrapped).
#[inline]
fn advance(position: usize, one_lap: usize, len: usize) -> usize {
    let index = position & (one_lap - 1);
    if index + 1 < len {
        position + 1
    } else {
        wrap((position & !(one_lap - 1)).wrapping_add(one_lap))
    }
}

pub(crate) struct ReadyQueue<T> {
    slots: Box<[Slot<T>]>,
    one_lap: usize,
    /// Claimed positions above `POSITION_SHIFT`, plus the waiter's flag bits.
    tail: CachePadded<AtomicUsize>,
    /// The consumer's position as it publishes it, plus `ROOM_WANTED`: swapped by the consumer after each pop, on its own line; producers read
    /// it for [`len`](Self::len_for_producers) and set the bit when they wait for room.
    published_head: CachePadded<AtomicUsize>,
    /// Producers waiting for room, first come first served.
    room: WaitList,
}

// SAFETY: values move between threads through the queue (hence `T: Send`); every slot access
// is guarded by the stamp protocol, so `&ReadyQueue` can be shared.
unsafe impl<T: Send> Sync for ReadyQueue<T> {}
// SAFETY: the queue owns its values; moving it moves them, which `T: Send` allows.
unsafe impl<T: Send> Send for ReadyQueue<T> {}

/// The consumer's end: its position, and where intake ended once the consumer closed it. Only
/// the owner of this value may pop (it is `!Sync`).
pub(crate) struct ReadyHead {
    position: Cell<usize>,
    /// The last claimed position, set by [`ReadyQueue::close`]: kept here, not read from the
    /// tail word, so an empty receive never touches the producers' hot line.
    end: Cell<Option<usize>>,
}

impl<T> ReadyQueue<T> {
    /// Makes an empty queue of `capacity` slots.
    ///
    /// Panics (at the caller's line) if `capacity` is 0 or above [`MAX_CAPACITY`], or if the
    /// slots cannot be allocated; each message names the capacity asked for.
    #[track_caller]
    pub(crate) fn new(capacity: usize) -> (ReadyQueue<T>, ReadyHead) {
        assert!(capacity > 0, "the capacity of a mailbox must be non-zero");
        assert!(
            capacity <= MAX_CAPACITY,
            "a mailbox holds at most {MAX_CAPACITY} messages in ready, {capacity} were asked for"
        );
        let one_lap = (capacity + 1).next_power_of_two();
        let slots = alloc::boxed_slice("a mailbox's ready queue", capacity, |index| Slot {
            stamp: AtomicUsize::new(index),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        });
        let queue = ReadyQueue {
            slots,
            one_lap,
            tail: CachePadded::new(AtomicUsize::new(0)),
            published_head: CachePadded::new(AtomicUsize::new(0)),
            room: WaitList::new(),
        };
        (
            queue,
            ReadyHead {
                position: Cell::new(0),
                end: Cell::new(None),
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

    /// The position after `position`. Within a lap the index part grows and never carries
    /// (`index + 1 < capacity < one_lap`); the step to the next lap wraps.
    #[inline]
    fn next(&self, position: usize) -> usize {
        advance(position, self.one_lap, self.slots.len())
    }

    /// Appends `value` unless the queue is full or closed.
    ///
    /// On success returns the tail word the claim replaced: the caller wakes the consumer if it
    /// carried an announcement (`Waiter::wake_if_announced`), at a moment of its choosing (never
    /// under a lock, since a waker may run user code).
    #[inline]
    pub(crate) fn push(&self, value: T) -> Result<usize, PushError<T>> {
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
                        // `position + 1` never leaves the wrapped range (see `next`).
                        slot.stamp.store(position + 1, Ordering::Release);
                        return Ok(word);
                    }
                    Err(current) => {
                        word = current;
                        backoff.spin();
                    }
                }
            } else if wrap(stamp.wrapping_add(self.one_lap)) == position + 1 {
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
        // Read once: across the atomics below the compiler would read these fields again.
        let (one_lap, len) = (self.one_lap, self.slots.len());
        let position = head.position.get();
        let value = take_from(&self.slots[position & (one_lap - 1)], position, one_lap)?;
        let next = advance(position, one_lap, len);
        head.position.set(next);
        self.publish_head(next, 1);
        Some(value)
    }

    /// Takes up to `limit` published values, oldest first, appending them to `out`; returns how
    /// many. Stops at the first position not yet published (a claim still being written keeps
    /// its place: nothing behind it is taken before it). Only the consumer calls this.
    ///
    /// Works in runs (from the head to the end of the lap, or to the limit): first counts the
    /// published stamps, then moves exactly that many values with one `extend` of known length
    /// (one reservation, the length kept in a register, no per-value capacity check), then
    /// moves and publishes the head once. What makes a batch cheaper per message than
    /// [`pop`](Self::pop), whose every value is a separate call with its own checks.
    #[inline]
    pub(crate) fn pop_many(&self, head: &ReadyHead, out: &mut Vec<T>, limit: usize) -> usize {
        // A local: the compiler does not move `self.one_lap`'s load across the atomic stores.
        let one_lap = self.one_lap;
        let mut position = head.position.get();
        let mut taken = 0;
        while taken < limit {
            let index = position & (one_lap - 1);
            // Within a lap the index part grows and never carries (`index + k < capacity`).
            let room = (limit - taken).min(self.slots.len() - index);
            let run = &self.slots[index..index + room];
            // Acquire (each stamp): pairs with its producer's Release, so the values read
            // below are visible.
            let published = run
                .iter()
                .zip(position + 1..)
                .take_while(|(slot, written)| slot.stamp.load(Ordering::Acquire) == *written)
                .count();
            if published == 0 {
                break;
            }
            // `extend` reserves before the first value is moved: if that panics, nothing was
            // taken and the queue is unchanged.
            out.extend(
                run[..published]
                    .iter()
                    .zip(position..)
                    .map(|(slot, at)| take_published(slot, at, one_lap)),
            );
            taken += published;
            position = self.next(position + published - 1);
            head.position.set(position);
            self.publish_head(position, published);
            if published < room {
                break;
            }
        }
        taken
    }

    /// Publishes the consumer's position after it freed `freed` slots, and wakes as many
    /// producers waiting for room.
    #[inline(always)]
    fn publish_head(&self, position: usize, freed: usize) {
        // AcqRel. Release: a producer whose room announcement reads this swap sees the stamps
        // freed before it, and one that reads this position for `len` then reads the tail
        // word sees every claim up to it (never a negative count). Acquire: an announcement
        // read here carries its wait-list entry (also ordered by the list's lock).
        let seen = self.published_head.swap(position, Ordering::AcqRel);
        if seen & ROOM_WANTED != 0 {
            self.room_made(freed);
        }
    }

    /// Wakes the first `n` producers waiting for room; the swap that brought us here cleared
    /// `ROOM_WANTED`, so it is set again (under the list's lock) if others still wait.
    #[cold]
    #[inline(never)]
    fn room_made(&self, n: usize) {
        self.room.wake_first(n, || self.announce_room_wanted());
    }

    /// Sets `ROOM_WANTED`; called under the wait list's lock only.
    fn announce_room_wanted(&self) {
        // AcqRel. Acquire: reads the consumer's latest swap, and with it every slot freed
        // before it, so the caller's next look for room sees them. Release: keeps the word a
        // release sequence for `len_for_producers`.
        self.published_head.fetch_or(ROOM_WANTED, Ordering::AcqRel);
    }

    /// Enters the calling thread among the producers waiting for room, and announces it.
    /// Look for room once more afterwards (a slot freed before the announcement does not
    /// wake anyone), then park until [`is_waiting_for_room`](Self::is_waiting_for_room) is
    /// false.
    pub(crate) fn wait_for_room_as_thread(&self, turn: Turn) -> Ticket {
        self.room.enter_thread(turn, || self.announce_room_wanted())
    }

    /// [`wait_for_room_as_thread`](Self::wait_for_room_as_thread) for a task: enters it, or
    /// refreshes the waker of `ticket` if that is still waiting.
    pub(crate) fn wait_for_room_as_task(
        &self,
        ticket: Option<Ticket>,
        waker: &std::task::Waker,
        turn: Turn,
    ) -> Ticket {
        self.room
            .enter_task(ticket, waker, turn, || self.announce_room_wanted())
    }

    /// Whether `ticket` still waits (has not been woken).
    pub(crate) fn is_waiting_for_room(&self, ticket: Ticket) -> bool {
        self.room.contains(ticket)
    }

    /// Takes `ticket` out of the wait for room, whether its producer sent or gave up (a
    /// timeout, a dropped future). If it had been woken already, the wake-up is passed to the
    /// next waiter: the slot it stood for may still be free (a producer that found room by
    /// itself may have used an earlier slot than the one it was woken for) and nobody else
    /// would be told. At worst that wakes one waiter for nothing.
    pub(crate) fn stop_waiting_for_room(&self, ticket: Ticket) {
        if !self.room.withdraw(ticket) {
            self.room_made(1);
        }
    }

    /// Wakes every producer waiting for room or for what decides it besides the slots (the
    /// mailbox's overflow emptied, or the queue closed). Reads the bit with an RMW, so a
    /// waiter that announced after it sees whatever the caller changed before it.
    pub(crate) fn wake_everyone_waiting_for_room(&self) {
        // AcqRel: Release publishes the caller's change (overflow emptied, CLOSED) to an
        // announcement that reads this RMW; Acquire pairs with an announcement before it.
        let seen = self
            .published_head
            .fetch_and(!ROOM_WANTED, Ordering::AcqRel);
        if seen & ROOM_WANTED != 0 {
            self.room.wake_all();
        }
    }

    /// Whether the position `distance` past the consumer's head (at most half the capacity)
    /// is published: producers have written a run the consumer can take without meeting them
    /// on a line they are still writing. Always true when that leaves less than 2 (no room
    /// for a run). Only the consumer calls this; a hint, it reads one stamp and takes nothing.
    #[inline]
    pub(crate) fn run_published_ahead(&self, head: &ReadyHead, distance: usize) -> bool {
        let len = self.slots.len();
        let distance = distance.min(len / 2);
        if distance < 2 {
            return true;
        }
        let position = head.position.get();
        let index = position & (self.one_lap - 1);
        // Less than the capacity from the head, so at most one lap on.
        let ahead = if index + distance < len {
            position + distance
        } else {
            wrap(
                (position & !(self.one_lap - 1))
                    .wrapping_add(self.one_lap)
                    .wrapping_add(index + distance - len),
            )
        };
        let slot = &self.slots[ahead & (self.one_lap - 1)];
        // Relaxed: a hint; whatever it says, the value is only taken after `pop`'s Acquire.
        slot.stamp.load(Ordering::Relaxed) == ahead + 1
    }

    /// The consumer's position, for sleep announcements (the tail word's position encoding).
    pub(crate) fn head_position(&self, head: &ReadyHead) -> usize {
        head.position.get()
    }

    /// How many values are claimed but not yet taken, as the consumer sees it.
    pub(crate) fn len(&self, head: &ReadyHead) -> usize {
        // Relaxed: a snapshot.
        let tail = position_of(self.tail.load(Ordering::Relaxed));
        self.distance(head.position.get(), tail)
    }

    /// [`len`](Self::len) for anyone but the consumer: from the head it last published. A
    /// snapshot; never above the capacity.
    pub(crate) fn len_for_producers(&self) -> usize {
        // Acquire: pairs with `publish_head`; the tail read below is then at or past it.
        let head = self.published_head.load(Ordering::Acquire) & !ROOM_WANTED;
        // Relaxed: ordered after the Acquire above; a later tail only makes the count fresher.
        let tail = position_of(self.tail.load(Ordering::Relaxed));
        self.distance(head, tail)
    }

    /// How many positions lie from `head` up to `tail` (`head` at or before `tail`), capped at
    /// the capacity (a stale `head` may lag more than one lap behind a fresh `tail`).
    ///
    /// Positions are `lap * one_lap + index` wrapped within `POSITION_MASK` (a multiple of
    /// `one_lap`), so the count is the lap difference (wrapped the same way) times the
    /// capacity, plus the index difference.
    fn distance(&self, head: usize, tail: usize) -> usize {
        let mask = self.one_lap - 1;
        let laps = wrap((tail & !mask).wrapping_sub(head & !mask)) / self.one_lap;
        let count = laps
            .saturating_mul(self.slots.len())
            .saturating_add(tail & mask)
            .saturating_sub(head & mask);
        count.min(self.slots.len())
    }

    /// Closes the queue to producers: no position is claimed after this. Records the last
    /// claimed position in `head` (the consumer is done once it reaches it). Idempotent; only
    /// the consumer calls this.
    pub(crate) fn close(&self, head: &ReadyHead) -> usize {
        // AcqRel: Acquire makes every claim before the bit visible as a final position;
        // Release is not needed by producers (they only test the bit) but keeps the sequence.
        let end = position_of(self.tail.fetch_or(CLOSED, Ordering::AcqRel));
        head.end.set(Some(end));
        end
    }

    /// Whether the consumer closed the queue and has taken every position claimed before.
    #[inline]
    pub(crate) fn drained_after_close(&self, head: &ReadyHead) -> bool {
        head.end.get() == Some(head.position.get())
    }

    /// Whether the consumer closed the queue (for the consumer: reads its own head).
    #[inline]
    pub(crate) fn intake_closed(&self, head: &ReadyHead) -> bool {
        head.end.get().is_some()
    }

    /// Whether the consumer closed the queue (for producers: reads the tail word).
    pub(crate) fn is_closed(&self) -> bool {
        // Acquire: a true answer orders after the consumer's close.
        self.tail.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Closes the queue and hands every value claimed before that to `dispose`, oldest first,
    /// waiting for producers that claimed a position to finish publishing it. Only the
    /// consumer calls this. `dispose` must not unwind (the mailbox catches destructor panics
    /// around it), or the values after the one it was given stay in the queue until it drops.
    pub(crate) fn close_and_drain(&self, head: &ReadyHead, mut dispose: impl FnMut(T)) {
        let last = self.close(head);
        while head.position.get() != last {
            let backoff = Backoff::new();
            loop {
                if let Some(value) = self.pop(head) {
                    dispose(value);
                    break;
                }
                // A producer claimed this position and is writing it: it will finish.
                backoff.snooze();
                crate::sync::retry_hint();
            }
        }
    }
}

/// Takes the value of `slot` if it is published there at `position`, freeing the slot for the
/// lap after (`one_lap` positions on). Only the consumer calls this, and then advances its head
/// past `position`.
#[inline(always)]
fn take_from<T>(slot: &Slot<T>, position: usize, one_lap: usize) -> Option<T> {
    // Acquire: pairs with the producer's Release of the stamp, so the value is visible.
    if slot.stamp.load(Ordering::Acquire) != position + 1 {
        return None;
    }
    Some(take_published(slot, position, one_lap))
}

/// Moves the value out of `slot`, whose stamp the caller (the consumer) has seen say "written
/// at `position`" with an Acquire load, and frees the slot for the lap after.
#[inline(always)]
fn take_published<T>(slot: &Slot<T>, position: usize, one_lap: usize) -> T {
    // SAFETY: the caller's Acquire load of the stamp saw `position + 1`: a producer wrote this
    // slot at `position` and nobody read it (only the consumer, the owner of the head, reads,
    // and it advances past `position` right after).
    let value = slot
        .value
        .with_mut(|cell| unsafe { (*cell).assume_init_read() });
    // Release: the producer that claims this slot next lap sees it emptied.
    slot.stamp
        .store(wrap(position.wrapping_add(one_lap)), Ordering::Release);
    value
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

    #[test]
    fn fills_to_exactly_its_capacity_then_reports_full() {
        for capacity in [1, 3, 4, 5] {
            let (queue, head) = ReadyQueue::new(capacity);
            for round in 0..3 {
                for i in 0..capacity {
                    assert!(queue.push(round * 10 + i).is_ok());
                }
                assert!(matches!(queue.push(99), Err(PushError::Full(99))));
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
        let (queue, head) = ReadyQueue::new(2);
        let value = std::sync::Arc::new(());
        queue.push(std::sync::Arc::clone(&value)).ok().unwrap();
        queue.close_and_drain(&head, drop);
        assert_eq!(std::sync::Arc::strong_count(&value), 1);
        assert!(matches!(
            queue.push(std::sync::Arc::clone(&value)),
            Err(PushError::Closed(_))
        ));
    }

    #[test]
    fn dropping_the_queue_drops_unread_values_once() {
        let value = std::sync::Arc::new(());
        let (queue, head) = ReadyQueue::new(3);
        for _ in 0..3 {
            queue.push(std::sync::Arc::clone(&value)).ok().unwrap();
        }
        drop(queue.pop(&head));
        drop(queue);
        assert_eq!(std::sync::Arc::strong_count(&value), 1);
    }

    /// A queue whose tail and head start `before_wrap` positions short of the wrap, with every
    /// slot stamped as a queue that got there would have it (free for the lap `start` is in).
    fn queue_near_the_wrap(capacity: usize, before_wrap: usize) -> (ReadyQueue<u64>, ReadyHead) {
        let (queue, head) = ReadyQueue::new(capacity);
        let lap = queue.one_lap;
        let start = (POSITION_MASK + 1 - before_wrap * lap) & !(lap - 1);
        queue.tail.store(start << POSITION_SHIFT, Ordering::Relaxed);
        queue.published_head.store(start, Ordering::Relaxed);
        head.position.set(start);
        for (index, slot) in queue.slots.iter().enumerate() {
            slot.stamp.store(start + index, Ordering::Relaxed);
        }
        (queue, head)
    }

    #[test]
    fn a_run_ahead_is_seen_exactly_when_its_last_position_is_published() {
        // Capacities with and without room for a run (below 2 the answer is always yes), heads
        // at every index (the look ahead crosses the end of the lap), and near the wrap.
        // Miri runs the small shapes only (each push and pop is interpreted).
        let capacities: &[usize] = if cfg!(miri) {
            &[1, 3, 5]
        } else {
            &[1, 3, 4, 5, 20, 33, 64]
        };
        let distances: &[usize] = if cfg!(miri) {
            &[1, 2, 5]
        } else {
            &[1, 2, 5, 16, 40]
        };
        for &capacity in capacities {
            for &distance in distances {
                for start in [None, Some(2)] {
                    let (queue, head) = match start {
                        None => ReadyQueue::new(capacity),
                        Some(before_wrap) => queue_near_the_wrap(capacity, before_wrap),
                    };
                    let ahead = distance.min(capacity / 2);
                    for _ in 0..3 * capacity + 1 {
                        if ahead < 2 {
                            assert!(queue.run_published_ahead(&head, distance));
                        } else {
                            for published in 0..=ahead {
                                assert!(
                                    !queue.run_published_ahead(&head, distance),
                                    "capacity {capacity}, distance {distance}, {published} published"
                                );
                                queue.push(0u64).ok().unwrap();
                            }
                            assert!(queue.run_published_ahead(&head, distance));
                            while queue.pop(&head).is_some() {}
                        }
                        // Move the head one position on.
                        queue.push(0u64).ok().unwrap();
                        queue.pop(&head).unwrap();
                    }
                }
            }
        }
    }

    #[test]
    fn positions_and_stamps_wrap_together_at_the_end_of_the_tail_words_range() {
        // Full-width stamps against positions wrapped in the tail word would make push spin
        // forever at the wrap (2^28 messages on 32-bit targets). Here the queue
        // starts two laps before the wrap, on every pointer width.
        // Capacity 64 takes minutes under miri; the small ones cover the same arithmetic.
        let capacities: &[usize] = if cfg!(miri) { &[1, 3] } else { &[1, 3, 4, 64] };
        for &capacity in capacities {
            let (queue, head) = queue_near_the_wrap(capacity, 2);
            let mut next_out = 0u64;
            let mut next_in = 0u64;
            for _ in 0..6 * capacity + 5 {
                // Fill to full (the push that finds it full must say so, not spin)...
                while queue.push(next_in).is_ok() {
                    next_in += 1;
                }
                assert_eq!(queue.len(&head), capacity);
                assert!(matches!(queue.push(u64::MAX), Err(PushError::Full(_))));
                // ...then take a few, in order.
                for _ in 0..capacity.div_ceil(2) {
                    assert_eq!(queue.pop(&head), Some(next_out));
                    next_out += 1;
                }
            }
            assert!(
                head.position.get() < POSITION_MASK / 2,
                "the head did not pass the wrap (capacity {capacity})"
            );
            while let Some(value) = queue.pop(&head) {
                assert_eq!(value, next_out);
                next_out += 1;
            }
            assert_eq!(next_out, next_in);
        }
    }

    #[test]
    fn closing_after_the_wrap_drains_exactly_what_was_claimed() {
        let (queue, head) = queue_near_the_wrap(3, 1);
        for value in 0..5 {
            assert!(queue.push(value).is_ok());
            if value % 2 == 1 {
                queue.pop(&head);
            }
        }
        let mut left = Vec::new();
        queue.close_and_drain(&head, |value| left.push(value));
        assert_eq!(left, [2, 3, 4]);
        assert!(matches!(queue.push(9), Err(PushError::Closed(9))));
    }

    #[test]
    fn pop_many_takes_in_order_up_to_the_limit_across_the_wrap() {
        for capacity in [1, 3, 4] {
            let (queue, head) = queue_near_the_wrap(capacity, 2);
            let (mut next_in, mut next_out) = (0u64, 0u64);
            let mut out = Vec::new();
            for round in 0..8 * capacity {
                while queue.push(next_in).is_ok() {
                    next_in += 1;
                }
                assert_eq!(queue.len_for_producers(), capacity);
                let limit = round % (capacity + 2);
                out.clear();
                let taken = queue.pop_many(&head, &mut out, limit);
                assert_eq!(taken, limit.min(capacity));
                assert_eq!(out.len(), taken);
                for value in &out {
                    assert_eq!(*value, next_out);
                    next_out += 1;
                }
                assert_eq!(queue.len(&head), capacity - taken);
                assert_eq!(queue.len_for_producers(), capacity - taken);
            }
            assert!(
                head.position.get() < POSITION_MASK / 2,
                "did not pass the wrap"
            );
            out.clear();
            queue.pop_many(&head, &mut out, usize::MAX);
            assert_eq!(out.len() as u64, next_in - next_out);
            assert_eq!(queue.len_for_producers(), 0);
        }
    }

    #[test]
    fn pop_many_stops_at_a_claim_not_yet_written() {
        let (queue, head) = ReadyQueue::new(4);
        queue.push(1u8).ok().unwrap();
        queue.push(2u8).ok().unwrap();
        // A producer claimed position 2 and has not written it yet.
        queue.tail.fetch_add(1 << POSITION_SHIFT, Ordering::Relaxed);
        let mut out = Vec::new();
        assert_eq!(queue.pop_many(&head, &mut out, 10), 2);
        assert_eq!(out, [1, 2]);
        assert_eq!(queue.pop_many(&head, &mut out, 10), 0);
        assert_eq!(queue.len(&head), 1, "the claimed position still counts");
    }

    #[test]
    fn the_producers_count_is_capped_when_its_head_lags_a_lap() {
        let (queue, head) = ReadyQueue::new(2);
        for value in 0..2u8 {
            queue.push(value).ok().unwrap();
        }
        let stale = queue.published_head.load(Ordering::Relaxed);
        let mut out = Vec::new();
        queue.pop_many(&head, &mut out, 2);
        for value in 0..2u8 {
            queue.push(value).ok().unwrap();
        }
        queue.pop_many(&head, &mut out, 1);
        // A reader holding the head from two pops ago and the current tail: 4 - 0, capped.
        queue.published_head.store(stale, Ordering::Relaxed);
        assert_eq!(queue.len_for_producers(), 2);
    }

    #[test]
    #[should_panic(expected = "cannot allocate a mailbox's ready queue of")]
    fn a_capacity_that_cannot_be_allocated_is_a_panic_naming_it() {
        // Not representable in the address space on any target: refused before the allocator.
        let _ = ReadyQueue::<[u8; 1024]>::new(MAX_CAPACITY);
    }
}
