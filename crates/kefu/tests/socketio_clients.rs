//! Runs the Socket.IO client suite (tests/socketio, node:test with the official socket.io-client) against this
//! build of the `kefu` binary. Each test file starts its own server on port 0: SQLite in a temp dir, or a fresh
//! PostgreSQL database when KEFU_TEST_DATABASE_URL is set.

use std::path::PathBuf;
use std::process::Command;

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/socketio")
}

fn require(program: &str) {
    let found = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{program}` is needed to run the Socket.IO client tests: install Node.js 20 or newer"
    );
}

#[test]
fn socketio_clients_drive_the_real_server() {
    require("node");
    require("npm");
    let dir = suite_dir();
    if !dir.join("node_modules/socket.io-client").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm ci runs");
        assert!(status.success(), "npm ci failed in {}", dir.display());
    }
    let status = Command::new("node")
        .args(["--test", "--test-concurrency=2", "--test-reporter=spec"])
        .current_dir(&dir)
        .env("KEFU_BIN", env!("CARGO_BIN_EXE_kefu"))
        .status()
        .expect("node runs");
    assert!(
        status.success(),
        "the Socket.IO client suite failed (see its report above)"
    );
}
