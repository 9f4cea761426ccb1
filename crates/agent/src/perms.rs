//! The warning about secrets other users can read: a profile that holds a secret inline, a
//! `…_file` secret and the TLS client key should be readable by their owner only (mode 0600).
//! Loading continues (the device may be single-user), but the warning says which file and the
//! command that fixes it. The warning never quotes the secret.

use std::path::{Path, PathBuf};

use crate::profile::Profile;

/// The files holding secrets that group or others can read, each with a warning line naming
/// the file, its mode and `chmod 600`. Empty on non-Unix systems.
pub fn exposed_secret_files(profile_path: &Path, profile: &Profile) -> Vec<String> {
    let mut files: Vec<PathBuf> = Vec::new();
    let secrets = profile.secrets();
    if let Ok(text) = std::fs::read_to_string(profile_path) {
        // Secrets given in the environment or by a `…_file` are not in the profile's text.
        if secrets.iter().any(|s| text.contains(s.as_str())) {
            files.push(profile_path.to_path_buf());
        }
    }
    files.extend(
        secret_file_paths(profile)
            .into_iter()
            .map(|p| profile.resolve(&p)),
    );
    files.dedup();
    files
        .into_iter()
        .filter_map(|f| {
            let mode = group_or_other_readable(&f)?;
            Some(format!(
                "{} holds a secret and is readable by other users (mode {mode:04o}): run `chmod 600 {}`",
                f.display(),
                f.display()
            ))
        })
        .collect()
}

/// Every `…_file` path that holds a secret (as written in the profile).
fn secret_file_paths(p: &Profile) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut push = |f: &Option<PathBuf>| {
        if let Some(f) = f {
            out.push(f.clone());
        }
    };
    if let Some(a) = &p.cloud.aliyun {
        push(&a.device_secret_file);
        push(&a.product_secret_file);
    }
    if let Some(o) = &p.cloud.onenet {
        push(&o.access_key_file);
    }
    if let Some(h) = &p.cloud.huawei {
        push(&h.secret_file);
        push(&h.product_secret_file);
    }
    if let Some(t) = &p.tls {
        push(&t.client_key_file);
    }
    out
}

/// The permission bits when group or others may read `path`.
#[cfg(unix)]
fn group_or_other_readable(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn group_or_other_readable(_path: &Path) -> Option<u32> {
    None
}
