//! The examples at the end of each command's `--help` (the commands officers actually type),
//! and the exit codes at the end of `custody --help`. Every example is parsed by the tests
//! (`conventions_tests.rs`), so none of them can drift from the arguments.

/// After `custody --help`: the exit codes and where to start.
pub const TOP: &str = "\
Exit codes:
  0  success
  1  refused, or a check did not pass (a share, the vault, the audit log, a certificate)
  2  usage error: the command line asks for something inconsistent
  exec: the program's own exit status; 128+N when it was ended by signal N

Start with `custody demo`, then `custody <command> --help` for examples.";

/// `custody init`.
pub const INIT: &str = "\
Examples:
  # 3 of 5 custodians, sheets as share files and PDFs in shares/
  custody init --vault fund.json --out-dir shares --threshold 3 --custodian alice bob carol dave erin
  # Two groups, both needed: Board (frank) and Ops (2 of alice, bob, carol); Letter PDFs and PNGs
  custody init --vault fund.json --out-dir shares --group Board:1 --group Ops:2 --group-threshold 2 --custodian Board/frank Ops/alice Ops/bob Ops/carol --sheets txt,pdf,png --paper letter
  # Protect the shares with a SLIP-39 passphrase as well (asked twice, without echo)
  custody init --vault fund.json --out-dir shares --threshold 2 --custodian alice bob carol --passphrase-prompt";

/// `custody check-share`.
pub const CHECK_SHARE: &str = "\
Accepted inputs (any mix, one per argument):
  share file (.txt written by custody), token file (custody-share:...), words of one share,
  photo or scan of a sheet (PNG or JPEG), custody's own PDF sheet, - for standard input

Examples:
  custody check-share --vault fund.json shares/01-alice.txt
  custody check-share --vault fund.json shares/02-bob.pdf photo-of-carols-sheet.jpg";

/// `custody drill`.
pub const DRILL: &str = "\
Examples:
  # At the terminal: custodians present their shares one after another
  custody drill --vault fund.json
  # From files, with a certificate checked later by verify-certificate
  custody drill --vault fund.json --share shares/01-alice.txt --share shares/03-carol.pdf --share bob.jpg --certificate drill-2025-q4.json
  # List the credentials added or rotated since the last quorum and sign them if the
  # quorum answers y at the terminal, so that exec may use them
  custody drill --vault fund.json --ratify
  # Custodians elsewhere: show a ceremony code and comparison phrase; paste their envelopes
  # (custody contribute) at the prompt, among the shares presented here
  custody drill --vault fund.json --remote
  # Without a terminal: alice's share here, envelopes read from inbox/ as they arrive
  custody drill --vault fund.json --remote --share shares/01-alice.txt --envelope-dir inbox
  # Without the vault: combine plain SLIP-39 shares, show the fingerprint
  custody drill --share shares/01-alice.txt --share shares/02-bob.txt --share shares/03-carol.txt";

/// `custody sheet`.
pub const SHEET: &str = "\
Examples:
  custody sheet --vault fund.json shares/01-alice.txt --format pdf -o alice.pdf
  custody sheet --vault fund.json shares/01-alice.txt --format png --paper letter -o alice.png
  custody sheet --vault fund.json shares/01-alice.txt --format terminal";

/// `custody contribute`.
pub const CONTRIBUTE: &str = "\
Examples:
  # The host shows the code (text or QR code) and reads out the comparison phrase
  custody contribute --code @ceremony.txt shares/02-bob.txt -o bob.envelope
  custody contribute --code code-photo.jpg sheet-photo.jpg --phrase 'acid bulb cover drift echo flame academic acid' -o bob.envelope
  custody contribute --code custody-ceremony:Q0NFUgEA... - --vault fund.json --phrase 'acid bulb cover drift echo flame academic acid' < shares/02-bob.txt";

/// `custody demo`.
pub const DEMO: &str = "\
Examples:
  custody demo
  custody demo --keep demo-files";

/// `custody creds add`.
pub const CREDS_ADD: &str = "\
Examples:
  # Asks for the secret fields at the terminal, without echo
  custody creds add binance-main --vault fund.json --exchange binance --scope read,trade --expires 2026-06-30
  # The secret fields as one JSON object on standard input
  custody creds add okx-main --vault fund.json --exchange okx --account sub-3 --scope trade --from-json - < okx.json";

/// `custody creds rotate`.
pub const CREDS_ROTATE: &str = "\
Examples:
  custody creds rotate binance-main --vault fund.json
  custody creds rotate binance-main --vault fund.json --expires 2026-12-31 --from-json new-key.json";

