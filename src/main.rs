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
    /// Dry-run a rule-set file on the traffic recorded in the store between --from and --to,
    /// against the version in force; prints the report as JSON (exit 2 when the file is
    /// invalid, every problem on stderr).
    Simulate {
        /// The candidate rule set: JSON, or TOML when the name ends in .toml.
        #[arg(long)]
        rules: PathBuf,
        /// Start of the window (RFC 3339, e.g. 2026-11-24T00:00:00Z).
        #[arg(long)]
        from: chrono::DateTime<chrono::Utc>,
        /// End of the window (exclusive).
        #[arg(long)]
        to: chrono::DateTime<chrono::Utc>,
        /// Assumed patience of customers who did not abandon, in seconds.
        #[arg(long, default_value_t = 300)]
        patience_secs: u64,
        /// Which mode's configuration names the store (SWITCHBOARD_DATABASE_URL overrides).
        #[arg(long, default_value = "production")]
        mode: String,
        /// sqlite://PATH or postgres://… (default: the configuration's).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Train the knowledge-base matcher on a labelled data set (each intent one entry) and
    /// measure it: prints accuracy, macro-F1, in-scope accuracy, out-of-scope recall, query
    /// latency and training time as JSON. Lines are {"text", "intent"}; intent "oos" marks
    /// out-of-scope examples (scripts/kb_data.py converts the shared data sets).
    KbEval {
        #[arg(long)]
        train: PathBuf,
        #[arg(long)]
        test: PathBuf,
        /// Tunes the confidence threshold.
        #[arg(long)]
        dev: Option<PathBuf>,
        #[arg(long, default_value_t = 12)]
        epochs: usize,
        /// Initial SGD step; without it the step is chosen by cross-validation on TRAIN.
        #[arg(long)]
        learning_rate: Option<f32>,
        /// Keep the last SGD weights instead of averaging the later epochs.
        #[arg(long)]
        no_average: bool,
        /// Weigh every example alike, whatever the size of its entry.
        #[arg(long)]
        no_balance: bool,
    },
    /// Print the OpenAPI 3.1 document of the HTTP API, generated from the code (the one
    /// `GET /v1/openapi.json` serves); `--write docs/openapi.json` refreshes the checked-in
    /// copy.
    Openapi {
        /// Write the document to this file instead of standard output.
        #[arg(long)]
        write: Option<PathBuf>,
    },
    /// Staff accounts in the store the configuration names (the first admin of a deployment).
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Load and validate the configuration, print a summary, and exit (systemd ExecStartPre).
    CheckConfig {
        /// Which mode's files to check.
        #[arg(long, default_value = "production")]
        mode: String,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create an account (exit 1 with a message when the username exists or the password is
    /// refused). The password is read from the first line of standard input.
    Add {
        #[arg(long)]
        username: String,
        /// agent, team_lead, supervisor or admin.
        #[arg(long)]
        role: String,
        /// The name people see (default: the username).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Which mode's configuration names the store (SWITCHBOARD_DATABASE_URL overrides).
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
            refuse_demo_secrets(&settings)?;
            run(settings)
        }
        Command::Staff {
            command:
                StaffCommand::Add {
                    username,
                    role,
                    display_name,
                    password_stdin: _,
                    mode,
                },
        } => {
            let settings = Settings::load(&dir, parse_mode(&mode)?)?;
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            match staff_add(&settings, &username, &role, display_name, &password) {
                Ok(id) => {
                    println!("created {role} {username} ({id})");
                    Ok(())
                }
                Err(error) => {
                    eprintln!("switchboard staff add: {error:#}");
                    std::process::exit(1);
                }
            }
        }
        Command::Simulate {
            rules,
            from,
            to,
            patience_secs,
            mode,
            database_url,
        } => {
            let mut settings = Settings::load(&dir, parse_mode(&mode)?)?;
            if let Some(url) = database_url {
                settings.database.url = Secret::new(url);
            }
            simulate(&settings, &rules, from, to, patience_secs)
        }
        Command::KbEval {
            train,
            test,
            dev,
            epochs,
            learning_rate,
            no_average,
            no_balance,
        } => {
            use switchboard::bot::kb::eval;
            let train = eval::read_jsonl(&train)?;
            let test = eval::read_jsonl(&test)?;
            let dev = dev.map(|d| eval::read_jsonl(&d)).transpose()?;
            let defaults = switchboard::bot::kb::matcher::TrainOptions::default();
            let options = switchboard::bot::kb::matcher::TrainOptions {
                epochs,
                learning_rate: learning_rate.unwrap_or(defaults.learning_rate),
                select_step: learning_rate.is_none(),
                average: !no_average,
                balance: !no_balance,
                ..defaults
            };
            let report = eval::evaluate(&train, &test, dev.as_deref(), options);
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Command::Openapi { write } => {
            let document = switchboard::channels::openapi::json();
            match write {
                Some(path) => std::fs::write(&path, document)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{document}"),
            }
            Ok(())
        }
        Command::CheckConfig { mode } => {
            let mode = parse_mode(&mode)?;
            let settings = Settings::load(&dir, mode)?;
            if mode == Mode::Production {
                refuse_demo_secrets(&settings)?;
            }
            let flows = switchboard::bot::service::load_flows(&settings.bot)?;
            println!(
                "configuration OK: node {} on {}:{}, store {:?}",
                settings.node.id,
                settings.http.host,
                settings.http.port,
                settings.database.kind()?
            );
            println!("bot flows OK: {}", flows.iter().count());
            Ok(())
        }
    }
}

/// A production node never runs with the demo's published secrets.
fn refuse_demo_secrets(settings: &Settings) -> anyhow::Result<()> {
    let used = settings.demo_secrets_in_use();
    anyhow::ensure!(
        used.is_empty(),
        "refusing to serve with the demo's published secrets in {} (set your own; `switchboard demo` is the demo)",
        used.join(", ")
    );
    Ok(())
}

/// Creates a staff account; its id.
fn staff_add(
    settings: &Settings,
    username: &str,
    role: &str,
    display_name: Option<String>,
    password: &str,
) -> anyhow::Result<String> {
    use switchboard::domain::{Agent, AgentId, Language, Role};
    let role = Role::parse(role).map_err(|_| {
        anyhow::anyhow!("unknown role '{role}' (agent, team_lead, supervisor or admin)")
    })?;
    anyhow::ensure!(
        (2..=64).contains(&username.chars().count())
            && username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
        "a username is 2 to 64 letters, digits, '.', '_' or '-'"
    );
    let problems = switchboard::auth::password_problems(password, username);
    anyhow::ensure!(problems.is_empty(), "{}", problems.join("; "));
    let display_name = display_name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| username.to_owned());
    let password_hash = switchboard::auth::hash_password(password)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = switchboard::startup::open_store(settings).await?;
        anyhow::ensure!(
            store.agent_by_username(username).await?.is_none(),
            "the username '{username}' exists"
        );
        let id = store
            .upsert_agent(&Agent {
                id: AgentId::generate(),
                username: username.to_owned(),
                display_name,
                role,
                skills: Vec::new(),
                languages: vec![Language::Zh, Language::En],
                capacity: if role == Role::Agent { 3 } else { 0 },
                voice_capacity: None,
                ticket_capacity: None,
                password_hash,
            })
            .await?;
        Ok(id.to_string())
    })
}

