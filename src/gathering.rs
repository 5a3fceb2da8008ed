//! The quorum ceremony as pure logic, without any terminal: custodians present shares one after
//! another; each is checked on the spot against the vault ([`quorum::check_share`]) and against
//! the shares already accepted (same set, not presented twice), and the ceremony tracks who has
//! presented and how far each group is ("Ops 2 of 3, Board complete — 1 of 2 groups complete").
//! [`WordEntry`] takes a share's words one at a time, completing unambiguous prefixes, so a
//! custodian can type their sheet without a single word being shown back.
//!
//! Nothing here reconstructs the master secret: [`Gathering::into_shares`] hands the accepted
//! shares to [`quorum::unlock`]. Every buffer that holds share words is zeroized on drop.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::input::Presented;
use crate::quorum::{self, Member, ShareProblem};
use crate::slip39::{self, Share, Slip39Error};
use crate::vault::Vault;

/// How far one group is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupProgress {
    /// The group's name, from the vault's policy (or the accepted shares' tokens).
    pub name: String,
    /// Shares of this group accepted so far.
    pub have: usize,
    /// Shares of this group needed (`None`: not known yet, no vault and no share of it seen).
    pub need: Option<usize>,
    /// Whether the group has as many shares as it needs.
    pub complete: bool,
}

impl fmt::Display for GroupProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.need {
            _ if self.complete => write!(f, "{} complete", self.name),
            Some(need) => write!(f, "{} {} of {}", self.name, self.have, need),
            None => write!(f, "{} {} of ?", self.name, self.have),
        }
    }
}

/// What became of one presented share.
#[derive(Debug)]
pub enum Outcome {
    /// The share belongs here; `progress` is the summary line after accepting it.
    Accepted {
        /// Whose share it is; its label now reads `<custodian>'s <label>`.
        member: Member,
        /// The ceremony's [`Gathering::summary_line`] with this share counted.
        progress: String,
    },
    /// The share was not kept (and was wiped); `reason` says why, for the officers, and
    /// `problem` is the typed reason when the share does not belong to the vault.
    Rejected {
        /// Why the share was not kept, in a sentence for the officers.
        reason: String,
        /// The vault check's verdict; `None` when the share clashes with shares already
        /// accepted (another set, or a custodian presented twice).
        problem: Option<ShareProblem>,
    },
}

/// The gathering of shares in a terminal ceremony: the accepted shares, in the order they were
/// presented. (Not [`crate::audit::Ceremony`], which is the audit record of one ceremony.)
pub struct Gathering<'v> {
    vault: Option<&'v Vault>,
    accepted: Vec<(Presented, Member)>,
}

impl fmt::Debug for Gathering<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gathering")
            .field("presented", &self.presented())
            .finish_non_exhaustive()
    }
}

/// Number of words of a share whose value is `value_len` bytes (20 for 128 bits, 33 for 256).
pub fn words_for_value_len(value_len: usize) -> usize {
    7 + (value_len * 8).div_ceil(10)
}

impl<'v> Gathering<'v> {
    /// A ceremony for `vault` (or, without one, for plain SLIP-39 shares).
    pub fn new(vault: Option<&'v Vault>) -> Self {
        Gathering {
            vault,
            accepted: Vec::new(),
        }
    }

    /// Check one share and keep it, or say why not. A rejected share is dropped (wiped) here.
    /// `p.label` says how it was presented ("pasted token", a file path); an accepted share is
    /// relabelled "`<custodian>'s <label>`" so that every later message names its holder.
    pub fn present(&mut self, mut p: Presented) -> Outcome {
        let reject = |reason: String| Outcome::Rejected {
            reason,
            problem: None,
        };
        let mut member = match self.vault {
            Some(v) => match quorum::check_share(&p, v) {
                Ok(m) => m,
                Err(problem) => {
                    return Outcome::Rejected {
                        reason: format!("this share does not belong here: {problem}"),
                        problem: Some(problem),
                    };
                }
            },
            None => quorum::member_without_vault(&p),
        };
        // One rule for "same set" (slip39::check_consistent, via set_difference), against every
        // share accepted so far.
        if let Some((m, what)) = self
            .accepted
            .iter()
            .find_map(|(q, m)| Some((m, quorum::set_difference(q, &p)?)))
        {
            return reject(format!(
                "this share is from a different share set than {}'s (their {what} differs): \
                 use shares of one vault and one epoch only",
                m.custodian
            ));
        }
        let s = &p.share;
        for (q, m) in &self.accepted {
            if q.share.group_index == s.group_index && q.share.member_index == s.member_index {
                let same: bool = q.share.value.as_slice().ct_eq(s.value.as_slice()).into();
                if same && quorum::is_copy(self.vault.is_some(), q, m, &p, &member) {
                    // Another holder's copy of a group's one share: kept (it names its holder
                    // in the record) but counted once.
                    continue;
                }
                return reject(if same {
                    format!("{}'s share was already presented", m.custodian)
                } else {
                    format!(
                        "it claims to be {}'s share, but a different share of {} was already \
                         accepted: one of the two is damaged or forged; check both against the \
                         printed sheets",
                        m.custodian, m.custodian
                    )
                });
            }
        }
        p.label = format!("{}'s {}", member.custodian, p.label);
        member.label = p.label.clone();
        self.accepted.push((p, member.clone()));
        Outcome::Accepted {
            member,
            progress: self.summary_line(),
        }
    }

