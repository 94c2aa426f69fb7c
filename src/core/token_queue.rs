//! The conflating FIFO token queue: the shared-memory heart of `conflux::notify`.
//!
//! ```text
//!  producers (any threads)                                    the one consumer
//!  ───────────────────────                                    ────────────────
//!  notify(t):
//!   1. pending bit of t: fetch_or ──── bit was set? ─ yes ─▶ conflated: return
//!   2. tail.fetch_add(ONE_POSITION)  ── claims position p
//!   3. ring[p % ring_len] = t        ────────────────────────▶ poll: read ring[head];
//!   4. wake the consumer if the tail word said SLEEPING         lap tag not head's lap?
//!                                                               stop; else take t, head += 1;
//!                                                               at the end, clear the bits
//!                                                               with one fetch_and per word
//! ```
//!
//! Step 4 is a parked or awaiting receiver (`event_channel`, see `waiter.rs`) or, for
//! `event_queue_with_waker`, the user's wake hook armed by an event loop (see `wake_hook.rs`).
//!
//! * **Conflation.** A token's pending bit is set by the notify that queues it and cleared by
//!   the poll that delivers it, so a token is in the ring at most once and the ring, sized to
//!   the next power of two of the capacity, can never overflow. Memory per token: 8 bytes of
//!   ring (a 4-byte slot padded, see `Slot`) and 1 byte of flags (64 consecutive tokens' bits
//!   in one word, alone on its cache line, see `FlagWord`).
//! * **FIFO.** Positions are claimed by one `fetch_add`, so tokens are delivered in the order
//!   they became pending. A position claimed but not yet written stops the poll there (the
//!   notify that claimed it has not returned yet); everything behind it waits its turn.
//! * **Publication.** Every notify, conflated or not, does a release RMW on the token's flag
//!   word, and the poll that delivers the token clears the bit with an acquire RMW, which reads
//!   the end of that release sequence. So whatever a producer wrote before `notify` returned is
//!   visible once a poll has delivered the token, even when that notify was conflated into a
//!   delivery already pending. A plain load to skip the RMW on the conflated path would lose
//!   exactly these writes (store-to-load reordering), so the RMW stays.
//! * **Slot reuse.** A producer may write slot `p % ring_len` only after the consumer read
//!   position `p - ring_len` (slots carry a lap-parity tag, so the consumer never writes them). Among the positions `p - ring_len ..= p` two carry the same token
//!   (there are more positions than tokens); the later claim of it followed the clear of its
//!   bit, which followed the pop of every earlier position. The flag RMWs (acquire on notify,
//!   release on clear) and the tail's release sequence (every claim is an AcqRel RMW) carry that
//!   happens-before edge to the producer of `p`. Nor can the consumer mistake a stale slot: at
//!   position `p` a slot holds `p`'s token (tag = `p`'s lap parity) or the previous lap's
//!   (the other parity); the next lap's write needs `p` read first.

use std::cell::{Cell, RefCell};

use crossbeam_utils::CachePadded;

use super::alloc;
use super::events::Events;
use super::senders::Senders;
use super::token::Token;
use super::wait::waiter::{self, Waiter, ONE_POSITION, POSITION_MASK, SLEEPING};
use super::wake_hook::{self, WakeHook};
use crate::sync::{Arc, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// Why the queue refused a notify: the core's own account of it, which `notify` turns into
/// the public `NotifyError` (same fields), so that this layer depends on nothing above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The token's index is not below `capacity`.
    OutOfRange { token: Token, capacity: usize },
    /// The consumer is gone.
    Closed { token: Token },
}

/// The ring's marker for "no token here".
/// The top bit of a ring slot: the parity of the lap (of `ring_len` positions) in which the
/// slot was last written. The consumer at position `p` takes a slot only if its tag is `p`'s
/// lap parity; otherwise the slot still holds the previous lap's token and position `p` is
/// not published yet. So the consumer never writes the ring: its lines only travel from
/// producers to the consumer, never back.
const LAP_TAG: u32 = 1 << 31;

