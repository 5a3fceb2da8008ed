#!/usr/bin/env python3
"""Generate tests/fixtures/slip39/reference.json with Trezor's reference implementation.

Requires `shamir_mnemonic` (0.3.x). Deterministic: all randomness comes from a seeded
SHA-256 counter stream monkeypatched into `shamir_mnemonic.shamir.RANDOM_BYTES`, so re-running
the script reproduces the file byte for byte. Every valid case is combined and every invalid
case is rejected by the reference before it is written.

Usage: python3 scripts/gen-slip39-fixtures.py [output-path]
"""

import dataclasses
import hashlib
import json
import sys
from pathlib import Path

import shamir_mnemonic
from shamir_mnemonic import shamir
from shamir_mnemonic.share import Share
from shamir_mnemonic.utils import MnemonicError


class Stream:
    """SHA-256(seed || counter) stream; records every byte handed out."""

    def __init__(self, seed: str):
        self.seed = seed.encode()
        self.counter = 0
        self.buffer = b""
        self.consumed = bytearray()

    def __call__(self, n: int) -> bytes:
        while len(self.buffer) < n:
            block = hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
            self.buffer += block
            self.counter += 1
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        self.consumed += out
        return out


def use_stream(seed: str) -> Stream:
    stream = Stream(seed)
    shamir.RANDOM_BYTES = stream
    return stream


def generate(seed, gt, groups, secret, passphrase, extendable, e):
    stream = use_stream(seed)
    mnemonics = shamir_mnemonic.generate_mnemonics(
        gt, groups, secret, passphrase, extendable=extendable, iteration_exponent=e
    )
    return stream, mnemonics


def pick(stream: Stream, items, k):
    """Deterministic k-subset in a shuffled order, driven by the stream."""
    items = list(items)
    out = []
    for _ in range(k):
        i = stream(1)[0] % len(items)
        out.append(items.pop(i))
    return out


def quorum(stream, gt, groups, mnemonics):
    """Choose gt groups and member-threshold members of each, shuffled."""
    chosen = pick(stream, range(len(groups)), gt)
    shares = []
    for g in chosen:
        shares += pick(stream, mnemonics[g], groups[g][0])
    return pick(stream, shares, len(shares))


def reencode(mnemonic: str, **changes) -> str:
    share = Share.from_mnemonic(mnemonic)
    return dataclasses.replace(share, **changes).mnemonic()


def expect_error(mnemonics, passphrase):
    try:
        shamir_mnemonic.combine_mnemonics(mnemonics, passphrase)
    except MnemonicError:
        return
    raise AssertionError(f"reference accepted an invalid case: {mnemonics}")


VALID_CONFIGS = [
    # (description, secret length, gt, groups, passphrase, extendable, e)
    ("1-of-1, 16 bytes, no passphrase", 16, 1, [(1, 1)], b"", False, 0),
    ("1-of-1, 32 bytes, extendable, passphrase", 32, 1, [(1, 1)], b"TREZOR", True, 0),
    ("2-of-3, 16 bytes, e=1", 16, 1, [(2, 3)], b"", False, 1),
    ("3-of-5, 32 bytes, extendable, e=2, passphrase", 32, 1, [(3, 5)], b"correct horse", True, 2),
    ("5-of-7, 64 bytes, passphrase", 64, 1, [(5, 7)], b"p@ss phrase~", False, 0),
    ("16-of-16, 16 bytes, extendable", 16, 1, [(16, 16)], b"", True, 0),
    ("two-level 2 of [1-of-1, 2-of-3, 3-of-5], 16 bytes", 16, 2, [(1, 1), (2, 3), (3, 5)], b"", False, 0),
    ("two-level 2 of [1-of-1, 2-of-3, 3-of-5], 32 bytes, extendable, e=1, passphrase", 32, 2, [(1, 1), (2, 3), (3, 5)], b"TREZOR", True, 1),
    ("two-level 3 of [2-of-2, 3-of-4, 1-of-1, 2-of-5], 64 bytes, extendable", 64, 3, [(2, 2), (3, 4), (1, 1), (2, 5)], b"", True, 0),
    ("two-level 1 of [3-of-5, 2-of-2], 32 bytes, e=2", 32, 1, [(3, 5), (2, 2)], b"", False, 2),
    ("two-level 4 of 4 x [2-of-3], 16 bytes, passphrase", 16, 4, [(2, 3)] * 4, b"x", False, 0),
    ("two-level 2 of 16 x [1-of-1], 32 bytes", 32, 2, [(1, 1)] * 16, b"", True, 0),
]


