//! A server notices a catalog imported by another process and plans with it.

use std::sync::Arc;

use wayfare_engine::catalog::demo::demo_catalog;
use wayfare_engine::clock::SystemClock;
use wayfare_engine::runtime::{Runtime, RuntimeConfig};
use wayfare_server::commands::{open_catalog, refresh_catalog_if_changed};
use wayfare_store::Store;

#[tokio::test]
async fn an_import_by_another_process_is_picked_up_without_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/w.db", dir.path().display());
    let store = Store::connect(&url).await.expect("store");
    let catalog = open_catalog(&store).await.expect("demo catalog");
    assert!(catalog.city("Denver").is_some());
    let runtime = Runtime::start(
        RuntimeConfig::default(),
        store.clone(),
        catalog,
        Arc::new(SystemClock),
    )
    .await
    .expect("runtime");
    let mut seen = store.catalog_version().await.expect("version");
    assert!(
        !refresh_catalog_if_changed(&store, &runtime, &mut seen)
            .await
            .expect("poll")
    );

    // "Another process": a second connection imports a catalog without Denver.
    let other = Store::connect(&url).await.expect("second connection");
    let mut data = demo_catalog().expect("demo");
    data.cities.retain(|c| c.name != "Denver");
    other
        .import_catalog(&data, &mut |_| {})
        .await
        .expect("import");

    assert!(
        refresh_catalog_if_changed(&store, &runtime, &mut seen)
            .await
            .expect("poll")
    );
    assert!(runtime.catalog().city("Denver").is_none());
    assert!(runtime.planner().catalog().city("Denver").is_none());
    assert!(
        !refresh_catalog_if_changed(&store, &runtime, &mut seen)
            .await
            .expect("poll")
    );
    runtime.shutdown().await;
}
