//! Every constant that appears on paper or on disk: magic bytes, versions, domain-separation
//! strings, length limits. `shares-format.md` is the normative description of each; change
//! neither without the other, and never change a value behind an existing version number.

/// Text form of a share token: this prefix, then the token bytes in unpadded base64url.
pub const TOKEN_TEXT_PREFIX: &str = "custody-share:";
/// First four bytes of every share token.
pub const TOKEN_MAGIC: [u8; 4] = *b"CUST";
/// The only token layout version this build reads and writes.
pub const TOKEN_VERSION: u8 = 1;
/// Prefix of the bytes an Ed25519 token signature covers (followed by the token bytes up to
/// the signature). The NUL ends the label so no label is a prefix of another.
pub const TOKEN_SIGNATURE_DOMAIN: &[u8] = b"custody/v1/share-token\0";
/// Vault identifier length in bytes.
pub const VAULT_ID_LEN: usize = 16;
/// Longest custodian or group name, in UTF-8 bytes.
pub const MAX_NAME_LEN: usize = 64;
/// Fewest SLIP-39 words a token may carry (20 words = 128-bit secret).
pub const MIN_TOKEN_WORDS: usize = 20;
/// Most SLIP-39 words a token may carry (59 words = 512-bit secret).
pub const MAX_TOKEN_WORDS: usize = 59;
/// Ed25519 public key length in bytes.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Ed25519 signature length in bytes.
pub const SIGNATURE_LEN: usize = 64;
/// Longest possible token in bytes: magic, version, vault id, epoch, created, two names with
/// their length bytes, word count byte and packed words, public key, signature.
pub const MAX_TOKEN_LEN: usize = 4
    + 1
    + VAULT_ID_LEN
    + 4
    + 8
    + 2 * (1 + MAX_NAME_LEN)
    + 1
    + (MAX_TOKEN_WORDS * 10).div_ceil(8)
    + PUBLIC_KEY_LEN
    + SIGNATURE_LEN;

/// HKDF-SHA256 salt for every key derived from the master secret.
pub const HKDF_SALT: &[u8] = b"custody/v1/hkdf-salt";
/// HKDF info for the 32-byte Ed25519 signing-key seed.
pub const HKDF_INFO_ED25519: &[u8] = b"custody/v1/ed25519-signing-key";
/// HKDF info for the 32-byte X25519 secret of the age identity.
pub const HKDF_INFO_AGE: &[u8] = b"custody/v1/age-x25519-identity";
/// Prefix hashed with the Ed25519 public key to form the spoken fingerprint.
pub const FINGERPRINT_DOMAIN: &[u8] = b"custody/v1/fingerprint\0";
/// Fingerprint length in bytes before base32 (80 bits = 16 characters).
pub const FINGERPRINT_BYTES: usize = 10;
/// Domain for mixing officer-supplied entropy into the OS randomness (HKDF-Extract salt).
pub const ENTROPY_MIX_SALT: &[u8] = b"custody/v1/entropy-mix";

/// `format` field of the vault file.
pub const VAULT_FORMAT: &str = "custody-vault/1";
/// Prefix of the bytes the vault manifest signature covers.
pub const MANIFEST_SIGNATURE_DOMAIN: &[u8] = b"custody/v1/vault-manifest\0";
/// Tag (a str16 after the policy) of the optional manifest field recording when a confirmed
/// rotate-master last replaced the master key.
pub const MANIFEST_MASTER_ROTATED_TAG: &str = "master_rotated";
/// Master secret lengths accepted (bytes). SLIP-39 requires at least 16 and an even length; the upper bound matches our SLIP-39 layer (1024 bits, twice the longest BIP-32 seed).
pub const MIN_SECRET_LEN: usize = 16;
/// Longest master secret accepted, in bytes (see [`MIN_SECRET_LEN`]).
pub const MAX_SECRET_LEN: usize = 128;
/// Length of a master secret made by `custody init`.
pub const INIT_SECRET_LEN: usize = 32;

