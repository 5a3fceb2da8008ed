//! Constant-time arithmetic in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (0x11B), and Lagrange
//! interpolation over byte vectors, as SLIP-0039 uses it.