    /// Per group: how many shares are in, how many are needed. With a vault every group of the
    /// policy is listed; without one, the groups seen so far.
    pub fn progress(&self) -> Vec<GroupProgress> {
        let count = |gi: u8| self.counted().filter(|p| p.share.group_index == gi).count();
        let mut out = Vec::new();
        match self.vault {
            Some(v) => {
                for (gi, g) in v.policy().groups.iter().enumerate() {
                    let have = count(gi as u8);
                    let need = usize::from(g.member_threshold);
                    out.push(GroupProgress {
                        name: g.name.clone(),
                        have,
                        need: Some(need),
                        complete: have >= need,
                    });
                }
            }
            None => {
                let mut seen: Vec<u8> = self
                    .accepted
                    .iter()
                    .map(|(p, _)| p.share.group_index)
                    .collect();
                seen.sort_unstable();
                seen.dedup();
                for gi in seen {
                    let (p, m) = self
                        .accepted
                        .iter()
                        .find(|(p, _)| p.share.group_index == gi)
                        .expect("group seen");
                    let have = count(gi);
                    let need = usize::from(p.share.member_threshold);
                    out.push(GroupProgress {
                        name: m.group.clone(),
                        have,
                        need: Some(need),
                        complete: have >= need,
                    });
                }
            }
        }
        out
    }

    /// The accepted shares that count: a copy of a share already accepted (another holder's
    /// copy of a group's one share) counts once.
    fn counted(&self) -> impl Iterator<Item = &Presented> {
        self.accepted.iter().enumerate().filter_map(|(i, (p, _))| {
            let earlier = self.accepted[..i].iter().any(|(q, _)| {
                q.share.group_index == p.share.group_index
                    && q.share.member_index == p.share.member_index
            });
            (!earlier).then_some(p)
        })
    }

