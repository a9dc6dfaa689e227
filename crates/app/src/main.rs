//! `shanzhi`: the single binary. `serve`, `demo`, `migrate`, `admin create`, `audit verify`, `audit checkpoints`,
//! `backup`, `import`.

mod cli_audit;
mod cli_import;
mod demo;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use shanzhi_domain::role::Role;
use shanzhi_store::accounts::{NewAccount, NewBinding};
use shanzhi_store::{Actor, DbConfig, Store};

#[derive(Parser)]
#[command(
    name = "shanzhi",
    version,
    about = "善治 — 双报到、双报告、双服务 management for a district"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// Data directory (SQLite database, key file, demo account list).
    #[arg(
        long,
        global = true,
        env = "SHANZHI_DATA_DIR",
        default_value = "./data"
    )]
    data_dir: PathBuf,
    /// Database URL: `postgres://…` for PostgreSQL; a SQLite path that must exist; default: SQLite in the data dir.
    #[arg(
        long,
        global = true,
        env = "SHANZHI_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Address to listen on.
    #[arg(
        long,
        global = true,
        env = "SHANZHI_BIND",
        default_value = "127.0.0.1:8080"
    )]
    bind: String,
    /// Mark cookies Secure (set when users reach the service over HTTPS).
    #[arg(long, global = true, env = "SHANZHI_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Reverse proxy address whose X-Forwarded-For is believed (repeat, or comma-separate in the variable).
    #[arg(
        long = "trusted-proxy",
        global = true,
        env = "SHANZHI_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Background job workers in this process (imports run on them; several instances may share one database).
    #[arg(long, global = true, env = "SHANZHI_JOB_WORKERS", default_value_t = 2)]
    job_workers: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve,
    /// Create demo data if the data directory is empty, print the demo accounts, and serve.
    Demo(DemoArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Administrator tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Audit log tasks.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Bulk import of members or units from .xlsx/.csv (as the district operator).
    Import {
        /// members or units
        #[arg(value_parser = ["members", "units"])]
        kind: String,
        /// The file to import.
        #[arg(required_unless_present = "template", conflicts_with = "template")]
        file: Option<PathBuf>,
        /// Write only the valid rows when other rows have errors (default: all or nothing).
        #[arg(long)]
        valid_only: bool,
        /// Write the import template to this file (.xlsx or .csv) instead of importing.
        #[arg(long, value_name = "FILE")]
        template: Option<PathBuf>,
    },
    /// Personal-data key tasks.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Consistent online copy of the SQLite database.
    Backup {
        /// Where to write the copy (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args)]
struct DemoArgs {
    /// Password for every demo account.
    #[arg(long, env = "SHANZHI_DEMO_PASSWORD", hide_env_values = true)]
    demo_password: Option<String>,
    /// `small` (a few places and people) or `district` (12 towns, 300 communities, 3,000 grids, 2,000 units, 50,000 members).
    #[arg(long, default_value = "small", value_parser = ["small", "district"])]
    scale: String,
    /// Create the data and exit without serving.
    #[arg(long)]
    no_serve: bool,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account with one role.
    Create {
        #[arg(long)]
        username: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// district_admin, town_admin, community_admin, grid_leader, unit_admin, member, resident, security_admin, auditor
        #[arg(long)]
        role: String,
        /// Code of the place the role is bound to (district, town, community or grid as the role needs).
        #[arg(long)]
        place_code: Option<String>,
        /// Unit id (for unit_admin).
        #[arg(long)]
        unit_id: Option<i64>,
        /// Member id (for member).
        #[arg(long)]
        member_id: Option<i64>,
        /// Password; a strong random one is generated and printed when omitted.
        #[arg(long, env = "SHANZHI_ADMIN_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new encryption key and make it the one new values use; values written before stay readable.
    /// Restart running instances afterwards (and copy the key file to every instance sharing the database).
    Rotate,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Seal pending rows, then check the hash chain and every signed checkpoint; name each problem found.
    Verify {
        /// Also compare with checkpoints exported earlier by `audit checkpoints --out` (finds deleted ones).
        #[arg(long, value_name = "FILE")]
        checkpoints: Option<PathBuf>,
    },
    /// Export the signed checkpoints (JSON lines, public key included) to a file the database administrator
    /// cannot write; an existing file is checked against the database and appended to.
    Checkpoints {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHANZHI_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("错误: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误: {}", one_line(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn open(common: &Common) -> anyhow::Result<Store> {
    let config = DbConfig {
        data_dir: common.data_dir.clone(),
        database_url: common.database_url.clone(),
    };
    Ok(Store::open(&config).await?)
}

async fn serve(common: &Common, store: Store) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&common.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", common.bind))?;
    let addr = listener.local_addr()?;
    println!("善治 serving on http://{addr}/ ({:?})", store.backend());
    if store.demo_mode().await? {
        eprintln!(
            "注意: 演示模式 — 管理员登录不需要二次验证,请勿用于真实数据 (demo mode: no second factor for admins)"
        );
    }
    if shanzhi_domain::activation::sms_enabled(
        store.get_setting("activation_sms").await?.as_deref(),
    ) {
        // This binary has no SMS provider plugged in (`shanzhi_web::app_with_sms`): codes reach only the log.
        tracing::warn!(
            "activation_sms is on, but no SMS provider is configured: activation codes are only written to the log"
        );
    }
    let sealer = cli_audit::spawn_sealer(store.clone());
    // The job runner: claims queued jobs (imports) from the database, also those left by a stopped instance.
    let runner = shanzhi_imports::job::register(shanzhi_store::runner::Runner::new(
        store.clone(),
        shanzhi_store::runner::RunnerConfig {
            workers: common.job_workers.max(1),
            // SQLite has one writer connection: a heartbeat waits while an import writes its rows in one
            // transaction, so the lease is longer there (an interrupted job is still seen within a minute).
            lease: match store.backend() {
                shanzhi_store::Backend::Sqlite => std::time::Duration::from_secs(45),
                shanzhi_store::Backend::Postgres => std::time::Duration::from_secs(20),
            },
            ..Default::default()
        },
    ))
    .start();
    let served = shanzhi_web::serve(
        listener,
        store.clone(),
        shanzhi_web::WebConfig {
            secure_cookies: common.secure_cookies,
            trusted_proxies: common.trusted_proxies.clone(),
            ..Default::default()
        },
    )
    .await;
    eprintln!("正在停止后台任务 (stopping job workers)…");
    runner.shutdown().await;
    sealer.abort();
    served?;
    // Seal what the last requests and jobs wrote.
    store.seal_audit().await?;
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let common = cli.common;
    match cli.command {
        Command::Serve => {
            let store = open(&common).await?;
            if store.count_accounts().await? == 0 {
                eprintln!(
                    "提示: 还没有任何账号。请先运行 `shanzhi admin create …`,或用 `shanzhi demo` 体验演示数据。"
                );
            }
            serve(&common, store).await?;
        }
        Command::Migrate => {
            let store = open(&common).await?;
            println!("migrations applied ({:?})", store.backend());
        }
        Command::Demo(args) => {
            let store = open(&common).await?;
            let password = args
                .demo_password
                .unwrap_or_else(|| demo::DEFAULT_PASSWORD.to_string());
            shanzhi_domain::password::check_policy(&password)
                .map_err(|c| anyhow::anyhow!("--demo-password: {}", c.message()))?;
            let accounts = demo::ensure(&store, &password, &args.scale).await?;
            store.seal_audit().await?;
            let list_path = common.data_dir.join("demo-accounts.json");
            write_private(&list_path, &serde_json::to_vec_pretty(&accounts)?)?;
            println!(
                "演示账号 (password: {password}) — also in {}:",
                list_path.display()
            );
            for a in &accounts {
                println!("  {:<16} {:<16} {}", a.username, a.role, a.scope);
            }
            if !args.no_serve {
                serve(&common, store).await?;
            }
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    username,
                    name,
                    role,
                    place_code,
                    unit_id,
                    member_id,
                    password,
                },
        } => {
            let store = open(&common).await?;
            let role =
                Role::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role `{role}`"))?;
            let place_id = match place_code {
                Some(code) => Some(
                    store
                        .place_by_code(&code)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("no place with code `{code}`"))?
                        .id(),
                ),
                None => None,
            };
            let (password, generated) = match password {
                Some(p) => (p, false),
                None => (shanzhi_secure::password::initial_password(), true),
            };
            shanzhi_domain::password::check_policy(&password)
                .map_err(|c| anyhow::anyhow!("{}", c.message()))?;
            let hash = shanzhi_secure::password::hash(&password)?;
            let account = NewAccount {
                display_name: name.unwrap_or_else(|| username.clone()),
                username: username.clone(),
                mobile: None,
                password_hash: hash,
                member_id: member_id.map(shanzhi_domain::MemberId),
                bindings: vec![NewBinding {
                    role,
                    place_id,
                    unit_id: unit_id.map(shanzhi_domain::UnitId),
                    member_id: member_id.map(shanzhi_domain::MemberId),
                }],
                // The operator chose this password for the person it is for; they change it at first login.
                must_change_password: true,
            };
            store
                .create_account(&Actor::system("cli"), &account)
                .await
                .map_err(|e| match e {
                    shanzhi_store::StoreError::Fields(f) => anyhow::anyhow!(
                        "{}",
                        f.0.iter()
                            .map(|x| format!("{}: {}", x.field, x.message))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    other => other.into(),
                })?;
            store.seal_audit().await?;
            println!("account `{username}` created with role {}", role.as_str());
            if generated {
                println!("initial password: {password}");
            }
        }
        Command::Audit {
            command: AuditCommand::Verify { checkpoints },
        } => {
            let store = open(&common).await?;
            return cli_audit::verify(&store, checkpoints.as_deref()).await;
        }
        Command::Audit {
            command: AuditCommand::Checkpoints { out },
        } => {
            let store = open(&common).await?;
            return cli_audit::export(&store, &out).await;
        }
        Command::Import {
            kind,
            file,
            valid_only,
            template,
        } => {
            let kind = shanzhi_imports::Kind::parse(&kind)
                .ok_or_else(|| anyhow::anyhow!("unknown kind `{kind}`"))?;
            if let Some(path) = template {
                return cli_import::write_template(kind, &path);
            }
            let Some(file) = file else {
                anyhow::bail!("FILE is required");
            };
            let store = open(&common).await?;
            let code = cli_import::run(&store, kind, &file, valid_only).await;
            store.seal_audit().await?;
            return code;
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let config = DbConfig {
                data_dir: common.data_dir.clone(),
                database_url: common.database_url.clone(),
            };
            let kid = shanzhi_secure::Vault::rotate(&config.key_file())?;
            println!("new key `{kid}` is now used for new values; restart running instances");
        }
        Command::Backup { out } => {
            let store = open(&common).await?;
            store.backup_to(&out).await?;
            println!("backup written to {}", out.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a file only its owner can read (0600), replacing any earlier one: the demo account list names the password.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // An older file keeps its mode when reopened: make it private too.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.write_all(bytes)?;
    Ok(())
}
