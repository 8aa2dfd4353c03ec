//! The real `wayfare serve` binary as a child process, for the black-box
//! durability and hostile-input tests (`resume`, `chaos`, `hostile`): started on a database with only
//! the test's settings, and killed with SIGKILL.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wayfare_loadgen::HttpClient;

/// A `wayfare serve` child process and what it printed.
pub struct Server {
    child: Child,
    pub http: HttpClient,
    /// `127.0.0.1:PORT`, for raw sockets.
    pub addr: String,
    log: Arc<Mutex<Vec<String>>>,
    /// When the process was spawned and when it listened.
    pub spawned_at: Instant,
    pub listening_at: Instant,
}

impl Server {
    /// Starts the binary and waits until it listens. `env` adds settings
    /// (otherwise the defaults: a 30 s lease, a 1 s heartbeat).
    pub fn start(db_url: &str, dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wayfare"));
        command
            .arg("serve")
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Only this test's settings: none inherited from the environment.
        for (key, _) in std::env::vars() {
            if key.starts_with("WAYFARE_") || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command
            .env("WAYFARE_DATABASE_URL", db_url)
            .env("WAYFARE_LISTEN", "127.0.0.1:0")
            .env("WAYFARE_SITE_ROOT", dir)
            .env("WAYFARE_LOG", "info")
            .env("NO_COLOR", "1");
        for (key, value) in env {
            command.env(key, value);
        }
        let spawned_at = Instant::now();
        let mut child = command.spawn().expect("start wayfare serve");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        // Drain both pipes for the child's whole life, or it blocks on a
        // full pipe; forward the address once it is printed.
        for pipe in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let (log, tx) = (log.clone(), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Some(at) = line.find("serving on http://") {
                        let rest = &line[at + "serving on http://".len()..];
                        let addr: String =
                            rest.chars().take_while(|c| !c.is_whitespace()).collect();
                        let _ = tx.send(addr);
                    }
                    log.lock().expect("log").push(line);
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "wayfare serve did not start:\n{}",
                    log.lock().expect("log").join("\n")
                );
            }
        };
        Server {
            child,
            http: HttpClient::new(&format!("http://{addr}"), Duration::from_secs(10))
                .expect("an HTTP client"),
            addr,
            log,
            spawned_at,
            listening_at: Instant::now(),
        }
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    pub fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
