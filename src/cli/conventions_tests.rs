//! The command line's conventions, checked over the whole clap command tree
//! (`Cli::command()`): every argument described, one spelling for the share argument, the
//! terminal ceremony on every quorum command, examples in every command's help and the exit
//! codes in the top-level help.

use clap::{CommandFactory, Parser};

use super::Cli;

/// Every (sub)command with its full name ("custody creds show"), leaves and groups alike.
fn walk(cmd: &clap::Command, prefix: &str, out: &mut Vec<(String, clap::Command)>) {
    let name = format!("{prefix}{}", cmd.get_name());
    out.push((name.clone(), cmd.clone()));
    // clap's own `help` subcommands are not custody's.
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        walk(sub, &format!("{name} "), out);
    }
}

fn commands() -> Vec<(String, clap::Command)> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, "", &mut out);
    out
}

/// Not a command with subcommands of its own (`custody`, `creds`, `audit`).
fn is_leaf(cmd: &clap::Command) -> bool {
    !cmd.has_subcommands()
}

#[test]
fn every_argument_has_a_description() {
    let mut missing = Vec::new();
    for (name, cmd) in commands() {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{name}: {id}"));
            }
        }
    }
    assert!(missing.is_empty(), "arguments without help: {missing:#?}");
}

#[test]
fn every_share_argument_is_spelled_share() {
    let mut seen = 0;
    for (name, cmd) in commands() {
        for arg in cmd.get_arguments() {
            if arg.get_long() == Some("share") {
                seen += 1;
                let names: Vec<&str> = arg
                    .get_value_names()
                    .unwrap_or_default()
                    .iter()
                    .map(|n| n.as_str())
                    .collect();
                assert_eq!(names, ["SHARE"], "{name} --share");
            }
        }
    }
    assert!(seen >= 10, "only {seen} commands take --share");
}

#[test]
fn every_quorum_command_offers_the_terminal_ceremony() {
    for (name, cmd) in commands() {
        let longs: Vec<&str> = cmd.get_arguments().filter_map(|a| a.get_long()).collect();
        if longs.contains(&"share") {
            for needed in [
                "interactive",
                "timeout",
                "words-stdin",
                "remote",
                "envelope",
                "envelope-dir",
                "host-key",
            ] {
                assert!(longs.contains(&needed), "{name} lacks --{needed}");
            }
        }
    }
}

#[test]
fn vault_and_paper_are_described_and_paper_lists_its_values() {
    for (name, cmd) in commands() {
        for arg in cmd.get_arguments() {
            match arg.get_long() {
                Some("vault") => assert!(arg.get_help().is_some(), "{name} --vault"),
                Some("paper") => {
                    let values: Vec<String> = arg
                        .get_possible_values()
                        .iter()
                        .map(|v| v.get_name().to_owned())
                        .collect();
                    assert_eq!(values, ["a4", "letter"], "{name} --paper");
                }
                _ => {}
            }
        }
    }
}

#[test]
fn every_command_shows_examples() {
    for (name, cmd) in commands() {
        if !is_leaf(&cmd) {
            continue;
        }
        let help = cmd
            .get_after_long_help()
            .or(cmd.get_after_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(help.contains("Examples:"), "{name} has no examples");
        // Each example is a command for this very subcommand.
        let example = format!("  {name} ");
        let bare = format!("  {name}\n");
        assert!(
            help.contains(&example) || help.contains(&bare),
            "{name}'s examples do not run `{name}`:\n{help}"
        );
    }
}

#[test]
fn the_top_level_help_lists_the_exit_codes() {
    let help = Cli::command().render_long_help().to_string();
    for line in ["Exit codes:", "0  success", "1  ", "2  ", "128+N"] {
        assert!(help.contains(line), "{line:?} missing from:\n{help}");
    }
}

#[test]
fn every_example_parses() {
    for (name, cmd) in commands() {
        if !is_leaf(&cmd) {
            continue;
        }
        let help = cmd
            .get_after_long_help()
            .or(cmd.get_after_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        for line in help
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("custody "))
        {
            // Shell quoting in examples is plain: split on spaces, honouring '...'.
            let words = shell_words(line);
            if let Err(e) = Cli::try_parse_from(&words) {
                panic!("{name}: example `{line}` does not parse: {e}");
            }
        }
    }
}

/// Split an example on spaces; a '...' group is one word; `$(...)` and pipes end it.
fn shell_words(line: &str) -> Vec<String> {
    let line = line.split(" | ").next().unwrap_or(line);
    let line = line.split(" < ").next().unwrap_or(line);
    let line = line.split(" > ").next().unwrap_or(line);
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}
