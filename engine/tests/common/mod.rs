//! Test support: the TravelPlanner sandbox, read by the production reader
//! into a [`MemoryCatalog`], once per test binary.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use wayfare_engine::catalog::travelplanner::read_dir;
use wayfare_engine::catalog::{Catalog, ImportOptions, MemoryCatalog};

/// `<workspace>/../shared/datasets/travelplanner`.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/travelplanner")
}

/// The sandbox catalog; `None` (with a loud message) when the data folder is absent.
pub fn catalog() -> Option<Arc<dyn Catalog>> {
    static CATALOG: OnceLock<Option<Arc<MemoryCatalog>>> = OnceLock::new();
    let loaded = CATALOG.get_or_init(|| {
        let dir = data_dir();
        if !dir.exists() {
            eprintln!(
                "!!!!! SKIPPING: TravelPlanner data not found at {} !!!!!",
                dir.display()
            );
            return None;
        }
        let (data, _report) =
            read_dir(&dir, &ImportOptions::default(), &mut |_| {}).expect("sandbox reads");
        Some(Arc::new(MemoryCatalog::new(data)))
    });
    loaded.clone().map(|c| c as Arc<dyn Catalog>)
}

/// The sandbox's `file` as text.
pub fn read(file: &str) -> String {
    std::fs::read_to_string(data_dir().join(file)).expect("sandbox file")
}
