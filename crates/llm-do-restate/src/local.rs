//! [`LocalServer`]: a Restate server started on loopback for development, tests and benches,
//! from the official npm package's binary (`npm install @restatedev/restate-server`).

use crate::error::DurableError;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// The environment variable naming the `restate-server` binary for tests and benches.
pub const SERVER_ENV: &str = "LLM_DO_TEST_RESTATE_SERVER";

/// A `restate-server` process on loopback ports of its own, with its data in a directory of
/// its own. Killed when dropped, with everything it started (its process group); on Linux the
/// kernel also kills it when the process that started it dies, even by `SIGKILL`
/// ([`llm_do_process::guard`]; the signal is tied to the thread that called
/// [`start`](Self::start)).
///
/// The npm package's `restate-server` command is a Node script that starts the platform's
/// binary from a sibling package and does not pass `SIGKILL` on: killing the script left the
/// server running. When the path given is that script, the binary is started directly.
pub struct LocalServer {
    child: Child,
    ingress: String,
    admin: String,
}

impl LocalServer {
    /// The binary named by [`SERVER_ENV`], else the one `npm install --prefix
    /// ~/.cache/llm-do/restate @restatedev/restate-server` puts there, if either exists.
    pub fn find_binary() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(SERVER_ENV).filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(path));
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        let path = cache.join("llm-do/restate/node_modules/.bin/restate-server");
        path.is_file().then_some(path)
    }

    /// Starts `binary` with its data under `dir` and waits (at most 60 s) until its admin API
    /// answers. The ports are free loopback ports picked here.
    pub async fn start(binary: &Path, dir: &Path) -> Result<Self, DurableError> {
        let binary = &native_binary(binary);
        let ports = free_ports(4)?;
        let addr = |p: u16| format!("127.0.0.1:{p}");
        let log = std::fs::File::create(dir.join("restate-server.log"))
            .map_err(|e| DurableError::Start(format!("{}: {e}", dir.display())))?;
        let log2 = log.try_clone().map_err(|e| DurableError::Start(e.to_string()))?;
        let mut command = Command::new(binary);
        // Its own process group, killed whole; on Linux the kernel kills it when this process
        // dies, even by SIGKILL (no drop runs then).
        llm_do_process::guard(command.as_std_mut());
        let child = command
            .arg("--no-logo")
            .arg("--listen-mode")
            .arg("tcp")
            .arg("--base-dir")
            .arg(dir.join("data"))
            .env("RESTATE_BIND_ADDRESS", addr(ports[0]))
            .env("RESTATE_ADVERTISED_ADDRESS", format!("http://{}", addr(ports[0])))
            .env("RESTATE_INGRESS__BIND_ADDRESS", addr(ports[1]))
            .env("RESTATE_ADMIN__BIND_ADDRESS", addr(ports[2]))
            .env("RESTATE_ADMIN__QUERY_ENGINE__PGSQL_BIND_ADDRESS", addr(ports[3]))
            .env("RESTATE_NODE_NAME", "llm-do-local")
            // Quick retries: a restarted service is found again within a second.
            .env("RESTATE_DEFAULT_RETRY_POLICY__INITIAL_INTERVAL", "100ms")
            .env("RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL", "500ms")
            .env("DO_NOT_TRACK", "1")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| DurableError::Start(format!("{}: {e}", binary.display())))?;
        let mut server = Self {
            child,
            ingress: format!("http://{}", addr(ports[1])),
            admin: format!("http://{}", addr(ports[2])),
        };
        server.wait_ready(Duration::from_secs(60), dir).await?;
        Ok(server)
    }

    async fn wait_ready(&mut self, limit: Duration, dir: &Path) -> Result<(), DurableError> {
        let http = llm_do_openai::http::client();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(DurableError::Start(format!(
                    "restate-server exited ({status}); see {}",
                    dir.join("restate-server.log").display()
                )));
            }
            let admin = http
                .get(format!("{}/health", self.admin))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            let ingress = http
                .get(format!("{}/restate/health", self.ingress))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if matches!((&admin, &ingress), (Ok(a), Ok(i)) if a.status().is_success() && i.status().is_success())
            {
                return Ok(());
            }
            if started.elapsed() > limit {
                return Err(DurableError::Start(format!(
                    "restate-server did not answer within {limit:?}; see {}",
                    dir.join("restate-server.log").display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The ingress URL (runs, approvals).
    pub fn ingress_url(&self) -> &str {
        &self.ingress
    }

    /// The admin URL (deployments).
    pub fn admin_url(&self) -> &str {
        &self.admin
    }

    /// The server's process id (`None` once it has been waited for).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// A client of this server.
    pub fn client(&self) -> crate::Client {
        crate::Client::new(self.ingress.clone()).admin(self.admin.clone())
    }

    /// Stops the server (kill, with its process group) and waits for it.
    pub async fn stop(mut self) {
        self.kill_group();
        let _ = self.child.kill().await;
    }

    fn kill_group(&self) {
        if let Some(pid) = self.child.id() {
            llm_do_process::kill_group(pid);
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// The platform's `restate-server` binary when `given` is the npm package's Node launcher
/// (`node_modules/@restatedev/restate-server/lib/index.js`, which `.bin/restate-server` links
/// to), else `given`.
fn native_binary(given: &Path) -> PathBuf {
    let Ok(real) = std::fs::canonicalize(given) else { return given.to_owned() };
    let scope = real.parent().and_then(Path::parent).and_then(Path::parent);
    let Some(scope) = scope.filter(|s| s.file_name().is_some_and(|n| n == "@restatedev")) else {
        return given.to_owned();
    };
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    };
    let native = scope.join(format!("restate-server-{os}-{arch}/bin/restate-server"));
    if real.extension().is_some_and(|e| e == "js") && native.is_file() {
        native
    } else {
        given.to_owned()
    }
}

/// `n` distinct free loopback ports (bound together, then released).
fn free_ports(n: usize) -> Result<Vec<u16>, DurableError> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(|e| DurableError::Start(format!("no free port: {e}")))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()
        .map_err(|e| DurableError::Start(e.to_string()))
}
