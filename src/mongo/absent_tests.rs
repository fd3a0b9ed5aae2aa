//! The stand-in of a build without the Mongo engine (`absent.rs`) answers as this engine does
//! when it was never used: the page compares the two after moving a sandbox between modules.

use super::absent;
use super::{snapshot, Shell};

#[test]
fn the_stand_in_answers_as_an_unused_shell() {
    for limit in [None, Some(1024), Some(0)] {
        let mut real = Shell::new();
        let mut stand_in = absent::Shell::new();
        if let Some(bytes) = limit {
            real.set_memory_limit(bytes);
            stand_in.set_memory_limit(bytes);
        }
        let catalog = serde_json::to_string(&snapshot::catalog(real.store())).unwrap();
        assert_eq!(stand_in.catalog_json(), catalog);
        assert_eq!(stand_in.memory_limit(), real.memory_limit());
        assert_eq!(stand_in.current_db(), real.current_db());
        assert_eq!(stand_in.tick(1_000_000), real.tick(1_000_000));
    }
}
