//! Where the results go. Every destination is checked before the run reads its input; each file
//! is then written to a temporary file in its destination's directory, and the temporaries are
//! renamed into place only when all of them are written. If a rename fails after an earlier one
//! succeeded, the earlier destination is put back as it was (see [`Staging::commit`]).

use crate::args::{CliError, runtime, usage};
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

/// Symbolic links followed before giving up (Linux's own limit is 40).
const MAX_LINKS: usize = 40;

/// One checked destination.
#[derive(Debug)]
pub struct Dest {
    /// The path as given, for messages.
    shown: PathBuf,
    /// The file a rename must replace: the given path with its symbolic links followed (so a
    /// link is written through, never replaced) and its directory made canonical.
    target: PathBuf,
    /// `target`'s metadata if it exists (then it is a regular file).
    existing: Option<Metadata>,
}

/// The checked destinations of a run.
#[derive(Debug)]
pub struct Dests {
    pub output: Dest,
    pub indices: Option<Dest>,
    pub grad_input: Option<Dest>,
}

/// What a file named on the command line holds, for the messages about two names of one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// INPUT.npy, read.
    Input,
    /// `--grad-output`, read.
    GradOutput,
    /// OUTPUT.npy, written.
    Output,
    /// `--indices`, written.
    Indices,
    /// `--grad-input`, written.
    GradInput,
}

impl Role {
    /// How the command line names it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Input => "INPUT.npy",
            Role::GradOutput => "--grad-output",
            Role::Output => "OUTPUT.npy",
            Role::Indices => "--indices",
            Role::GradInput => "--grad-input",
        }
    }
    fn holds(self) -> &'static str {
        match self {
            Role::Input => "the input",
            Role::GradOutput => "the output gradient",
            Role::Output => "the result",
            Role::Indices => "the indices",
            Role::GradInput => "the input gradient",
        }
    }
    fn is_read(self) -> bool {
        matches!(self, Role::Input | Role::GradOutput)
    }
}

/// The usage error for a destination `dest` that names the same file as `other` (a destination
/// named before it, or a file the run reads).
pub fn same_file(dest: Role, other: Role) -> CliError {
    if other.is_read() {
        usage(format!(
            "{} and {} name the same file: {} would overwrite {}",
            dest.name(),
            other.name(),
            dest.holds(),
            other.holds()
        ))
    } else {
        usage(format!("{} and {} name the same file", dest.name(), other.name()))
    }
}

/// A file the run reads, opened (its header read) before the destinations are checked.
pub struct Source<'a> {
    pub role: Role,
    /// The path as given.
    pub path: &'a Path,
    /// The opened file: its metadata is the file read, even if the path changed since.
    pub file: &'a File,
}

fn cannot(shown: &Path, why: impl std::fmt::Display) -> CliError {
    runtime(format!("cannot write {}: {why}", shown.display()))
}

/// What kind of file `meta` describes, if it is neither a regular file nor a symbolic link.
fn special_kind(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() || t.is_symlink() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO");
        } else if t.is_char_device() {
            return Some("a character device");
        } else if t.is_block_device() {
            return Some("a block device");
        } else if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("a special file")
}

/// Follows the symbolic links of the last component of `path` (a link to a missing file resolves
/// to that missing file, which will be created).
fn follow_links(shown: &Path, path: &Path) -> Result<PathBuf, CliError> {
    let mut p = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&p).map_err(|e| cannot(shown, e))?;
                // `join` keeps an absolute link target as it is.
                p = match p.parent() {
                    Some(dir) => dir.join(to),
                    None => to,
                };
            }
            Ok(_) => return Ok(p),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(p),
            Err(e) => return Err(cannot(shown, e)),
        }
    }
    Err(cannot(shown, "too many levels of symbolic links"))
}

