//! [`Token`]: the name of one readiness source.

/// Identifies one readiness source, as an index into the user's own key space.
///
/// The queue never hands tokens out: you pick them (slab keys, array indices, connection ids)
/// and the queue only checks that `index < capacity` when you notify.
///
/// # Examples
///
/// ```
/// use conflux::notify::Token;
///
/// let token = Token::new(42);
/// assert_eq!(token.index(), 42);
/// assert_eq!(Token::from(42usize), token);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(usize);

impl Token {
    /// Makes the token for `index`.
    ///
    /// # Examples
    ///
    /// ```
    /// use conflux::notify::Token;
    ///
    /// const LISTENER: Token = Token::new(0);
    /// assert_eq!(LISTENER.index(), 0);
    /// ```
    #[inline]
    pub const fn new(index: usize) -> Token {
        Token(index)
    }

    /// The index this token stands for.
    ///
    /// # Examples
    ///
    /// ```
    /// use conflux::notify::Token;
    ///
    /// let quotes = vec![0.0_f64; 8];
    /// let token = Token::new(3);
    /// assert_eq!(quotes[token.index()], 0.0);
    /// ```
    #[inline]
    pub const fn index(self) -> usize {
        self.0
    }
}

impl From<usize> for Token {
    /// Same as [`Token::new`].
    ///
    /// ```
    /// use conflux::notify::Token;
    ///
    /// let token: Token = 7.into();
    /// assert_eq!(token.index(), 7);
    /// ```
    #[inline]
    fn from(index: usize) -> Token {
        Token(index)
    }
}