/// The largest capacity a queue accepts: tokens must fit below [`LAP_TAG`] in a `u32`, the
/// ring (the next power of two) must fit in the tail word's position bits, and on 32-bit
/// targets the ring's bytes (8 per slot) must stay below `isize::MAX`, the most any allocation
/// can be: 2<sup>27</sup> tokens there, 2<sup>31</sup> on 64-bit targets.
pub(crate) const MAX_CAPACITY: usize = if usize::BITS > 32 { 1 << 31 } else { 1 << 27 };

/// Newly pending tokens `notify_many` claims positions for with one `fetch_add` (a stack
/// buffer of their indices: 256 bytes).
const MANY_CHUNK: usize = 64;

/// A ring slot: a token index and its lap tag, padded to 8 bytes so that 8 positions share a
/// cache line, not 16. Neighbouring positions are claimed by whichever producers notify next,
/// so under fan-in their slot stores are different threads writing one line; halving the
/// positions per line halves how often two producers' stores meet there.
#[repr(align(8))]
struct Slot(AtomicU32);

/// Tokens whose pending bits share one flag word.
const FLAG_BITS: usize = u64::BITS as usize;

/// The pending bits of 64 consecutive tokens (token `t` is bit `t % 64` of word `t / 64`),
/// alone on their cache line. Nothing else shares the line, so a producer's RMW on it is
/// slowed down only by notifies of those 64 tokens and by the consumer clearing them: I/O
/// threads that own disjoint ranges of tokens never touch each other's lines, a hot token
/// shares its line with 63 neighbours at most, and one clearing RMW covers up to 64 delivered
/// tokens. Packed eight to a line, words of different producers shared lines and every notify
/// (conflated ones included) paid a transfer of the line between cores.
#[repr(align(64))]
struct FlagWord(AtomicU64);

/// What a receive attempt that found something found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Received {
    /// `events` holds tokens (delivered now, or carried over from a partial drain).
    Tokens,
    /// Disconnected (or closed), and nothing is pending.
    Ended,
}

/// State shared by the producers and the consumer of one queue.
#[repr(C)]
pub(crate) struct TokenQueue {
    // Read-mostly: written once at construction (`closed` once at the consumer's drop), so
    // this line stays shared in every core's cache and a spinning receiver can read it without
    // slowing producers down.
    capacity: usize,
    ring_mask: usize,
    closed: AtomicBool,
    ring: Box<[Slot]>,
    pending: Box<[FlagWord]>,
    /// Claimed positions (above `POSITION_SHIFT`) plus the SLEEPING and DISCONNECTED bits.
    tail: CachePadded<AtomicUsize>,
    /// Live producer handles, and whether the last is gone (on a line of its own, which a
    /// spinning receiver reads without slowing producers down).
    senders: Senders,
    /// How a sleeping consumer is woken: a parked thread or task ([`Waiter`], `event_channel`),
    /// or, when `hook` is set (`event_queue_with_waker`), the user's callback instead. Both use
    /// the tail word's SLEEPING bit, so a notify tests one bit either way.
    waiter: Waiter,
    hook: Option<WakeHook>,
}

impl TokenQueue {
    #[track_caller]
    fn new(capacity: usize, hook: Option<WakeHook>) -> TokenQueue {
        assert!(
            capacity > 0,
            "the capacity of a notify queue must be non-zero"
        );
        assert!(
            capacity <= MAX_CAPACITY,
            "a notify queue holds at most {MAX_CAPACITY} tokens, {capacity} were asked for"
        );
        let ring_len = capacity.next_power_of_two();
        let words = capacity.div_ceil(FLAG_BITS);
        TokenQueue {
            capacity,
            ring_mask: ring_len - 1,
            closed: AtomicBool::new(false),
            // Tagged as written in lap -1: the first lap (parity 0) finds every slot empty.
            ring: alloc::boxed_slice("a notify queue's ring", ring_len, |_| {
                Slot(AtomicU32::new(LAP_TAG))
            }),
            pending: alloc::boxed_slice("a notify queue's pending flags", words, |_| {
                FlagWord(AtomicU64::new(0))
            }),
            tail: CachePadded::new(AtomicUsize::new(0)),
            senders: Senders::new(),
            waiter: Waiter::new(),
            hook,
        }
    }