/// Prefix of a credential entry's canonical bytes (its SHA-256 is what a ratification signs).
pub const CREDENTIAL_DOMAIN: &[u8] = b"custody/v1/credential\0";
/// Prefix of the bytes the credential ratification signature covers.
pub const RATIFICATION_DOMAIN: &[u8] = b"custody/v1/credential-manifest\0";
/// Prefix of the agent access policy's canonical bytes (its SHA-256 is what a ratification
/// signs; shares-format.md, "Agent access policy").
pub const AGENT_ACCESS_DOMAIN: &[u8] = b"custody/v1/agent-access\0";
/// Tag (a str16 after the ratified entries) of the optional ratification-manifest field
/// carrying the SHA-256 of the ratified agent access policy.
pub const RATIFICATION_AGENT_ACCESS_TAG: &str = "agent_access";
/// The request rate a rule of the agent access policy allows when none is given.
pub const DEFAULT_AGENT_RATE_PER_MINUTE: u32 = 60;
/// The highest request rate a rule may allow (10 000 a second).
pub const MAX_AGENT_RATE_PER_MINUTE: u32 = 600_000;
/// The most rules an agent access policy (ratified, or proposed) may hold.
pub const MAX_AGENT_RULES: usize = 1000;
/// The most credentials one rule of the agent access policy may name.
pub const MAX_AGENT_RULE_CREDENTIALS: usize = 256;
/// The longest executable path a rule may name, in bytes (Linux `PATH_MAX` less its NUL).
pub const MAX_AGENT_EXE_LEN: usize = 4095;
/// The longest systemd unit name a rule may name, in bytes (systemd's own limit).
pub const MAX_AGENT_UNIT_LEN: usize = 255;
/// Tag (a str16 after the rules) of the optional extension of the agent access policy's
/// canonical bytes that carries each rule's signing-proxy terms; present only when some rule
/// has terms other than the defaults, so that a policy without any keeps the digest it had.
pub const AGENT_ACCESS_TERMS_TAG: &str = "proxy_terms";
/// The highest orders-a-second limit a rule's proxy terms may set (the agent's highest request
/// rate, [`MAX_AGENT_RATE_PER_MINUTE`], spread over a minute).
pub const MAX_AGENT_ORDERS_PER_SECOND: u32 = 10_000;
/// The highest orders-a-minute limit a rule's proxy terms may set (as
/// [`MAX_AGENT_RATE_PER_MINUTE`]).
pub const MAX_AGENT_ORDERS_PER_MINUTE: u32 = 600_000;
/// The most symbols a rule's proxy terms may allow (none: any symbol).
pub const MAX_AGENT_RULE_SYMBOLS: usize = 256;
/// The longest exchange symbol a rule may allow, in ASCII characters.
pub const MAX_AGENT_SYMBOL_LEN: usize = 40;
/// The most significant digits before the point of a notional, price, quantity or quote
/// amount the proxy terms compare (leading zeros do not count).
pub const MAX_DECIMAL_INTEGER_DIGITS: usize = 18;
/// The most significant digits after the point of such a decimal (trailing zeros do not
/// count).
pub const MAX_DECIMAL_FRACTION_DIGITS: usize = 18;
/// `custody_credential` value of the sealed plaintext JSON.
pub const SEALED_CREDENTIAL_VERSION: u32 = 1;
/// First line of the `<vault>.generation` sidecar (rollback detection).
pub const GENERATION_SIDECAR_HEADER: &str = "custody-vault-generation/1";

/// `format` field of an audit log's ceremony start record (`<vault>.audit`).
pub const AUDIT_FORMAT: &str = "custody-audit/1";
/// Prefix of the message a successful ceremony's audit record signature covers (followed by
/// u64 seq, the 32-byte `prev` hash and SHA-256 of the record's body line).
pub const AUDIT_SIGNATURE_DOMAIN: &[u8] = b"custody/v1/audit-record\0";
/// Prefix of the bytes the vault's audit anchor signature covers (followed by the vault id,
/// u64 seq, the 32-byte line hash and u64 time).
pub const AUDIT_ANCHOR_DOMAIN: &[u8] = b"custody/v1/audit-anchor\0";
/// `format` field of a drill certificate.
pub const CERTIFICATE_FORMAT: &str = "custody-drill-certificate/1";
/// Prefix of a drill certificate's canonical signed bytes.
pub const CERTIFICATE_SIGNATURE_DOMAIN: &[u8] = b"custody/v1/drill-certificate\0";

