//! `ting-client`: end-to-end encrypted Ting chat and files from the command line.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = ting_client::cli::Cli::parse();
    match ting_client::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