    /// Makes `token` pending unless it already is; see the module docs for the protocol.
    #[inline]
    fn notify(&self, token: Token) -> Result<(), Refusal> {
        let index = token.index();
        if index >= self.capacity {
            return Err(Refusal::OutOfRange {
                token,
                capacity: self.capacity,
            });
        }
        let (word, bit) = self.flag_of(index);
        // AcqRel: Release publishes the caller's writes to the poll whose acquiring clear reads
        // this RMW (also when conflated); Acquire receives the consumer's reads of ring
        // slots, which the slot-reuse argument needs.
        let was = self.flag_word(word).fetch_or(bit, Ordering::AcqRel);
        if was & bit != 0 {
            // Closing sets every pending bit first, so a closed queue always lands here and
            // the check stays off the path of a new token. Relaxed: closing is advisory for
            // producers (a notify racing the consumer's drop may succeed, harmlessly).
            if self.closed.load(Ordering::Relaxed) {
                return Err(Refusal::Closed { token });
            }
            return Ok(());
        }
        // AcqRel: keeps the tail a release sequence that carries "slot read" from producer
        // to producer (slot reuse), and acquires a SLEEPING announcement's registration.
        let seen = self.tail.fetch_add(ONE_POSITION, Ordering::AcqRel);
        let position = waiter::position_of(seen);
        // Release: the poll that reads this index with Acquire sees everything before it.
        self.ring[position & self.ring_mask]
            .0
            .store(index as u32 | self.lap_tag(position), Ordering::Release);
        self.wake_if_announced(seen);
        Ok(())
    }

    /// Makes every token of `tokens` pending that is not yet, in order, claiming ring
    /// positions for up to [`MANY_CHUNK`] newly pending tokens with one `fetch_add` (and waking
    /// the consumer at most once per claim). Stops at the first out-of-range token, or at the
    /// first token found pending on a closed queue; the tokens before it are notified.
    ///
    /// The per-token protocol is `notify`'s, with steps 2 to 4 done once for a run of new
    /// tokens: their positions are consecutive and published in slice order. Slot reuse holds
    /// as for single claims: a position `q` of the run can be written once `q - ring_len` was
    /// read, and among `q - ring_len ..= q` two positions carry one token; if the later is in
    /// this run, this producer's own acquiring `fetch_or` of that token read the clear that
    /// followed the pop of the earlier one; otherwise the tail's release sequence carries it,
    /// as for `notify`. A run never holds a token twice, so it fits the ring.
    fn notify_many(&self, tokens: &[Token]) -> Result<(), Refusal> {
        let mut fresh = [0u32; MANY_CHUNK];
        let mut rest = tokens;
        loop {
            let mut new = 0;
            let mut taken = 0;
            let mut result = Ok(());
            for &token in rest {
                if new == MANY_CHUNK {
                    break;
                }
                let index = token.index();
                if index >= self.capacity {
                    result = Err(Refusal::OutOfRange {
                        token,
                        capacity: self.capacity,
                    });
                    break;
                }
                taken += 1;
                let (word, bit) = self.flag_of(index);
                // AcqRel: as in `notify`.
                let was = self.flag_word(word).fetch_or(bit, Ordering::AcqRel);
                if was & bit != 0 {
                    // Relaxed: as in `notify`.
                    if self.closed.load(Ordering::Relaxed) {
                        result = Err(Refusal::Closed { token });
                        break;
                    }
                    continue;
                }
                fresh[new] = index as u32;
                new += 1;
            }
            // Bits set above must reach the ring whatever stopped the loop.
            if new > 0 {
                self.publish_run(&fresh[..new]);
            }
            rest = &rest[taken..];
            if result.is_err() || rest.is_empty() {
                return result;
            }
        }
    }