/// Prefix of the bytes a pending custodian change's signatures cover (`reshare` /
/// `rotate-master` waiting for `confirm`; shares-format.md, "Epochs and pending changes").
pub const PENDING_CHANGE_SIGNATURE_DOMAIN: &[u8] = b"custody/v1/pending-change\0";

/// The largest share input read from a file (a share file, a token, words, or a photo or scan
/// of a sheet): 64 MiB, above any phone photo or 600 dpi page scan, far below what would
/// exhaust memory.
pub const MAX_SHARE_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// First line of a binary age file (age-encryption.org/v1): a share delivered to its
/// custodian's own age recipient starts with these bytes (shares-format.md, "Delivered shares").
pub const AGE_BINARY_MAGIC: &[u8] = b"age-encryption.org/v1\n";
/// First line of an ASCII-armored age file (C2SP age.md, "ASCII armor"): a delivered share
/// re-armored with `age -a` (or pasted into a mail) starts with it, after optional whitespace;
/// so do a remote ceremony's envelope and a sealed credential.
pub const AGE_ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
/// Last line of an ASCII-armored age file.
pub const AGE_ARMOR_END: &str = "-----END AGE ENCRYPTED FILE-----";
/// Extension appended to a delivered share file or sheet: `03-carol.pdf` -> `03-carol.pdf.age`.
pub const DELIVERED_EXTENSION: &str = "age";
/// The largest `--deliver-file` read (custodian name and age recipient per line): 64 KiB.
pub const MAX_DELIVER_FILE_BYTES: u64 = 64 * 1024;
/// The largest age identity file read for `--identity`: 64 KiB (one native identity is 74
/// bytes; a file may hold several, with comments).
pub const MAX_IDENTITY_FILE_BYTES: u64 = 64 * 1024;

/// The largest vault file custody reads or writes: 16 MiB. A credential's secret fields are at
/// most [`MAX_SECRET_FIELDS_BYTES`] (about 90 KiB once sealed and armored, with its metadata),
/// so this holds over 170 credentials of the largest size, thousands of ordinary ones; a vault
/// that would be larger is not written.
pub const MAX_VAULT_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The most a credential's secret fields may hold together, in bytes (and the most credential
/// JSON custody parses): room for a PEM private key and a few API strings.
pub const MAX_SECRET_FIELDS_BYTES: u64 = 64 * 1024;

/// The largest audit log (`<vault>.audit`) custody reads whole (`audit verify`, `audit show`,
/// `audit repair`): 64 MiB, some 200 000 records (about 300 MiB of memory to verify).
/// Appending reads only the log's end, so ceremonies are recorded whatever its size.
pub const MAX_AUDIT_LOG_BYTES: u64 = 64 * 1024 * 1024;

// --- Remote ceremony (shares-format.md, "Remote ceremony") ---

/// Text form of a ceremony code: this prefix, then the code bytes in unpadded base64url.
pub const REMOTE_CODE_TEXT_PREFIX: &str = "custody-ceremony:";
/// First four bytes of every ceremony code.
pub const REMOTE_CODE_MAGIC: [u8; 4] = *b"CCER";
/// The only ceremony code layout version this build reads and writes.
pub const REMOTE_CODE_VERSION: u8 = 1;
/// Flag bit of a ceremony code: a signer's Ed25519 key and signature follow the expiry.
pub const REMOTE_CODE_FLAG_SIGNED: u8 = 0x01;
/// Every flag bit this build knows; a code with any other bit set is refused.
pub const REMOTE_CODE_KNOWN_FLAGS: u8 = REMOTE_CODE_FLAG_SIGNED;
/// Length of a ceremony's random session id, in bytes.
pub const REMOTE_SESSION_ID_LEN: usize = 16;
/// Length of the host's one-time X25519 public key, in bytes.
pub const REMOTE_HOST_KEY_LEN: usize = 32;
/// Longest purpose (the quorum command's action name, `[a-z0-9-]`), in bytes.
pub const REMOTE_MAX_PURPOSE_LEN: usize = 32;
/// Length of a ceremony code without purpose and trailer: magic, version, flags, session id,
/// host key, vault id, epoch, purpose length byte, expiry.
pub const REMOTE_CODE_FIXED_LEN: usize =
    4 + 1 + 1 + REMOTE_SESSION_ID_LEN + REMOTE_HOST_KEY_LEN + VAULT_ID_LEN + 4 + 1 + 8;