def valid_cases():
    cases = []
    for n, (desc, length, gt, groups, passphrase, extendable, e) in enumerate(VALID_CONFIGS):
        seed = f"custody-slip39-valid-{n}"
        secret = hashlib.sha512(seed.encode()).digest()[:length]
        stream, mnemonics = generate(seed, gt, groups, secret, passphrase, extendable, e)
        chosen = quorum(stream, gt, groups, mnemonics)
        assert shamir_mnemonic.combine_mnemonics(chosen, passphrase) == secret
        cases.append(
            {
                "description": desc,
                "mnemonics": chosen,
                "passphrase": passphrase.decode(),
                "master_secret": secret.hex(),
                "extendable": extendable,
                "iteration_exponent": e,
            }
        )
    return cases


def deterministic_cases():
    cases = []
    configs = [
        (16, 1, [(3, 5)], b"", False, 0),
        (32, 2, [(1, 1), (2, 3), (3, 5)], b"TREZOR", True, 0),
        (64, 3, [(2, 2), (3, 4), (1, 1), (4, 6)], b"", True, 1),
        (16, 1, [(1, 1)], b"abc", False, 0),
    ]
    for n, (length, gt, groups, passphrase, extendable, e) in enumerate(configs):
        seed = f"custody-slip39-deterministic-{n}"
        secret = hashlib.sha512(seed.encode()).digest()[:length]
        stream, mnemonics = generate(seed, gt, groups, secret, passphrase, extendable, e)
        cases.append(
            {
                "random_bytes": stream.consumed.hex(),
                "master_secret": secret.hex(),
                "passphrase": passphrase.decode(),
                "group_threshold": gt,
                "groups": [list(g) for g in groups],
                "extendable": extendable,
                "iteration_exponent": e,
                "mnemonics": mnemonics,
            }
        )
    return cases


def invalid_cases():
    cases = []

    def add(desc, mnemonics, error, passphrase=b""):
        expect_error(mnemonics, passphrase)
        cases.append({"description": desc, "mnemonics": mnemonics, "passphrase": passphrase.decode(), "error": error})

    secret = bytes(range(16))
    _, single = generate("custody-slip39-invalid-a", 1, [(3, 5)], secret, b"", False, 0)
    m = single[0]
    _, other = generate("custody-slip39-invalid-b", 1, [(3, 5)], secret, b"", False, 0)
    _, two = generate("custody-slip39-invalid-c", 2, [(2, 3), (2, 3), (1, 1)], secret, b"", True, 0)

    words = m[0].split()
    words[-1] = "academic" if words[-1] != "academic" else "acid"
    add("bad checksum (last word changed)", [" ".join(words), m[1], m[2]], "InvalidChecksum")
    words = m[1].split()
    words[7] = "academic" if words[7] != "academic" else "acid"
    add("bad checksum (middle word changed)", [m[0], " ".join(words), m[2]], "InvalidChecksum")

    # Non-zero padding: set the top padding bit of the first value word, fix the checksum.
    share = Share.from_mnemonic(m[0])
    indices = share._encode_id_exp() + share._encode_share_params()
    value_words = shamir_mnemonic.share._int_to_word_indices(int.from_bytes(share.value, "big"), 13)
    value_words[0] |= 1 << 9
    data = indices + value_words
    checksum = shamir_mnemonic.rs1024.create_checksum(data, b"shamir")
    padded = " ".join(shamir_mnemonic.wordlist.words_from_indices(data + checksum))
    add("bad padding (non-zero padding bit)", [padded, m[1], m[2]], "InvalidPadding")

    add("mixed identifiers", [m[0], m[1], other[0][2]], "MismatchedParameter")
    add("mixed identifiers (re-encoded)", [m[0], reencode(m[1], identifier=(Share.from_mnemonic(m[1]).identifier + 1) % 32768), m[2]], "MismatchedParameter")
    add("mixed iteration exponents", [m[0], m[1], reencode(m[2], iteration_exponent=1)], "MismatchedParameter")
    add("mixed extendable flags", [m[0], m[1], reencode(m[2], extendable=True)], "MismatchedParameter")
    add("duplicate member index, different value", [m[0], m[1], reencode(m[2], index=Share.from_mnemonic(m[0]).index)], "DuplicateMember")
    add("member threshold mismatch", [m[0], m[1], reencode(m[2], member_threshold=2)], "MismatchedParameter")
    add("group threshold mismatch", [m[0], m[1], reencode(m[2], group_threshold=2, group_count=2)], "MismatchedParameter")
    add("group count mismatch", [m[0], m[1], reencode(m[2], group_count=2)], "MismatchedParameter")
    flipped = bytes([Share.from_mnemonic(m[2]).value[0] ^ 1]) + Share.from_mnemonic(m[2]).value[1:]
    add("bad digest (one value byte flipped, checksum valid)", [m[0], m[1], reencode(m[2], value=flipped)], "DigestMismatch")
    add("too few shares", [m[0], m[3]], "InsufficientMembers")
    add("too few groups", [two[0][0], two[0][1]], "InsufficientGroups")
    add("too few members in one of the threshold groups", [two[0][0], two[0][1], two[1][0]], "InsufficientMembers")
    gflip = Share.from_mnemonic(two[2][0])
    gflipped = gflip.value[:5] + bytes([gflip.value[5] ^ 0x80]) + gflip.value[6:]
    add("bad group-level digest", [two[0][0], two[0][1], reencode(two[2][0], value=gflipped)], "DigestMismatch")
    add("group threshold greater than group count", [reencode(m[0], group_threshold=3, group_count=2)], "InvalidThreshold")
    short = " ".join(m[0].split()[:19])
    add("mnemonic too short", [short], "TooFewWords")
    add("unknown word", [m[0].replace(m[0].split()[5], "bitcoin", 1), m[1], m[2]], "UnknownWord")
    return cases