    /// When several holders of one group's share presented their copies: one sentence per
    /// group ("frank's and gina's copies of group Board's one share are the same share:
    /// presented together they count once"), joined; `None` when no copy was presented twice.
    pub fn copies_note(&self) -> Option<String> {
        let mut notes: Vec<quorum::CountedOnce> = Vec::new();
        for (i, (p, m)) in self.accepted.iter().enumerate() {
            let first = self.accepted[..i].iter().find(|(q, _)| {
                q.share.group_index == p.share.group_index
                    && q.share.member_index == p.share.member_index
            });
            let Some((q, mq)) = first else { continue };
            match notes
                .iter_mut()
                .find(|n| n.group_index == p.share.group_index)
            {
                Some(n) => {
                    n.holders.push(m.custodian.clone());
                    n.labels.push(p.label.clone());
                }
                None => notes.push(quorum::CountedOnce {
                    group: mq.group.clone(),
                    group_index: p.share.group_index,
                    holders: vec![mq.custodian.clone(), m.custodian.clone()],
                    labels: vec![q.label.clone(), p.label.clone()],
                }),
            }
        }
        (!notes.is_empty()).then(|| {
            notes
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Groups complete, groups needed, groups in all (`None` before the first share when
    /// there is no vault).
    pub fn groups(&self) -> (usize, Option<usize>, Option<usize>) {
        let complete = self.progress().iter().filter(|g| g.complete).count();
        match (self.vault, self.accepted.first()) {
            (Some(v), _) => (
                complete,
                Some(usize::from(v.policy().group_threshold)),
                Some(v.policy().groups.len()),
            ),
            (None, Some((p, _))) => (
                complete,
                Some(usize::from(p.share.group_threshold)),
                Some(usize::from(p.share.group_count)),
            ),
            (None, None) => (0, None, None),
        }
    }

    /// One line for the officers: "Ops 2 of 3, Board complete — 1 of 2 groups complete" (the
    /// group count is left out when there is a single group).
    pub fn summary_line(&self) -> String {
        let groups = self.progress();
        if groups.is_empty() {
            return "no shares yet".into();
        }
        let mut line = groups
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if let (complete, Some(need), Some(total)) = self.groups()
            && total > 1
        {
            line.push_str(&format!(
                " — {complete} of {total} groups complete, {need} needed"
            ));
        }
        line
    }

    /// Whether enough groups are complete to attempt reconstruction.
    pub fn is_ready(&self) -> bool {
        match self.groups() {
            (complete, Some(need), _) => complete >= need,
            _ => false,
        }
    }

    /// Who has presented, in order (custodian names).
    pub fn presented(&self) -> Vec<String> {
        self.accepted
            .iter()
            .map(|(_, m)| m.custodian.clone())
            .collect()
    }

    /// The accepted shares' members, in order.
    pub fn members(&self) -> Vec<Member> {
        self.accepted.iter().map(|(_, m)| m.clone()).collect()
    }

    /// How many words a typed share should have, once it is known: from the first accepted
    /// share (every share of a set has the same length).
    pub fn expected_words(&self) -> Option<usize> {
        self.accepted
            .first()
            .map(|(p, _)| words_for_value_len(p.share.value.len()))
    }

    /// Whether more shares were presented than the quorum strictly needs (so a cross-check
    /// means something beyond the SLIP-39 digest).
    pub fn has_extra_shares(&self) -> bool {
        let (complete, need, _) = self.groups();
        let extra_members = self
            .progress()
            .iter()
            .any(|g| g.need.is_some_and(|n| g.have > n));
        extra_members || need.is_some_and(|n| complete > n)
    }

    /// Check that the accepted shares fit together (SLIP-39 digest, and every extra share on the
    /// same polynomial as the rest) without decrypting the master secret. `Err` names the
    /// shares at fault. Call it only when [`Gathering::is_ready`].
    pub fn cross_check(&self) -> Result<(), Disagreement> {
        // A copy of a share already accepted is the same share: it is checked once.
        let counted: Vec<&Presented> = self.counted().collect();
        let shares: Vec<Share> = counted.iter().map(|p| p.share.clone()).collect();
        match slip39::recover_ems(&shares) {
            Ok(_ems) => Ok(()),
            Err(Slip39Error::InconsistentShares { shares, .. }) => Err(Disagreement::Outliers {
                labels: shares
                    .iter()
                    .filter_map(|&i| counted.get(i))
                    .map(|p| p.label.clone())
                    .collect(),
            }),
            Err(Slip39Error::DigestMismatch { group_index }) => Err(Disagreement::Digest {
                group: group_index.and_then(|gi| {
                    self.accepted
                        .iter()
                        .find(|(p, _)| p.share.group_index == gi)
                        .map(|(_, m)| m.group.clone())
                }),
            }),
            Err(e) => Err(Disagreement::Other(e)),
        }
    }

    /// Take back the share(s) a custodian presented (for example one the cross-check named;
    /// the name as typed matches once both are in NFC). Returns how many were removed; they
    /// are wiped.
    pub fn withdraw(&mut self, custodian: &str) -> usize {
        let before = self.accepted.len();
        self.accepted
            .retain(|(_, m)| !crate::custodian_name::same(&m.custodian, custodian));
        before - self.accepted.len()
    }

    /// The accepted shares, in order, for [`quorum::unlock`].
    pub fn into_shares(self) -> Vec<Presented> {
        self.accepted.into_iter().map(|(p, _)| p).collect()
    }
}

/// Why a typed word was not taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WordProblem {
    /// Neither a SLIP-39 word nor the start of one.
    Unknown {
        /// 1-based position of the word in the share.
        position: usize,
    },
    /// Several words start with what was typed; `candidates` is how many.
    Ambiguous {
        /// 1-based position of the word in the share.
        position: usize,
        /// How many SLIP-39 words start with what was typed.
        candidates: usize,
    },
    /// The share already has the most words a share can have.
    TooMany,
}

impl fmt::Display for WordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WordProblem::Unknown { position } => write!(
                f,
                "word {position} is not a SLIP-39 word; check its spelling on the sheet and type it again"
            ),
            WordProblem::Ambiguous {
                position,
                candidates,
            } => write!(
                f,
                "word {position}: {candidates} words start like that; type at least its first four letters"
            ),
            WordProblem::TooMany => write!(
                f,
                "the share already has {} words, the most a share can have; type `done`",
                slip39::MAX_WORDS
            ),
        }
    }
}

