//! Inputs for fuzzing the readers of what other people send: a seeded generator and, in
//! [`stream`], valid streams of every streaming dialect with the ways to split, cut, garble
//! and reshape them. The `provcheck-fuzz` driver and the stream property tests both draw from
//! here, so the millions of inputs the driver runs and the cases `cargo test` runs follow one
//! grammar.

mod cases;
pub mod stream;

/// xorshift64*: reproducible from the seed, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value; zero is mapped away from xorshift's fixed point).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn bits(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.bits() % n.max(1) as u64) as usize
    }
}