    /// Steps 2 to 4 of `notify` for a run of newly pending tokens: one claim, then each slot.
    fn publish_run(&self, run: &[u32]) {
        // AcqRel: as in `notify`. Positions wrap within the bits above the flags: the carry
        // out of the top of the word is the wrap.
        let seen = self
            .tail
            .fetch_add(run.len() * ONE_POSITION, Ordering::AcqRel);
        let first = waiter::position_of(seen);
        for (k, &index) in run.iter().enumerate() {
            let position = first.wrapping_add(k) & POSITION_MASK;
            // Release: as in `notify`.
            self.ring[position & self.ring_mask]
                .0
                .store(index | self.lap_tag(position), Ordering::Release);
        }
        self.wake_if_announced(seen);
    }

    /// Wakes the consumer if `seen`, the tail word a producer's RMW returned, says it announced
    /// a sleep (or armed the hook). The one bit test is all a notify pays while it is awake.
    #[inline]
    fn wake_if_announced(&self, seen: usize) {
        if seen & SLEEPING != 0 {
            self.wake_announced();
        }
    }

    #[cold]
    fn wake_announced(&self) {
        match &self.hook {
            Some(hook) => wake_hook::wake_armed(&self.tail, hook),
            None => self.waiter.wake_announced(&self.tail),
        }
    }

    /// Delivers pending tokens from position `head`, oldest first, so that `events` ends with
    /// at most `limit` (tokens a partial drain left count); returns how many it delivered.
    /// Must only be called by the queue's one consumer.
    #[inline]
    fn poll(
        &self,
        head: &Cell<usize>,
        scratch: &RefCell<ClearScratch>,
        events: &mut Events,
        limit: usize,
    ) -> usize {
        // Keeps what a partial drain left in `events` (the limit counts it), or clears it.
        let limit = events.start_poll(limit);
        // The empty poll, the event loop's most frequent call, is this one load, inlined.
        // Acquire: as in `deliver`.
        let position = head.get();
        let first = self.ring[position & self.ring_mask]
            .0
            .load(Ordering::Acquire);
        if limit == 0 || first & LAP_TAG != self.lap_tag(position) {
            return 0;
        }
        self.deliver(head, scratch, events, limit)
    }

    /// Delivers the oldest pending token if its position is published: `poll` with a limit of
    /// one, without an `Events` buffer or the batched clear (the `Stream`'s receive).
    /// Must only be called by the queue's one consumer.
    #[inline]
    fn take_one(&self, head: &Cell<usize>) -> Option<Token> {
        let position = head.get();
        // Acquire: as in `deliver`.
        let value = self.ring[position & self.ring_mask]
            .0
            .load(Ordering::Acquire);
        if value & LAP_TAG != self.lap_tag(position) {
            return None;
        }
        let index = (value & !LAP_TAG) as usize;
        let (word, bit) = self.flag_of(index);
        self.clear_pending(word, bit);
        head.set(position.wrapping_add(1) & POSITION_MASK);
        Some(Token::new(index))
    }

    /// The body of a poll that has something to deliver.
    fn deliver(
        &self,
        head: &Cell<usize>,
        scratch: &RefCell<ClearScratch>,
        events: &mut Events,
        limit: usize,
    ) -> usize {
        let mut position = head.get();
        let cursor = &mut *scratch.borrow_mut();
        let mut delivered = 0;
        while delivered < limit {
            // Acquire: pairs with the notify's Release store of the index (and its data).
            let value = self.ring[position & self.ring_mask]
                .0
                .load(Ordering::Acquire);
            if value & LAP_TAG != self.lap_tag(position) {
                break;
            }
            position = position.wrapping_add(1) & POSITION_MASK;
            let index = (value & !LAP_TAG) as usize;
            let (word, bit) = self.flag_of(index);
            cursor.defer_clear(word, bit);
            events.push(Token::new(index));
            delivered += 1;
        }
        // Clearing after the loop is still before this poll returns: a notify that lands in
        // between is conflated into this delivery, and the acquiring clear publishes its data.
        for word in cursor.dirty_words.drain(..) {
            let word = word as usize;
            let bits = std::mem::take(&mut cursor.clear_bits[word]);
            self.clear_pending(word, bits);
        }
        head.set(position);
        delivered
    }

