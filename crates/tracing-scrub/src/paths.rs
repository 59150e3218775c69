//! Source paths as reports show them: a dependency's file is named from its crate
//! directory, a toolchain file from the Rust source tree, and a home directory is `~`,
//! so the user's name and machine layout never leave the process.

use std::borrow::Cow;

/// `path` without the machine-specific part:
/// - `<CARGO_HOME>/registry/src/<index>-<hash>/tower-http-0.6.2/src/lib.rs` →
///   `tower-http-0.6.2/src/lib.rs` (Cargo's registry layout);
/// - `<CARGO_HOME>/git/checkouts/<repo>-<hash>/<rev>/src/lib.rs` →
///   `<repo>-<hash>/<rev>/src/lib.rs`;
/// - `<RUSTUP_HOME>/toolchains/<toolchain>/lib/rustlib/src/rust/library/std/src/..` →
///   `library/std/src/..` (the `rust-src` component's layout);
/// - `/home/<user>/..`, `/Users/<user>/..`, `C:\Users\<user>\..` → `~/..`.
///
/// Anything else (relative paths, `/rustc/<hash>/..`) is returned as it is. Both `/`
/// and `\` separators are understood.
pub fn short_source_path(path: &str) -> Cow<'_, str> {
    // The Windows spelling is looked for only in a path with a backslash (no allocation
    // for the others: this runs for every report's location).
    let windows = path.contains('\\');
    let unified = |marker: &str| {
        path.find(marker)
            .or_else(|| {
                windows
                    .then(|| path.find(&marker.replace('/', "\\")))
                    .flatten()
            })
            .map(|at| at + marker.len())
    };
    if let Some(after) = unified("/registry/src/") {
        // Skip the index directory (`index.crates.io-1949cf8c6b5b557f`).
        let rest = &path[after..];
        if let Some(sep) = rest.find(['/', '\\']) {
            return Cow::Borrowed(&rest[sep + 1..]);
        }
    }
    for marker in ["/git/checkouts/", "/lib/rustlib/src/rust/"] {
        if let Some(after) = unified(marker) {
            if after < path.len() {
                return Cow::Borrowed(&path[after..]);
            }
        }
    }
    for home in ["/home/", "/Users/", "C:\\Users\\", "c:\\Users\\", "/root/"] {
        if let Some(rest) = path.strip_prefix(home) {
            let rest = if home == "/root/" {
                Some(rest)
            } else {
                rest.find(['/', '\\']).map(|sep| &rest[sep + 1..])
            };
            if let Some(rest) = rest {
                return Cow::Owned(format!("~/{rest}"));
            }
        }
    }
    Cow::Borrowed(path)
}

#[cfg(test)]
mod tests {
    use super::short_source_path;

    #[test]
    fn machine_specific_prefixes_are_cut_and_other_paths_kept() {
        for (path, short) in [
            (
                "/home/alice/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tower-http-0.6.2/src/trace/on_failure.rs",
                "tower-http-0.6.2/src/trace/on_failure.rs",
            ),
            (
                "/usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/tokio-1.40.0/src/runtime/task/mod.rs",
                "tokio-1.40.0/src/runtime/task/mod.rs",
            ),
            (
                "C:\\Users\\Bob\\.cargo\\registry\\src\\index.crates.io-1949cf8c6b5b557f\\axum-0.8.1\\src\\routing\\mod.rs",
                "axum-0.8.1\\src\\routing\\mod.rs",
            ),
            (
                "/home/alice/.cargo/git/checkouts/tracing-1f2a3b4c5d6e7f80/a1b2c3d/tracing/src/span.rs",
                "tracing-1f2a3b4c5d6e7f80/a1b2c3d/tracing/src/span.rs",
            ),
            (
                "/home/alice/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/src/rust/library/std/src/panicking.rs",
                "library/std/src/panicking.rs",
            ),
            ("/home/alice/work/shared-lib/src/lib.rs", "~/work/shared-lib/src/lib.rs"),
            ("/Users/bob/code/app/src/main.rs", "~/code/app/src/main.rs"),
            ("/root/app/src/main.rs", "~/app/src/main.rs"),
        ] {
            assert_eq!(short_source_path(path), short, "{path}");
        }
        for path in [
            "src/main.rs",
            "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/panicking.rs",
            "/srv/app/src/main.rs",
            "/home",
        ] {
            assert_eq!(short_source_path(path), path);
        }
    }
}