/// `custody creds list`.
pub const CREDS_LIST: &str = "\
Examples:
  custody creds list --vault fund.json
  custody creds list --vault fund.json --json";

/// `custody creds status`.
pub const CREDS_STATUS: &str = "\
Examples:
  custody creds status --vault fund.json
  custody creds status --vault fund.json --json";

/// `custody creds show`.
pub const CREDS_SHOW: &str = "\
Examples:
  custody creds show binance-main --vault fund.json
  # Break-glass: a quorum prints the secret fields
  custody creds show binance-main --vault fund.json --reveal --share shares/01-alice.txt --share shares/02-bob.txt --share shares/03-carol.txt
  custody creds show binance-main --vault fund.json --reveal --interactive --timeout 5m";

/// `custody creds remove`.
pub const CREDS_REMOVE: &str = "\
Examples:
  custody creds remove old-key --vault fund.json --interactive
  custody creds remove old-key --vault fund.json --share shares/01-alice.txt --share shares/02-bob.txt --share shares/03-carol.txt";

/// `custody creds rename`.
pub const CREDS_RENAME: &str = "\
Examples:
  custody creds rename binance binance-main --vault fund.json --interactive
  custody creds rename binance binance-main --vault fund.json --share shares/01-alice.txt --share shares/02-bob.txt --share shares/03-carol.txt";

/// `custody exec`.
pub const EXEC: &str = "\
Examples:
  # Custodians present shares at the terminal; the bot gets BINANCE_MAIN_API_KEY etc.
  custody exec --vault fund.json --cred binance-main -- python3 bot.py
  # freqtrade's variable names
  custody exec --vault fund.json --cred binance-main --env-style freqtrade -- freqtrade trade
  # The credentials as one JSON object on the program's standard input
  custody exec --vault fund.json --cred binance-main,okx-main --stdin-json --share shares/01-alice.txt --share shares/02-bob.txt --share shares/03-carol.txt -- ./bot";

/// `custody agent policy add`.
pub const AGENT_POLICY_ADD: &str = "\
Examples:
  # The bot running as uid 1001 may receive binance-main, at most 60 requests a minute
  custody agent policy add --vault fund.json --uid 1001 --cred binance-main
  # Only the program /opt/tradebot/bin/bot in tradebot.service, two credentials, 120 a minute
  custody agent policy add --vault fund.json --uid 1001 --exe /opt/tradebot/bin/bot --unit tradebot.service --cred binance-main,okx-hedge --rate 120/min
  # Through the signing proxy: at most 5 orders a second, on two symbols, each worth at most 50000
  custody agent policy add --vault fund.json --uid 1001 --cred binance-main --orders-per-second 5 --symbols BTCUSDT,ETHUSDT --max-notional 50000
  # A treasury bot that may also withdraw (the proxy still needs a credential scoped withdraw)
  custody agent policy add --vault fund.json --uid 1002 --cred treasury --allow-withdraw
  # Then a quorum ratifies the change
  custody drill --vault fund.json --ratify";

/// `custody agent policy remove`.
pub const AGENT_POLICY_REMOVE: &str = "\
Examples:
  custody agent policy remove --vault fund.json --uid 1001
  custody agent policy remove --vault fund.json --uid 1001 --exe /opt/tradebot/bin/bot --unit tradebot.service";

/// `custody agent policy list`.
pub const AGENT_POLICY_LIST: &str = "\
Examples:
  custody agent policy list --vault fund.json
  custody agent policy list --vault fund.json --json";

/// `custody host-key new`.
pub const HOST_KEY_NEW: &str = "\
Examples:
  custody host-key new -o /etc/custody/host.key";

/// `custody host-key show`.
pub const HOST_KEY_SHOW: &str = "\
Examples:
  custody host-key show /etc/custody/host.key
  # Save the public form to hand to the officers (it holds no secret)
  custody host-key show /etc/custody/host.key > ops-laptop.host";

/// `custody hosts add`.
pub const HOSTS_ADD: &str = "\
Examples:
  custody hosts add --vault fund.json ops-laptop custody-host:6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw
  custody hosts add --vault fund.json agent-box ops-laptop.host
  # Then, at the next quorum: custody drill --vault fund.json --ratify";

/// `custody hosts remove`.
pub const HOSTS_REMOVE: &str = "\
Examples:
  custody hosts remove --vault fund.json ops-laptop";

/// `custody hosts list`.
pub const HOSTS_LIST: &str = "\
Examples:
  custody hosts list --vault fund.json
  custody hosts list --vault fund.json --json";

/// `custody audit verify`.
pub const AUDIT_VERIFY: &str = "\
Examples:
  custody audit verify --vault fund.json
  # Also require a head noted earlier (printed by this command, or on a drill certificate)
  custody audit verify --vault fund.json --anchor 42:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// `custody audit show`.
