//! `safetynet assess` without the rest of the binary, for benchmarks:
//! `cargo run --release -p batch --example assess -- --as-of 2025-08-01 FILE > out.jsonl`

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    assess: batch::AssessArgs,
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    let all_read = batch::run_assess(&cli.assess)?;
    Ok(if all_read {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}