    /// The tag a slot carries when it holds `position`'s token.
    #[inline]
    fn lap_tag(&self, position: usize) -> u32 {
        // `ring_mask + 1` is the ring length, a power of two: this bit of the position flips
        // once per lap. Positions wrap at a multiple of the ring length, so the parity
        // sequence never breaks.
        if position & (self.ring_mask + 1) != 0 {
            LAP_TAG
        } else {
            0
        }
    }

    #[inline]
    fn clear_pending(&self, word: usize, bits: u64) {
        // AcqRel: Acquire reads the end of the release sequence of every notify of these
        // tokens, conflated ones included (their writes become visible to the caller);
        // Release tells the next producers these positions were read (slot reuse).
        self.flag_word(word).fetch_and(!bits, Ordering::AcqRel);
    }

    /// Which flag word and bit hold `index`'s pending flag.
    #[inline]
    fn flag_of(&self, index: usize) -> (usize, u64) {
        (index / FLAG_BITS, 1 << (index % FLAG_BITS))
    }

    #[inline]
    fn flag_word(&self, word: usize) -> &AtomicU64 {
        &self.pending[word].0
    }

    fn flag_words(&self) -> usize {
        self.pending.len()
    }

    fn is_disconnected(&self) -> bool {
        self.senders.all_gone()
    }
}

/// A producer handle: counts itself in `producers`, disconnects the queue when the last goes.
pub(crate) struct TokenProducer {
    queue: Arc<TokenQueue>,
}

impl TokenProducer {
    #[inline]
    pub(crate) fn notify(&self, token: Token) -> Result<(), Refusal> {
        self.queue.notify(token)
    }

    pub(crate) fn notify_many(&self, tokens: &[Token]) -> Result<(), Refusal> {
        self.queue.notify_many(tokens)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.queue.capacity
    }

    pub(crate) fn is_closed(&self) -> bool {
        // Acquire: a `true` answer is final and orders after the consumer's drop.
        self.queue.closed.load(Ordering::Acquire)
    }
}

impl Clone for TokenProducer {
    fn clone(&self) -> TokenProducer {
        self.queue.senders.add();
        TokenProducer {
            queue: Arc::clone(&self.queue),
        }
    }
}

impl Drop for TokenProducer {
    fn drop(&mut self) {
        // The last one publishes the end; the wake-up goes through this queue's own path
        // (the thread or task, or the user's hook).
        if let Some(seen) = self.queue.senders.remove(&self.queue.tail) {
            self.queue.wake_if_announced(seen);
        }
    }
}

/// The consumer's scratch with which one poll clears the pending bits of all it delivered
/// with one RMW per flag word touched (tokens delivered together often share words: a
/// scattered 256 of 4096 touch at most 64).
struct ClearScratch {
    /// Per flag word, the bits of delivered tokens still to clear (all zero between polls).
    clear_bits: Box<[u64]>,
    /// The words with bits in `clear_bits`, so clearing costs O(delivered), not O(capacity).
    /// Never reallocates: it holds each word at most once.
    dirty_words: Vec<u32>,
}

impl ClearScratch {
    #[track_caller]
    fn new(flag_words: usize) -> ClearScratch {
        ClearScratch {
            clear_bits: alloc::boxed_slice("a notify queue's clear scratch", flag_words, |_| 0),
            dirty_words: alloc::vec_with_capacity("a notify queue's clear scratch", flag_words),
        }
    }