fn parse_mode(mode: &str) -> anyhow::Result<Mode> {
    match mode {
        "demo" => Ok(Mode::Demo),
        "production" => Ok(Mode::Production),
        other => anyhow::bail!("unknown mode '{other}' (demo or production)"),
    }
}

fn simulate(
    settings: &Settings,
    path: &std::path::Path,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
    patience_secs: u64,
) -> anyhow::Result<()> {
    use switchboard::routing::rules::{self, RuleSetDoc};
    use switchboard::routing::simulate::{dry_run_from_store, SimSettings};
    anyhow::ensure!(from < to, "--from must be before --to");
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: RuleSetDoc = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).with_context(|| format!("{} is not a rule set", path.display()))?
    } else {
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a rule set", path.display()))?
    };
    let sim = SimSettings::from_routing(&settings.routing, patience_secs.saturating_mul(1000));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = switchboard::startup::open_store(settings).await?;
        let known = store.skill_names().await?;
        if let Err(problems) = rules::compile(&doc, &known) {
            for problem in &problems {
                eprintln!("{}: {}", problem.path, problem.message);
            }
            std::process::exit(2);
        }
        let (report, baseline) = dry_run_from_store(store.as_ref(), sim, doc, from, to).await?;
        let mut body = serde_json::to_value(&report)?;
        if let Some(object) = body.as_object_mut() {
            object.insert("baseline_version".to_owned(), serde_json::json!(baseline));
            object.insert("from".to_owned(), serde_json::json!(from));
            object.insert("to".to_owned(), serde_json::json!(to));
        }
        println!("{}", serde_json::to_string_pretty(&body)?);
        anyhow::Ok(())
    })
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
