//! SLIP-0039: Shamir's secret-sharing for mnemonic codes.
