//! The `wayfare` binary. `main` only parses the command line and hands over
//! to the command; everything it wires lives in the library modules.

use std::process::ExitCode;

use clap::Parser;
use wayfare_server::cli::{Cli, run};

/// mimalloc, not glibc's allocator: under load the runtime allocates and
/// frees many short-lived JSON values and strings across threads, and a
/// profile of `wayfare serve` at 180 plans/s put about 30% of all CPU time
/// in glibc's malloc and free (`scripts/loadgen.sh` measures the gain).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // 8 MiB stacks, not tokio's 2 MiB: rendering a trip's page on the
    // server nests deeply (Leptos's typed views), and an unoptimised build
    // overflowed 2 MiB rendering a ready 3-day plan.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(8 * 1024 * 1024)
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
