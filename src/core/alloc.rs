//! Fallible allocation of the queues' fixed buffers: a capacity that cannot be allocated is a
//! panic that names it (catchable, pointing at the caller's line through `#[track_caller]`),
//! never the process abort that `Vec::with_capacity` and `collect` turn an allocation failure
//! into.

/// Allocates `len` elements made by `make(index)`, or panics with a message naming `what` and
/// `len` if the memory cannot be had (too large for the address space, or refused).
#[track_caller]
pub(crate) fn boxed_slice<T>(what: &str, len: usize, make: impl FnMut(usize) -> T) -> Box<[T]> {
    let mut buffer = vec_with_capacity(what, len);
    buffer.extend((0..len).map(make));
    buffer.into_boxed_slice()
}

/// An empty `Vec` with room for exactly `len` elements, or a panic naming `what` and `len`.
#[track_caller]
pub(crate) fn vec_with_capacity<T>(what: &str, len: usize) -> Vec<T> {
    let mut buffer = Vec::new();
    if let Err(error) = buffer.try_reserve_exact(len) {
        let bytes = len.saturating_mul(std::mem::size_of::<T>());
        panic!("cannot allocate {what} of {len} (about {bytes} bytes): {error}");
    }
    buffer
}