/// A word taken by [`WordEntry::push`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WordTaken {
    /// 1-based position of the word in the share.
    pub position: usize,
    /// A prefix was completed to the one word it starts.
    pub completed: bool,
}

/// One share typed word by word. Holds only word indices, in a zeroizing buffer.
pub struct WordEntry {
    indices: Zeroizing<Vec<u16>>,
    expected: Option<usize>,
}

impl fmt::Debug for WordEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WordEntry")
            .field("words", &self.indices.len())
            .field("expected", &self.expected)
            .finish()
    }
}

/// The word list index of `typed`: the exact word, or the only word it is a prefix of.
fn resolve(typed: &str, position: usize) -> Result<(u16, bool), WordProblem> {
    if let Some(i) = slip39::word_index(typed) {
        return Ok((i, false));
    }
    let candidates = slip39::complete_prefix(typed);
    match candidates.as_slice() {
        [] => Err(WordProblem::Unknown { position }),
        [only] => {
            let i = slip39::word_index(only).ok_or(WordProblem::Unknown { position })?;
            Ok((i, true))
        }
        many => Err(WordProblem::Ambiguous {
            position,
            candidates: many.len(),
        }),
    }
}

impl WordEntry {
    /// A new, empty share. `expected`: the word count, when the ceremony already knows it.
    pub fn new(expected: Option<usize>) -> Self {
        WordEntry {
            indices: Zeroizing::new(Vec::with_capacity(slip39::MAX_WORDS + 1)),
            expected,
        }
    }

    /// Words typed so far.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether no word has been taken yet.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The expected word count, if known.
    pub fn expected(&self) -> Option<usize> {
        self.expected
    }

    /// Take the next word, or an unambiguous prefix of it (case does not matter).
    pub fn push(&mut self, typed: &str) -> Result<WordTaken, WordProblem> {
        let position = self.indices.len() + 1;
        if self.indices.len() >= slip39::MAX_WORDS {
            return Err(WordProblem::TooMany);
        }
        let typed = typed.trim();
        if typed.is_empty() {
            return Err(WordProblem::Unknown { position });
        }
        let (index, completed) = resolve(typed, position)?;
        self.indices.push(index);
        Ok(WordTaken {
            position,
            completed,
        })
    }

    /// Replace word `position` (1-based) with `typed` (a word or unambiguous prefix).
    pub fn replace(&mut self, position: usize, typed: &str) -> Result<WordTaken, WordProblem> {
        if position == 0 || position > self.indices.len() {
            return Err(WordProblem::Unknown { position });
        }
        let (index, completed) = resolve(typed.trim(), position)?;
        self.indices[position - 1] = index;
        Ok(WordTaken {
            position,
            completed,
        })
    }

    /// Remove the last word; returns how many words remain, or `None` if there were none.
    pub fn undo(&mut self) -> Option<usize> {
        let last = self.indices.pop()?;
        let _ = last;
        Some(self.indices.len())
    }

    /// Whether the words typed so far already form a whole share: the expected count is
    /// reached, or (count unknown) 20 or 33 words carry a valid checksum. Only then should a
    /// front end call [`WordEntry::finish`] on its own; otherwise it waits for "done".
    pub fn looks_complete(&self) -> bool {
        let n = self.indices.len();
        match self.expected {
            Some(e) => n >= e,
            None => {
                n == slip39::MAX_WORDS
                    || ((n == words_for_value_len(16) || n == words_for_value_len(32))
                        && Share::from_indices(&self.indices).is_ok())
            }
        }
    }

