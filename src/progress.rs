//! Progress of work that can take a while — writing many custodians' sheets, decoding photos
//! and scans of sheets — told step by step to whoever shows it. The library never prints: an
//! operation that can be slow takes a [`Progress`] and calls [`Progress::step`] as each step
//! begins; [`Silent`] shows nothing, and a closure `|step: Step| ...` is a `Progress` too.

/// The kind of slow work a step belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// Rendering and writing one custodian's share file and sheets.
    WritingSheets,
    /// Decoding a picture (photo or scan of a sheet) given as a share input.
    ReadingPicture,
}

/// One step beginning: item `number` (from 1) of `total`, called `subject`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step<'a> {
    /// What the work is.
    pub task: Task,
    /// This item's position, from 1.
    pub number: usize,
    /// How many items the work has.
    pub total: usize,
    /// The item: a custodian's name, or the label (path) of a share input. Text from outside
    /// custody: escape it before showing it on a terminal ([`crate::terminal_text`]).
    pub subject: &'a str,
}

/// Someone who follows slow work.
pub trait Progress {
    /// A step begins.
    fn step(&mut self, step: Step<'_>);
}

/// Shows nothing (the default).
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn step(&mut self, _: Step<'_>) {}
}

impl<F: FnMut(Step<'_>)> Progress for F {
    fn step(&mut self, step: Step<'_>) {
        self(step)
    }
}