    #[inline]
    fn defer_clear(&mut self, word: usize, bit: u64) {
        let bits = &mut self.clear_bits[word];
        if *bits == 0 {
            self.dirty_words.push(word as u32);
        }
        *bits |= bit;
    }
}

/// The consumer handle: owns the read position, closes the queue when dropped.
pub(crate) struct TokenConsumer {
    queue: Arc<TokenQueue>,
    /// The next position to read; only this handle touches it (hence `!Sync`).
    head: Cell<usize>,
    scratch: RefCell<ClearScratch>,
}

impl TokenConsumer {
    /// Fills `events` with up to `limit` pending tokens, oldest first; returns how many.
    #[inline]
    pub(crate) fn poll(&self, events: &mut Events, limit: usize) -> usize {
        self.queue.poll(&self.head, &self.scratch, events, limit)
    }

    /// The oldest pending token, if one is published (no disconnection check, no wait).
    #[inline]
    pub(crate) fn take_one(&self) -> Option<Token> {
        self.queue.take_one(&self.head)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.queue.capacity
    }

    pub(crate) fn is_disconnected(&self) -> bool {
        self.queue.is_disconnected()
    }

    /// One receive attempt: `None` while nothing is pending.
    ///
    /// Disconnection seen after an empty poll is followed by one more poll: a token notified
    /// just before the last producer dropped may have landed between the two looks, and it
    /// must be delivered before disconnection is reported.
    #[inline]
    pub(crate) fn try_receive(&self, events: &mut Events, limit: usize) -> Option<Received> {
        self.poll(events, limit);
        if !events.is_empty() {
            return Some(Received::Tokens);
        }
        if !self.is_disconnected() {
            return None;
        }
        self.poll(events, limit);
        Some(if events.is_empty() {
            Received::Ended
        } else {
            Received::Tokens
        })
    }

    /// The shared wait machinery, bound to this queue's tail word.
    pub(crate) fn waiter(&self) -> (&Waiter, &AtomicUsize) {
        (&self.queue.waiter, &self.queue.tail)
    }

    /// Arms the wake hook unless tokens are pending (claimed beyond `head`); see `wake_hook`.
    pub(crate) fn arm(&self) -> bool {
        wake_hook::arm(&self.queue.tail, self.head.get())
    }

    /// The position the consumer will read next (for sleep announcements).
    pub(crate) fn head(&self) -> usize {
        self.head.get()
    }
}

impl Drop for TokenConsumer {
    fn drop(&mut self) {
        // Every token pending from now on: a later notify takes the conflated path, which is
        // where producers check `closed`. Relaxed: this publishes nothing by itself; `closed`
        // is stored after, and a notify that sees a bit set here and `closed` still false is
        // a notify racing the drop, which may succeed.
        for word in self.queue.pending.iter() {
            word.0.fetch_or(u64::MAX, Ordering::Relaxed);
        }
        // Release: pairs with `is_closed`'s Acquire.
        self.queue.closed.store(true, Ordering::Release);
    }
}

/// Makes a queue for tokens `0..capacity`; panics (at the caller's line) on 0, on more than
/// [`MAX_CAPACITY`], or if the memory cannot be allocated.
#[track_caller]
pub(crate) fn token_queue(capacity: usize) -> (TokenProducer, TokenConsumer) {
    token_queue_with_hook(capacity, None)
}

