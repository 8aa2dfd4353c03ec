//! The `wayfare-loadgen` binary: parses the command line and runs the
//! benchmark (everything else lives in the library, which the server's
//! black-box tests also use).

use std::process::ExitCode;

use clap::Parser;
use wayfare_loadgen::{LoadgenArgs, run};

fn main() -> ExitCode {
    let args = LoadgenArgs::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