/// Longest ceremony code in bytes: the fixed part, the longest purpose and the signature
/// trailer (signer key and signature).
pub const REMOTE_MAX_CODE_LEN: usize =
    REMOTE_CODE_FIXED_LEN + REMOTE_MAX_PURPOSE_LEN + PUBLIC_KEY_LEN + SIGNATURE_LEN;
/// Longest ceremony code text (prefix and base64url of the longest code); longer text is
/// refused before it is decoded.
pub const MAX_CODE_TEXT_LEN: usize =
    REMOTE_CODE_TEXT_PREFIX.len() + (REMOTE_MAX_CODE_LEN * 4).div_ceil(3);
/// Prefix of the bytes a ceremony code's signature covers (followed by the code bytes up to
/// the trailer, flags byte included).
pub const REMOTE_CODE_SIGNATURE_DOMAIN: &[u8] = b"custody/v1/ceremony-code\0";
/// Prefix hashed with the whole ceremony code (trailer included) to form the comparison phrase.
pub const REMOTE_PHRASE_DOMAIN: &[u8] = b"custody/v1/ceremony-phrase\0";
/// Words in the comparison phrase (8 SLIP-39 words = 80 bits).
pub const REMOTE_PHRASE_WORDS: usize = 8;
/// First four bytes of an envelope's plaintext.
pub const REMOTE_ENVELOPE_MAGIC: [u8; 4] = *b"CENV";
/// The only envelope plaintext layout version this build reads and writes.
pub const REMOTE_ENVELOPE_VERSION: u8 = 1;
/// Length of an envelope's random id (what makes each envelope open only once), in bytes.
pub const REMOTE_ENVELOPE_ID_LEN: usize = 16;
/// Longest envelope plaintext: magic, version, envelope id, session id, host key, vault id,
/// epoch, purpose with its length byte, expiry, token length (u16) and the longest token.
pub const REMOTE_MAX_ENVELOPE_PLAINTEXT_LEN: usize = 4
    + 1
    + REMOTE_ENVELOPE_ID_LEN
    + REMOTE_SESSION_ID_LEN
    + REMOTE_HOST_KEY_LEN
    + VAULT_ID_LEN
    + 4
    + 1
    + REMOTE_MAX_PURPOSE_LEN
    + 8
    + 2
    + MAX_TOKEN_LEN;
/// Largest envelope text (age armor) a host reads: about four times the longest envelope
/// (some 1000 characters), far below what would cost memory or time.
pub const MAX_ENVELOPE_TEXT_LEN: usize = 4096;
/// How long a ceremony code stays valid unless the host says otherwise: 30 minutes.
pub const REMOTE_DEFAULT_LIFETIME_SECS: u64 = 30 * 60;
/// Prefix of a host's public key in text (`custody-host:` + base64url without padding of the
/// 32-byte Ed25519 key; shares-format.md, "Host key file").
pub const HOST_PUBLIC_PREFIX: &str = "custody-host:";
/// Prefix of a host key file's secret line (`custody-host-key:` + base64url without padding of
/// the 32-byte Ed25519 seed).
pub const HOST_SECRET_PREFIX: &str = "custody-host-key:";
/// The largest host key file custody reads (the file holds two short lines), and the largest
/// host public key text or file `hosts add` reads.
pub const MAX_HOST_KEY_FILE_BYTES: u64 = 4096;
/// Prefix of the known-hosts set's canonical bytes (its SHA-256 is what a ratification signs;
/// shares-format.md, "Known hosts").
pub const KNOWN_HOSTS_DOMAIN: &[u8] = b"custody/v1/known-hosts\0";
/// Tag (a str16 after the agent access field, if any) of the optional ratification-manifest
/// field carrying the SHA-256 of the ratified known-hosts set.
pub const RATIFICATION_KNOWN_HOSTS_TAG: &str = "known_hosts";
/// The most hosts the known-hosts set (ratified, or proposed) may hold.
pub const MAX_KNOWN_HOSTS: usize = 256;