impl Dest {
    /// Checks that `path` can be replaced by a new regular file: it is absent or a regular file
    /// (through any symbolic links), and its directory exists.
    fn check(path: &Path) -> Result<Dest, CliError> {
        if path.as_os_str().is_empty() {
            return Err(runtime("cannot write \"\": an empty path is not a file name"));
        }
        if path.as_os_str().as_encoded_bytes().ends_with(b"/") {
            return Err(cannot(path, "a path ending in '/' names a directory, not a file"));
        }
        let resolved = follow_links(path, path)?;
        let Some(name) = resolved.file_name() else {
            return Err(cannot(path, "it is a directory"));
        };
        let dir = match resolved.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let dir = fs::canonicalize(dir).map_err(|e| cannot(path, format!("its directory {}: {e}", dir.display())))?;
        if !dir.is_dir() {
            return Err(cannot(path, format!("{} is not a directory", dir.display())));
        }
        let target = dir.join(name);
        let existing = match fs::symlink_metadata(&target) {
            Ok(m) => match special_kind(&m) {
                Some("a directory") => return Err(cannot(path, "it is a directory")),
                Some(kind) => {
                    return Err(cannot(
                        path,
                        format!("not a regular file but {kind} (an output must be a regular file or a new name)"),
                    ));
                }
                // A symbolic link again: it changed since it was followed.
                None if m.file_type().is_symlink() => return Err(cannot(path, "it changed while it was checked")),
                None => Some(m),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(cannot(path, e)),
        };
        Ok(Dest { shown: path.to_path_buf(), target, existing })
    }

    /// Whether writing `self` would change the file `other` names (same directory and name, or
    /// the same file through another name).
    fn aliases(&self, other: &Dest) -> bool {
        self.target == other.target
            || matches!((&self.existing, &other.existing), (Some(a), Some(b)) if same_file_meta(a, b))
    }
}

#[cfg(unix)]
fn same_file_meta(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file_meta(_: &Metadata, _: &Metadata) -> bool {
    false
}

/// Checks every destination before anything is read or written: each must be absent or a
/// regular file (through symbolic links) in an existing directory, and none may be a file the
/// run reads or another destination, whatever the spelling (`./y.npy`, `d/../y.npy`, a symbolic
/// or hard link).
pub fn check(
    output: &Path,
    indices: Option<&Path>,
    grad_input: Option<&Path>,
    sources: &[Source<'_>],
) -> Result<Dests, CliError> {
    let output = Dest::check(output)?;
    let indices = indices.map(Dest::check).transpose()?;
    let grad_input = grad_input.map(Dest::check).transpose()?;
    let dests: Vec<(Role, &Dest)> =
        [(Role::Output, Some(&output)), (Role::Indices, indices.as_ref()), (Role::GradInput, grad_input.as_ref())]
            .into_iter()
            .filter_map(|(role, d)| d.map(|d| (role, d)))
            .collect();
    for (i, (role, dest)) in dests.iter().enumerate() {
        if let Some((earlier, _)) = dests[..i].iter().find(|(_, e)| dest.aliases(e)) {
            return Err(same_file(*role, *earlier));
        }
    }
    let read: Vec<(Role, Option<Metadata>, Option<PathBuf>)> =
        sources.iter().map(|s| (s.role, s.file.metadata().ok(), fs::canonicalize(s.path).ok())).collect();
    for (role, dest) in &dests {
        let named = |(_, meta, target): &&(Role, Option<Metadata>, Option<PathBuf>)| {
            target.as_ref() == Some(&dest.target)
                || matches!((&dest.existing, meta), (Some(a), Some(b)) if same_file_meta(a, b))
        };
        if let Some((source, _, _)) = read.iter().find(named) {
            return Err(same_file(*role, *source));
        }
    }
    Ok(Dests { output, indices, grad_input })
}

/// Runs `make` on fresh short names `.sp<pid>-<n>.tmp` in `dir` until it does not find the name
/// taken. The names are short so that any valid destination name works (NAME_MAX is for the
/// destination alone), and hidden.
fn fresh_name<T>(dir: &Path, mut make: impl FnMut(&Path) -> io::Result<T>) -> io::Result<(PathBuf, T)> {
    let pid = std::process::id();
    for n in 0..1000u32 {
        let path = dir.join(format!(".sp{pid}-{n}.tmp"));
        match make(&path) {
            Ok(v) => return Ok((path, v)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(io::ErrorKind::AlreadyExists, "no free temporary file name"))
}

/// A rename onto `dest` from a temporary file with metadata `temp` would fail for a reason known
/// now: the destination is a mount point, or it belongs to someone else in a sticky directory.
#[cfg(unix)]
fn rename_blocker(dest: &Dest, temp: &Metadata) -> Option<&'static str> {
    use std::os::unix::fs::MetadataExt;
    let old = dest.existing.as_ref()?;
    if old.dev() != temp.dev() {
        return Some("it is a mount point (another file system is mounted on it)");
    }
    let dir = fs::metadata(dest.target.parent()?).ok()?;
    let me = temp.uid();
    let sticky = dir.mode() & 0o1000 != 0;
    if sticky && me != 0 && old.uid() != me && dir.uid() != me {
        return Some("it belongs to another user in a sticky directory, so it cannot be replaced");
    }
    None
}

#[cfg(not(unix))]
fn rename_blocker(_: &Dest, _: &Metadata) -> Option<&'static str> {
    None
}

/// Files written to temporaries, not yet renamed into place. Dropping it removes the temporaries.
#[derive(Default)]
pub struct Staging<'a> {
    files: Vec<(&'a Dest, PathBuf)>,
}

impl<'a> Staging<'a> {
    /// Writes a temporary file for `dest` with `write` (buffered), giving it the permissions of
    /// the file it will replace.
    pub fn add(
        &mut self,
        dest: &'a Dest,
        write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
    ) -> Result<(), CliError> {
        let dir = dest.target.parent().unwrap_or(Path::new("."));
        let create = |p: &Path| OpenOptions::new().write(true).create_new(true).open(p);
        let (temp, file) = fresh_name(dir, create).map_err(|e| cannot(&dest.shown, e))?;
        // Registered first, so that an error below removes it.
        self.files.push((dest, temp));
        let meta = file.metadata().map_err(|e| cannot(&dest.shown, e))?;
        if let Some(why) = rename_blocker(dest, &meta) {
            return Err(cannot(&dest.shown, why));
        }
        let mut w = BufWriter::with_capacity(1 << 16, file);
        write(&mut w).map_err(|e| cannot(&dest.shown, e))?;
        let file = w.into_inner().map_err(|e| cannot(&dest.shown, e.error()))?;
        if let Some(old) = &dest.existing {
            // Best effort: the new file keeps the old one's mode.
            let _ = file.set_permissions(old.permissions());
        }
        Ok(())
    }

    /// Renames every temporary into place, in order. Before each rename but the last, a file it
    /// replaces is kept under a second (hard-linked) name, so that if a later rename fails, the
    /// earlier destinations are put back: the old file renamed back, or the new file removed if
    /// there was none. Only if that hard link cannot be made (a file system without hard links)
    /// and a later rename fails does an earlier destination stay replaced; the error says so.
    pub fn commit(mut self) -> Result<(), CliError> {
        let files = std::mem::take(&mut self.files);
        // Renamed so far, each with the hard link to the file it replaced, if any.
        let mut done: Vec<(&Dest, Option<PathBuf>)> = Vec::new();
        for (i, (dest, temp)) in files.iter().enumerate() {
            let backup = match (&dest.existing, i + 1 < files.len()) {
                (Some(_), true) => {
                    let dir = dest.target.parent().unwrap_or(Path::new("."));
                    fresh_name(dir, |p| fs::hard_link(&dest.target, p)).ok().map(|(p, ())| p)
                }
                _ => None,
            };
            if let Err(e) = fs::rename(temp, &dest.target) {
                if let Some(b) = &backup {
                    let _ = fs::remove_file(b);
                }
                for (_, t) in &files[i..] {
                    let _ = fs::remove_file(t);
                }
                return Err(cannot(&dest.shown, format!("{e}{}", undo(done))));
            }
            done.push((dest, backup));
        }
        for (_, backup) in done {
            if let Some(b) = backup {
                let _ = fs::remove_file(b);
            }
        }
        Ok(())
    }
}

/// Puts back the destinations already renamed into place; says what it did, for the error line.
fn undo(done: Vec<(&Dest, Option<PathBuf>)>) -> String {
    let mut notes = Vec::new();
    for (dest, backup) in done.into_iter().rev() {
        let restored = match (&dest.existing, backup) {
            (Some(_), Some(b)) => fs::rename(&b, &dest.target).is_ok(),
            (None, _) => fs::remove_file(&dest.target).is_ok(),
            (Some(_), None) => false,
        };
        notes.push(if restored {
            format!("{} was left as it was", dest.shown.display())
        } else {
            format!("{} was already replaced and could not be restored", dest.shown.display())
        });
    }
    if notes.is_empty() { String::new() } else { format!(" ({})", notes.join(", ")) }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        for (_, temp) in &self.files {
            let _ = fs::remove_file(temp);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The undo path of `commit`, which the checks in `check` keep the command itself from
    //! reaching: the second rename fails because its destination became a directory after the
    //! check.
    use super::*;
    use std::io::Write;

    struct TempDir(PathBuf);
    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let d = std::env::temp_dir().join(format!("simdpool-output-{}-{tag}", std::process::id()));
            let _ = fs::remove_dir_all(&d);
            fs::create_dir_all(&d).unwrap();
            TempDir(d)
        }
        fn listing(&self) -> Vec<String> {
            let mut v: Vec<String> =
                fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
            v.sort();
            v
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn fail_second_rename(first_exists: bool) {
        let dir = TempDir::new(if first_exists { "undo-present" } else { "undo-absent" });
        let (a, b) = (dir.0.join("a.npy"), dir.0.join("b.npy"));
        if first_exists {
            fs::write(&a, b"old a").unwrap();
        }
        let (da, db) = (Dest::check(&a).unwrap(), Dest::check(&b).unwrap());
        // b becomes a non-empty directory after the check: its rename fails.
        fs::create_dir(&b).unwrap();
        fs::write(b.join("keep"), b"").unwrap();
        let mut staging = Staging::default();
        staging.add(&da, |w| w.write_all(b"new a")).unwrap();
        staging.add(&db, |w| w.write_all(b"new b")).unwrap();
        let err = staging.commit().unwrap_err().to_string();
        assert!(err.starts_with(&format!("cannot write {}", b.display())), "{err}");
        assert!(err.contains("a.npy was left as it was"), "{err}");
        if first_exists {
            assert_eq!(fs::read(&a).unwrap(), b"old a");
            assert_eq!(dir.listing(), ["a.npy", "b.npy"]);
        } else {
            assert!(!a.exists());
            assert_eq!(dir.listing(), ["b.npy"]);
        }
    }

    #[test]
    fn a_failed_second_rename_puts_the_first_destination_back() {
        fail_second_rename(true);
        fail_second_rename(false);
    }

    #[test]
    fn a_failed_write_leaves_no_temporary() {
        let dir = TempDir::new("write-error");
        let d = Dest::check(&dir.0.join("y.npy")).unwrap();
        let mut staging = Staging::default();
        let err = staging.add(&d, |_| Err(io::Error::other("disk full"))).unwrap_err();
        drop(staging);
        assert!(err.to_string().ends_with("disk full"), "{err}");
        assert!(dir.listing().is_empty());
    }
}