    /// Decode the share (word count, RS1024 checksum, padding). On a checksum error the
    /// [`Slip39Error::InvalidChecksum`] suggestion names the one word that would fix it.
    pub fn finish(&self) -> Result<Share, Slip39Error> {
        if let Some(e) = self.expected
            && self.indices.len() != e
            && !self.indices.is_empty()
        {
            return Err(if self.indices.len() < e {
                Slip39Error::TooFewWords {
                    have: self.indices.len(),
                    min: e,
                }
            } else {
                Slip39Error::TooManyWords {
                    have: self.indices.len(),
                    max: e,
                }
            });
        }
        Share::from_indices(&self.indices)
    }
}

/// Why the accepted shares of a ready [`Gathering`] do not fit together.
#[derive(Debug, PartialEq, Eq)]
pub enum Disagreement {
    /// These shares (input labels) disagree with the rest, which are consistent.
    Outliers {
        /// The labels of the shares at fault.
        labels: Vec<String>,
    },
    /// The SLIP-39 digest check failed: at least one share is damaged or forged.
    Digest {
        /// The group whose shares failed, when one can be named.
        group: Option<String>,
    },
    /// The shares could not be combined for another reason.
    Other(Slip39Error),
}

impl std::fmt::Display for Disagreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Disagreement::Outliers { labels } => write!(
                f,
                "{} {} not agree with the rest of the quorum: damaged, forged, or from another \
                 set. The others are consistent; leave {} out",
                labels.join(", "),
                if labels.len() == 1 { "does" } else { "do" },
                if labels.len() == 1 { "it" } else { "them" },
            ),
            Disagreement::Digest { group } => write!(
                f,
                "the shares{} do not fit together (the SLIP-39 digest check failed): at least \
                 one is damaged or forged",
                group
                    .as_ref()
                    .map(|g| format!(" of group {g}"))
                    .unwrap_or_default()
            ),
            Disagreement::Other(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Disagreement {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Disagreement::Other(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Source, parse_text};
    use crate::testkit::{TestVault, test_vault};
    use crate::token::Token;

    /// A vault with `groups` (name, threshold, members) and signed tokens for every member.
    fn fixture(seed: u64, groups: &[(&str, u8, &[&str])], group_threshold: u8) -> TestVault {
        test_vault(seed as u8 + 1, seed as u8, seed, groups, group_threshold)
    }

    fn single() -> TestVault {
        fixture(
            7,
            &[("custodians", 3, &["alice", "bob", "carol", "dave"])],
            1,
        )
    }

    fn two_groups() -> TestVault {
        fixture(
            9,
            &[
                ("Ops", 2, &["alice", "bob", "carol"]),
                ("Board", 1, &["dave"]),
            ],
            2,
        )
    }

    fn token(label: &str, t: &Token) -> Presented {
        parse_text(label, &t.to_text()).unwrap()
    }

    fn words(label: &str, s: &Share) -> Presented {
        parse_text(label, &s.to_words()).unwrap()
    }

    fn accepted(o: Outcome) -> (Member, String) {
        match o {
            Outcome::Accepted { member, progress } => (member, progress),
            Outcome::Rejected { reason, .. } => panic!("rejected: {reason}"),
        }
    }

    fn rejected(o: Outcome) -> String {
        match o {
            Outcome::Accepted { member, .. } => panic!("accepted {member:?}"),
            Outcome::Rejected { reason, .. } => reason,
        }
    }

    #[test]
    fn accepts_and_tracks_one_group() {
        let f = single();
        let mut c = Gathering::new(Some(&f.vault));
        assert_eq!(c.summary_line(), "custodians 0 of 3");
        assert!(!c.is_ready());
        let (m, line) = accepted(c.present(token("pasted token", &f.tokens[0][0])));
        assert_eq!(m.custodian, "alice");
        assert_eq!(m.label, "alice's pasted token");
        assert_eq!(line, "custodians 1 of 3");
        accepted(c.present(words("typed words", &f.tokens[0][2].share)));
        assert!(!c.is_ready());
        let (_, line) = accepted(c.present(token("sheet.png", &f.tokens[0][1])));
        assert_eq!(line, "custodians complete");
        assert!(c.is_ready());
        assert!(!c.has_extra_shares());
        assert_eq!(c.presented(), ["alice", "carol", "bob"]);
        assert_eq!(c.expected_words(), Some(33));
        assert_eq!(c.cross_check(), Ok(()));
        let shares = c.into_shares();
        assert_eq!(shares.len(), 3);
        assert_eq!(shares[1].source, Source::Words);
        let un = quorum::unlock(&shares, Some(&f.vault), None).unwrap();
        assert_eq!(un.members.len(), 3);
    }

    #[test]
    fn progress_over_two_groups() {
        let f = two_groups();
        let mut c = Gathering::new(Some(&f.vault));
        assert_eq!(
            c.summary_line(),
            "Ops 0 of 2, Board 0 of 1 — 0 of 2 groups complete, 2 needed"
        );
        accepted(c.present(token("t", &f.tokens[1][0])));
        let (m, line) = accepted(c.present(token("t", &f.tokens[0][1])));
        assert_eq!((m.custodian.as_str(), m.group.as_str()), ("bob", "Ops"));
        assert_eq!(m.member_number, 2);
        assert_eq!(
            line,
            "Ops 1 of 2, Board complete — 1 of 2 groups complete, 2 needed"
        );
        assert!(!c.is_ready());
        let p = c.progress();
        assert_eq!(
            p[0],
            GroupProgress {
                name: "Ops".into(),
                have: 1,
                need: Some(2),
                complete: false
            }
        );
        assert_eq!(c.groups(), (1, Some(2), Some(2)));
        let (_, line) = accepted(c.present(token("t", &f.tokens[0][2])));
        assert_eq!(
            line,
            "Ops complete, Board complete — 2 of 2 groups complete, 2 needed"
        );
        assert!(c.is_ready());
        assert_eq!(c.presented(), ["dave", "bob", "carol"]);
        quorum::unlock(&c.into_shares(), Some(&f.vault), None).unwrap();
    }

    #[test]
    fn duplicates_are_refused_by_name() {
        let f = single();
        let mut c = Gathering::new(Some(&f.vault));
        accepted(c.present(token("pasted token", &f.tokens[0][0])));
        let why = rejected(c.present(words("typed words", &f.tokens[0][0].share)));
        assert_eq!(why, "alice's share was already presented");
        assert_eq!(c.presented(), ["alice"]);
    }

    #[test]
    fn conflicting_share_for_one_custodian_is_refused() {
        let f = single();
        let mut c = Gathering::new(Some(&f.vault));
        accepted(c.present(token("t", &f.tokens[0][0])));
        let mut forged = f.tokens[0][0].share.clone();
        forged.value[0] ^= 1;
        let why = rejected(c.present(words("typed words", &forged)));
        assert!(why.contains("different share of alice"), "{why}");
    }

    #[test]
    fn foreign_and_other_set_shares_are_refused_with_reason() {
        let f = single();
        let other = fixture(
            8,
            &[("custodians", 3, &["alice", "bob", "carol", "dave"])],
            1,
        );
        let mut c = Gathering::new(Some(&f.vault));
        let why = rejected(c.present(token("t", &other.tokens[0][0])));
        assert!(why.contains("signed by the key with fingerprint"), "{why}");
        let why = rejected(c.present(words("w", &other.tokens[0][0].share)));
        assert!(why.contains("identifier"), "{why}");
        assert!(c.presented().is_empty());
        // Without a vault, the first share decides the set.
        let mut c = Gathering::new(None);
        accepted(c.present(words("w", &f.tokens[0][0].share)));
        let why = rejected(c.present(words("w", &other.tokens[0][1].share)));
        assert!(why.contains("different share set than member 1's"), "{why}");
    }

    #[test]
    fn without_a_vault_progress_comes_from_the_shares() {
        let f = two_groups();
        let mut c = Gathering::new(None);
        assert_eq!(c.summary_line(), "no shares yet");
        let (m, line) = accepted(c.present(words("typed words", &f.tokens[0][0].share)));
        assert_eq!(m.custodian, "member 1");
        assert_eq!(line, "#1 1 of 2 — 0 of 2 groups complete, 2 needed");
        let (_, line) = accepted(c.present(token("t", &f.tokens[1][0])));
        assert_eq!(
            line,
            "#1 1 of 2, Board complete — 1 of 2 groups complete, 2 needed"
        );
    }

    #[test]
    fn extra_inconsistent_share_is_named() {
        let f = single();
        let mut c = Gathering::new(Some(&f.vault));
        for i in 0..3 {
            accepted(c.present(token("pasted token", &f.tokens[0][i])));
        }
        assert!(!c.has_extra_shares());
        // dave's share typed from a damaged copy: value altered but checksum recomputed.
        let mut bad = f.tokens[0][3].share.clone();
        bad.value[5] ^= 0x40;
        accepted(c.present(words("typed words", &bad)));
        assert!(c.has_extra_shares());
        let why = c.cross_check().unwrap_err();
        assert_eq!(
            why,
            Disagreement::Outliers {
                labels: vec!["dave's typed words".into()]
            }
        );
        assert!(
            why.to_string()
                .starts_with("dave's typed words does not agree"),
            "{why}"
        );
        let shares = c.into_shares();
        match quorum::unlock(&shares, Some(&f.vault), None) {
            Err(quorum::QuorumError::Inconsistent { labels }) => {
                assert_eq!(labels, ["dave's typed words"])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn withdraw_removes_a_custodian() {
        let f = single();
        let mut c = Gathering::new(Some(&f.vault));
        accepted(c.present(token("t", &f.tokens[0][0])));
        accepted(c.present(token("t", &f.tokens[0][1])));
        assert_eq!(c.withdraw("alice"), 1);
        assert_eq!(c.withdraw("alice"), 0);
        assert_eq!(c.presented(), ["bob"]);
        // A name typed in NFD (as some keyboards give it) withdraws the NFC-stored custodian.
        let f = fixture(7, &[("custodians", 2, &["Zoë", "bob"])], 1);
        let mut c = Gathering::new(Some(&f.vault));
        accepted(c.present(token("t", &f.tokens[0][0])));
        assert_eq!(c.withdraw("Zoe\u{308}"), 1);
    }

    fn typed(s: &Share) -> Vec<String> {
        s.to_words().split(' ').map(String::from).collect()
    }

    #[test]
    fn word_entry_completes_prefixes_and_finishes() {
        let f = single();
        let share = &f.tokens[0][1].share;
        let list = typed(share);
        assert_eq!(list.len(), 33);
        let mut e = WordEntry::new(None);
        for (i, w) in list.iter().enumerate() {
            assert!(!e.looks_complete());
            let input = if i % 2 == 0 {
                w[..4.min(w.len())].to_uppercase()
            } else {
                w.clone()
            };
            let t = e.push(&input).unwrap();
            assert_eq!(t.position, i + 1);
            assert_eq!(t.completed, i % 2 == 0 && w.len() > 4);
        }
        assert!(e.looks_complete());
        let got = e.finish().unwrap();
        assert_eq!(got.to_words(), share.to_words());
    }

    #[test]
    fn word_entry_unknown_ambiguous_undo() {
        let mut e = WordEntry::new(Some(33));
        assert_eq!(e.undo(), None);
        assert_eq!(e.push("zzzz"), Err(WordProblem::Unknown { position: 1 }));
        match e.push("ac") {
            Err(WordProblem::Ambiguous {
                position: 1,
                candidates,
            }) => assert!(candidates > 1),
            other => panic!("{other:?}"),
        }
        // "academic" is the only word starting "acad".
        assert_eq!(
            e.push("acad"),
            Ok(WordTaken {
                position: 1,
                completed: true
            })
        );
        e.push("acid").unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e.undo(), Some(1));
        assert_eq!(e.push("acid").unwrap().position, 2);
        let msg = WordProblem::Unknown { position: 3 }.to_string();
        assert!(!msg.contains("zzzz"));
        // Too few words for the expected count.
        assert!(matches!(
            e.finish(),
            Err(Slip39Error::TooFewWords { have: 2, min: 33 })
        ));
    }

    #[test]
    fn word_entry_checksum_error_suggests_the_word() {
        let f = single();
        let share = &f.tokens[0][0].share;
        let list = typed(share);
        let mut e = WordEntry::new(Some(33));
        for (i, w) in list.iter().enumerate() {
            if i == 9 {
                let wrong = if w == "academic" { "acid" } else { "academic" };
                e.push(wrong).unwrap();
            } else {
                e.push(w).unwrap();
            }
        }
        assert!(e.looks_complete());
        match e.finish() {
            Err(Slip39Error::InvalidChecksum {
                suggestion: Some((10, word)),
            }) => assert_eq!(word, list[9]),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("accepted a wrong checksum"),
        }
        e.replace(10, &list[9]).unwrap();
        assert_eq!(e.finish().unwrap().to_words(), share.to_words());
    }

    #[test]
    fn word_count_from_secret_length() {
        assert_eq!(words_for_value_len(16), 20);
        assert_eq!(words_for_value_len(32), 33);
    }
}
