//! The `switchboard` binary: settings, telemetry, then `startup` runs the node.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::Secret;
use switchboard::settings::{Mode, Settings};
use switchboard::startup::Application;
use switchboard::telemetry;

/// Actor-based omnichannel conversation router for contact centers.
#[derive(Parser)]
#[command(name = "switchboard", version, about)]
struct Cli {
    /// Folder with base.toml and the mode files (default: ./config).
    #[arg(long, global = true, env = "SWITCHBOARD_CONFIG_DIR")]
    config_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the demo on 127.0.0.1: embedded SQLite store, in-process bus, demo accounts.
    Demo {
        /// HTTP port (also SWITCHBOARD_HTTP_PORT).
        #[arg(long)]
        port: Option<u16>,
        /// sqlite://PATH for the demo data file (default data/demo.db).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Run a production node from config files and SWITCHBOARD_* environment.
    Serve {
        /// HTTP port (also SWITCHBOARD_HTTP_PORT).
        #[arg(long)]
        port: Option<u16>,
        /// Also seed the demo accounts (idempotent: every node may pass it).
        #[arg(long)]
        demo_data: bool,
    },
    /// Load and validate the configuration, print a summary, and exit (systemd ExecStartPre).
    CheckConfig {
        /// Which mode's files to check.
        #[arg(long, default_value = "production")]
        mode: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let dir = cli.config_dir.unwrap_or_else(Settings::default_config_dir);
    match cli.command {
        Command::Demo { port, database_url } => {
            let mut settings = Settings::load(&dir, Mode::Demo)?;
            if let Some(port) = port {
                settings.http.port = port;
            }
            if let Some(url) = database_url {
                settings.database.url = Secret::new(url);
            }
            // The demo never listens beyond this machine.
            settings.http.host = "127.0.0.1".to_owned();
            settings.validate()?;
            run(settings)
        }
        Command::Serve { port, demo_data } => {
            let mut settings = Settings::load(&dir, Mode::Production)?;
            if let Some(port) = port {
                settings.http.port = port;
            }
            settings.demo.seed |= demo_data;
            run(settings)
        }
        Command::CheckConfig { mode } => {
            let mode = match mode.as_str() {
                "demo" => Mode::Demo,
                "production" => Mode::Production,
                other => anyhow::bail!("unknown mode '{other}' (demo or production)"),
            };
            let settings = Settings::load(&dir, mode)?;
            println!(
                "configuration OK: node {} on {}:{}, store {:?}",
                settings.node.id,
                settings.http.host,
                settings.http.port,
                settings.database.kind()?
            );
            Ok(())
        }
    }
}

fn run(settings: Settings) -> anyhow::Result<()> {
    telemetry::init_tracing(&settings.log);
    actix_web::rt::System::new().block_on(async move {
        let node = settings.node.id.clone();
        let app = Application::build(settings).await.context("starting Switchboard")?;
        tracing::info!(node = %node, port = app.port(), "Open http://127.0.0.1:{}/ (customer) and /desk (agents).", app.port());
        app.run_until_stopped().await.context("serving")?;
        tracing::info!("Switchboard stopped.");
        Ok(())
    })
}
