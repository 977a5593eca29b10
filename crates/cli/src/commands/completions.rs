//! `leakhunt completions SHELL` and `leakhunt man [COMMAND]`: generated from the clap
//! definitions, so they never disagree with `--help`.

use anyhow::{bail, Result};
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::output::print_text;
use crate::EXIT_CLEAN;

pub fn completions(args: &CompletionsArgs) -> Result<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "leakhunt", &mut out);
    print_text(&String::from_utf8(out)?)?;
    Ok(EXIT_CLEAN)
}

/// The page of `leakhunt`, or of one subcommand (`leakhunt-hunt(1)`), as roff.
pub fn man(args: &ManArgs) -> Result<u8> {
    let root = Cli::command();
    let page = match &args.command {
        None => root,
        Some(name) => {
            let Some(sub) = root.find_subcommand(name) else {
                let names: Vec<_> = root
                    .get_subcommands()
                    .filter(|c| !c.is_hide_set())
                    .map(|c| c.get_name().to_string())
                    .collect();
                bail!("no command '{name}' (one of {})", names.join(", "));
            };
            // The page's title and its usage line name the full command.
            let full = format!("leakhunt-{}", sub.get_name());
            sub.clone()
                .name(full)
                .bin_name(format!("leakhunt {}", sub.get_name()))
                .version(root.get_version().unwrap_or_default().to_string())
        }
    };
    print_text(&man_page(page)?)?;
    Ok(EXIT_CLEAN)
}

/// clap_mangen's sections, but the examples (the command's `after_help`) kept as written:
/// its extra section would run them together into one paragraph.
fn man_page(page: clap::Command) -> Result<String> {
    let examples = page.get_after_help().map(|h| h.to_string());
    let has_subcommands = page.get_subcommands().any(|c| !c.is_hide_set());
    let man = clap_mangen::Man::new(page);
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    if has_subcommands {
        man.render_subcommands_section(&mut out)?;
    }
    if let Some(text) = examples {
        let text = text.strip_prefix("Examples:\n").unwrap_or(&text);
        let mut section = roff::Roff::new();
        section.control("SH", ["EXAMPLES"]).control("nf", []);
        for line in text.lines() {
            section.text([roff::roman(line)]);
        }
        section.control("fi", []);
        section.to_writer(&mut out)?;
    }
    man.render_version_section(&mut out)?;
    Ok(String::from_utf8(out)?)
}