UPSTREAM_41_45 = [
    # Vectors 41-45 of the current upstream vectors.json (added with the extendable flag);
    # the committed vectors.json is the 40-vector revision. Verified against the reference below.
    ("41. Valid mnemonics which can detect some errors in modular arithmetic", ["herald flea academic cage avoid space trend estate dryer hairy evoke eyebrow improve airline artwork garlic premium duration prevent oven", "herald flea academic client blue skunk class goat luxury deny presence impulse graduate clay join blanket bulge survive dish necklace", "herald flea academic acne advance fused brother frozen broken game ranked ajar already believe check install theory angry exercise adult"], "ad6f2ad8b59bbbaa01369b9006208d9a"),
    ("42. Valid extendable mnemonic without sharing (128 bits)", ["testify swimming academic academic column loyalty smear include exotic bedroom exotic wrist lobe cover grief golden smart junior estimate learn"], "1679b4516e0ee5954351d288a838f45e"),
    ("43. Extendable basic sharing 2-of-3 (128 bits)", ["enemy favorite academic acid cowboy phrase havoc level response walnut budget painting inside trash adjust froth kitchen learn tidy punish", "enemy favorite academic always academic sniff script carpet romp kind promise scatter center unfair training emphasis evening belong fake enforce"], "48b1a4b80b8c209ad42c33672bdaa428"),
    ("44. Valid extendable mnemonic without sharing (256 bits)", ["impulse calcium academic academic alcohol sugar lyrics pajamas column facility finance tension extend space birthday rainbow swimming purple syndrome facility trial warn duration snapshot shadow hormone rhyme public spine counter easy hawk album"], "8340611602fe91af634a5f4608377b5235fa2d757c51d720c0c7656249a3035f"),
    ("45. Extendable basic sharing 2-of-3 (256 bits)", ["western apart academic always artist resident briefing sugar woman oven coding club ajar merit pecan answer prisoner artist fraction amount desktop mild false necklace muscle photo wealthy alpha category unwrap spew losing making", "western apart academic acid answer ancient auction flip image penalty oasis beaver multiple thunder problem switch alive heat inherit superior teaspoon explain blanket pencil numb lend punish endless aunt garlic humidity kidney observe"], "8dc652d6d6cd370d8c963141f6d79ba440300f25c467302c1d966bff8f62300d"),
]


def upstream_41_45():
    out = []
    for desc, mnemonics, secret in UPSTREAM_41_45:
        assert shamir_mnemonic.combine_mnemonics(mnemonics, b"TREZOR").hex() == secret
        out.append([desc, mnemonics, secret])
    return out


def main():
    default = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "slip39" / "reference.json"
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    fixture = {
        "generator": "scripts/gen-slip39-fixtures.py",
        "reference": f"shamir_mnemonic {getattr(shamir_mnemonic, '__version__', '0.3.0')}",
        "valid": valid_cases(),
        "invalid": invalid_cases(),
        "deterministic": deterministic_cases(),
        "upstream_vectors_41_45": upstream_41_45(),
    }
    path.write_text(json.dumps(fixture, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
