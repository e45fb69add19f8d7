//! Builds web/ (Vite) into web/dist when it is missing or older than its sources, so that `cargo build` on a fresh
//! clone yields a binary with the widget in it. Needs Node.js 20+ and npm; says so clearly when they are absent.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

fn newest(path: &Path) -> SystemTime {
    let Ok(meta) = std::fs::metadata(path) else {
        return SystemTime::UNIX_EPOCH;
    };
    let mut time = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if meta.is_dir()
        && let Ok(entries) = std::fs::read_dir(path)
    {
        for entry in entries.flatten() {
            time = time.max(newest(&entry.path()));
        }
    }
    time
}

fn npm(web: &Path, args: &[&str]) {
    let status = Command::new("npm").args(args).current_dir(web).status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`npm {}` failed in {} ({s}); see its output above",
            args.join(" "),
            web.display()
        ),
        Err(e) => panic!(
            "Kefu's web UI is built with npm, which could not be run ({e}). Install Node.js 20 or newer \
             (it brings npm), then build again."
        ),
    }
}

fn main() {
    let web = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../web");
    let inputs = [
        "src",
        "widget",
        "app",
        "scripts",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "vite.loader.config.ts",
        "vite.app.config.ts",
        "tsconfig.json",
    ];
    for input in inputs {
        println!("cargo:rerun-if-changed={}", web.join(input).display());
    }
    println!("cargo:rerun-if-changed={}", web.join("dist/.built").display());
    let stamp = web.join("dist/.built");
    let sources = inputs
        .iter()
        .map(|i| newest(&web.join(i)))
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let built = std::fs::metadata(&stamp).and_then(|m| m.modified()).ok();
    if built.is_some_and(|b| b >= sources) {
        return;
    }
    if !web.join("node_modules/.package-lock.json").exists()
        || newest(&web.join("package-lock.json")) > newest(&web.join("node_modules/.package-lock.json"))
    {
        npm(&web, &["ci", "--no-audit", "--no-fund"]);
    }
    npm(&web, &["run", "build"]);
    std::fs::write(&stamp, b"built by crates/kefu-web/build.rs\n").expect("write web/dist/.built");
}
