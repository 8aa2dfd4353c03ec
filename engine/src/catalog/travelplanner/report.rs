//! What an import did with every file and row: [`ImportReport`], one
//! [`FileReport`] per file (rows read, imported, rejected with the line and
//! reason, left out as incomplete, unusable or duplicate), the progress
//! figures a reader reports as it goes, and the summary the CLI prints.

use std::fmt;
use std::time::Duration;

use super::CatalogFile;

/// Progress while reading (or, in the store, writing) one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProgress {
    /// The file (or table) being worked on, e.g. `accommodations.csv`.
    pub file: String,
    pub rows_done: u64,
    /// Known when writing; unknown while reading a file.
    pub rows_total: Option<u64>,
    /// Bytes of the file read so far and its size, when reading a file.
    pub bytes_done: u64,
    pub bytes_total: Option<u64>,
}

/// One row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIssue {
    /// The line the row starts on (1 = the header).
    pub line: u64,
    pub reason: String,
}

/// What happened to the rows of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    pub file: CatalogFile,
    /// The path (or name) it was read from.
    pub path: String,
    /// Data rows (and lines, for `cities.txt`) read, not counting the header.
    pub rows_read: u64,
    pub imported: u64,
    /// Rows with a value that could not be parsed.
    pub rejected: Vec<RowIssue>,
    /// Rows left out because a field was empty.
    pub incomplete: Vec<RowIssue>,
    /// Ground routes the benchmark cannot cost (no distance, a day or more).
    pub unusable: Vec<RowIssue>,
    /// Repeats of an earlier row's key; the first row won.
    pub duplicates: Vec<RowIssue>,
    pub elapsed: Duration,
}

impl FileReport {
    pub(super) fn new(file: CatalogFile, path: String) -> Self {
        Self {
            file,
            path,
            rows_read: 0,
            imported: 0,
            rejected: Vec::new(),
            incomplete: Vec::new(),
            unusable: Vec::new(),
            duplicates: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    /// Rows not imported for any reason.
    pub fn left_out(&self) -> u64 {
        (self.incomplete.len() + self.unusable.len() + self.duplicates.len()) as u64
    }
}

/// What happened to every file of an import.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportReport {
    pub files: Vec<FileReport>,
    pub elapsed: Duration,
}

impl ImportReport {
    /// The report of one file.
    pub fn file(&self, file: CatalogFile) -> Option<&FileReport> {
        self.files.iter().find(|f| f.file == file)
    }

    /// Every rejected row as `(path, line, reason)`, file by file.
    pub fn rejects(&self) -> impl Iterator<Item = (&str, u64, &str)> {
        self.files.iter().flat_map(|f| {
            f.rejected
                .iter()
                .map(move |r| (f.path.as_str(), r.line, r.reason.as_str()))
        })
    }

    /// Writes the per-file table and the first `max_rejects` rejects.
    pub fn write_summary(&self, out: &mut impl fmt::Write, max_rejects: usize) -> fmt::Result {
        writeln!(
            out,
            "{:<44} {:>8} {:>8} {:>8} {:>10} {:>8} {:>10} {:>9}",
            "file", "read", "imported", "rejected", "incomplete", "unusable", "duplicate", "time"
        )?;
        for f in &self.files {
            writeln!(
                out,
                "{:<44} {:>8} {:>8} {:>8} {:>10} {:>8} {:>10} {:>7.0}ms",
                f.path,
                f.rows_read,
                f.imported,
                f.rejected.len(),
                f.incomplete.len(),
                f.unusable.len(),
                f.duplicates.len(),
                f.elapsed.as_secs_f64() * 1000.0
            )?;
        }
        writeln!(out, "read in {:.2}s", self.elapsed.as_secs_f64())?;
        let total = self.rejects().count();
        if total > 0 {
            writeln!(out, "rejected rows ({total}):")?;
            for (path, line, reason) in self.rejects().take(max_rejects) {
                writeln!(out, "  {path}:{line}: {reason}")?;
            }
            if total > max_rejects {
                writeln!(out, "  … and {} more", total - max_rejects)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_summary(f, 20)
    }
}
