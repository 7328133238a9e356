//! Tidy checks that run as tests: every Rust file says what it is for in a `//!` line.

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "target" || name == "node_modules" || name.to_string_lossy().starts_with('.')
            {
                continue;
            }
            if path.is_dir() {
                rust_files(&path, found);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                found.push(path);
            }
        }
    }

    #[test]
    fn every_rust_file_opens_with_a_summary() {
        let root = crate::project_root();
        let mut files = Vec::new();
        rust_files(&root, &mut files);
        assert!(
            files.len() > 10,
            "found only {} Rust files under {}",
            files.len(),
            root.display()
        );
        let missing: Vec<String> = files
            .iter()
            .filter(|path| {
                let text = std::fs::read_to_string(path).unwrap_or_default();
                !text
                    .lines()
                    .find(|line| !line.trim().is_empty())
                    .is_some_and(|line| line.starts_with("//!"))
            })
            .map(|path| {
                path.strip_prefix(&root)
                    .unwrap_or(path)
                    .display()
                    .to_string()
            })
            .collect();
        assert!(
            missing.is_empty(),
            "these files lack a `//!` summary line: {missing:?}"
        );
    }
}