pub const AUDIT_SHOW: &str = "\
Examples:
  custody audit show --vault fund.json
  # One JSON object: every record, its event in words, the summary
  custody audit show --vault fund.json --json
  # The lines exactly as stored
  custody audit show --vault fund.json --raw";

/// `custody audit repair`.
pub const AUDIT_REPAIR: &str = "\
Examples:
  custody audit repair --vault fund.json";

/// `custody verify-certificate`.
pub const VERIFY_CERTIFICATE: &str = "\
Examples:
  custody verify-certificate drill-2025-q4.json --vault fund.json";

/// `custody reshare`.
pub const RESHARE: &str = "\
Examples:
  # The current quorum presents at the terminal; the new set is 3 of 6
  custody reshare --vault fund.json --out-dir shares-new --threshold 3 --custodian alice bob carol dave erin frank
  custody reshare --vault fund.json --share shares/01-alice.txt --share shares/02-bob.txt --share shares/03-carol.txt --out-dir shares-new --threshold 2 --custodian alice bob frank";

/// `custody rotate-master`.
pub const ROTATE_MASTER: &str = "\
Examples:
  custody rotate-master --vault fund.json --out-dir shares-new --threshold 3 --custodian alice bob carol frank gina
  custody rotate-master --vault fund.json --interactive --timeout 20m --out-dir shares-new --threshold 2 --custodian alice bob carol";

/// `custody confirm`.
pub const CONFIRM: &str = "\
Examples:
  # A threshold of the NEW sheets, printed and scanned back (photos, PDFs or share files)
  custody confirm --vault fund.json --share shares-new/01-alice.pdf --share alice-photo.jpg --share shares-new/03-carol.txt
  custody confirm --vault fund.json --interactive";

/// `custody cancel`.
pub const CANCEL: &str = "\
Examples:
  custody cancel --vault fund.json --interactive
  custody cancel --vault fund.json --share shares/01-alice.txt --share shares/02-bob.txt --share shares/03-carol.txt";

/// `custody extend`.
pub const EXTEND: &str = "\
Examples:
  custody extend --vault fund.json --custodian frank --out-dir shares-frank --interactive
  custody extend --vault fund.json --group Ops --custodian frank gina --out-dir shares-new --share shares/02-alice.txt --share shares/03-bob.txt --share shares/01-frank.txt";

/// `custody completions`.
pub const COMPLETIONS: &str = "\
Examples:
  custody completions bash > /etc/bash_completion.d/custody
  custody completions zsh > ~/.zfunc/_custody
  custody completions fish > ~/.config/fish/completions/custody.fish";

/// `custody man`.
pub const MAN: &str = "\
Examples:
  # One page per command (custody.1, custody-drill.1, custody-creds-show.1, ...)
  custody man --out-dir /usr/local/share/man/man1
  custody man | man -l -";

/// `custody agent run`.
pub const AGENT_RUN: &str = "\
Examples:
  # In the foreground (under systemd, docker or supervisord); logs go to standard error
  custody agent run --vault /srv/custody/fund.json
  # Bots of group `bots` may connect; seal after 8 hours, or after 30 idle minutes
  custody agent run --vault fund.json --socket /run/custody/agent.sock --socket-group bots --max-ttl 8h --idle-ttl 30m";

/// `custody agent unlock`.
pub const AGENT_UNLOCK: &str = "\
Examples:
  # Custodians present shares at the terminal, each checked before it is sent
  custody agent unlock --interactive
  # From share files, ratifying pending credentials and access-policy changes first
  custody agent unlock --socket /run/custody/agent.sock --share shares/01-alice.txt --share shares/02-bob.txt --ratify";

/// `custody agent seal`.
pub const AGENT_SEAL: &str = "\
Examples:
  custody agent seal
  custody agent seal --socket /run/custody/agent.sock";

/// `custody agent status`.
pub const AGENT_STATUS: &str = "\
Examples:
  custody agent status
  custody agent status --socket /run/custody/agent.sock --json";

/// `custody agent exec`.
pub const AGENT_EXEC: &str = "\
Examples:
  # No quorum: the bot gets BINANCE_MAIN_API_KEY etc. from the unlocked agent
  custody agent exec --cred binance-main -- python3 bot.py
  # freqtrade's variable names
  custody agent exec --socket /run/custody/agent.sock --cred binance-main --env-style freqtrade -- freqtrade trade
  # The credentials as one JSON object on the program's standard input
  custody agent exec --cred binance-main,okx-main --stdin-json -- ./bot";