/// Like [`token_queue`], waking the consumer through `hook` (armed with
/// [`TokenConsumer::arm`]) instead of the [`Waiter`].
#[track_caller]
pub(crate) fn token_queue_with_hook(
    capacity: usize,
    hook: Option<WakeHook>,
) -> (TokenProducer, TokenConsumer) {
    let queue = Arc::new(TokenQueue::new(capacity, hook));
    let scratch = RefCell::new(ClearScratch::new(queue.flag_words()));
    (
        TokenProducer {
            queue: Arc::clone(&queue),
        },
        TokenConsumer {
            queue,
            head: Cell::new(0),
            scratch,
        },
    )
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn indices(events: &Events) -> Vec<usize> {
        events.iter().map(Token::index).collect()
    }

    #[test]
    fn ring_is_the_next_power_of_two_and_flags_one_word_per_64_tokens() {
        let (producer, _consumer) = token_queue(4097);
        assert_eq!(producer.queue.ring.len(), 8192);
        assert_eq!(producer.queue.flag_words(), 65);
        assert_eq!(std::mem::size_of::<FlagWord>(), 64);
        assert_eq!(std::mem::size_of::<Slot>(), 8);
        assert_eq!(producer.queue.flag_of(4096), (64, 1));
        assert_eq!(producer.queue.flag_of(63), (0, 1 << 63));
    }

    #[test]
    fn flags_rearm_every_token_across_words() {
        // 1500 tokens: 23 full words and a partial one.
        let (producer, consumer) = token_queue(1500);
        assert_eq!(producer.queue.pending.len(), 24);
        let order: Vec<usize> = (0..1500).map(|i| (i * 7) % 1500).collect();
        let mut events = Events::with_capacity(1500);
        for round in 0..3 {
            for &index in &order {
                producer.notify(Token::new(index)).unwrap();
                producer.notify(Token::new(index)).unwrap(); // conflated
            }
            assert_eq!(
                consumer.poll(&mut events, usize::MAX),
                1500,
                "round {round}"
            );
            assert_eq!(indices(&events), order);
            assert!(producer
                .queue
                .pending
                .iter()
                .all(|w| w.0.load(Ordering::Relaxed) == 0));
        }
    }

    #[test]
    fn the_ring_wraps_many_times_without_losing_order() {
        let (producer, consumer) = token_queue(3);
        let mut events = Events::with_capacity(3);
        for round in 0..50 {
            let order = [round % 3, (round + 1) % 3, (round + 2) % 3];
            for index in order {
                producer.notify(Token::new(index)).unwrap();
            }
            assert_eq!(consumer.poll(&mut events, 2), 2);
            assert_eq!(indices(&events), &order[..2]);
            assert_eq!(consumer.poll(&mut events, usize::MAX), 1);
            assert_eq!(indices(&events), &order[2..]);
        }
    }

    #[test]
    fn runs_in_one_flag_word_and_across_words_are_all_cleared() {
        let (producer, consumer) = token_queue(200);
        let mut events = Events::with_capacity(200);
        let order = [1, 2, 70, 71, 3, 199, 0];
        for index in order {
            producer.notify(Token::new(index)).unwrap();
        }
        consumer.poll(&mut events, usize::MAX);
        assert_eq!(indices(&events), order);
        assert!(producer
            .queue
            .pending
            .iter()
            .all(|w| w.0.load(Ordering::Relaxed) == 0));
        for index in order {
            producer.notify(Token::new(index)).unwrap();
        }
        consumer.poll(&mut events, usize::MAX);
        assert_eq!(indices(&events), order);
    }

    #[test]
    fn positions_wrap_at_the_position_mask() {
        let (producer, consumer) = token_queue(2);
        let start = POSITION_MASK - 1;
        producer
            .queue
            .tail
            .store(start << waiter::POSITION_SHIFT, Ordering::Relaxed);
        consumer.head.set(start);
        // As a queue that got here would have it: each slot tagged with the previous lap.
        let queue = &producer.queue;
        for position in start..start + queue.ring.len() {
            let stale = queue.lap_tag(position) ^ LAP_TAG;
            queue.ring[position & queue.ring_mask]
                .0
                .store(stale, Ordering::Relaxed);
        }
        let mut events = Events::with_capacity(2);
        for round in 0..6 {
            producer.notify(Token::new(round % 2)).unwrap();
            assert_eq!(consumer.poll(&mut events, usize::MAX), 1);
            assert_eq!(indices(&events), [round % 2]);
        }
    }
}
