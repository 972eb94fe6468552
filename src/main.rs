//! The `sigtag` binary: the command line and the demo ([`cli`]), and the
//! Concourse resource's roles when started as /opt/resource/{check,in,out}.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::string_slice,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

mod cli;

fn main() {
    // Started as /opt/resource/{check,in,out} (links to this binary)?
    if let Some(code) = sigtag::resource::main_by_name() {
        std::process::exit(code);
    }
    std::process::exit(cli::main());
}
