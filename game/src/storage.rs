//! What the game keeps in the browser between visits: the player id and the
//! finishes not yet acknowledged. `localStorage` in the browser; natively, a
//! map that lives as long as the process (development runs only).
//!
//! The keys are shared with `index.html`, which reads the player id to list
//! "my participations".

/// The player id the server issued.
pub const PLAYER_KEY: &str = "dreamFairy.player";
/// Finished rounds whose receipt has not arrived yet (see [`crate::outbox`]).
pub const OUTBOX_KEY: &str = "dreamFairy.outbox";
/// The share code the player first arrived with (`/s/{code}`), written by
/// the page and sent with every round start.
pub const REFERRAL_KEY: &str = "dreamFairy.referral";

/// The stored value under `key`, if any.
pub fn load(key: &str) -> Option<String> {
    backend::load(key)
}

/// Stores `value` under `key`. Failing to store (private browsing, a full
/// quota) is reported on the console; the game plays on without it.
pub fn save(key: &str, value: &str) {
    if let Err(problem) = backend::save(key, value) {
        crate::bridge::report_error(&format!("cannot keep {key}: {problem}"));
    }
}

#[cfg(target_arch = "wasm32")]
mod backend {
    fn local_storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok().flatten()
    }

    pub fn load(key: &str) -> Option<String> {
        local_storage()?.get_item(key).ok().flatten()
    }

    pub fn save(key: &str, value: &str) -> Result<(), String> {
        let storage = local_storage().ok_or("local storage is unavailable")?;
        storage
            .set_item(key, value)
            .map_err(|error| format!("{error:?}"))
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod backend {
    use std::cell::RefCell;
    use std::collections::HashMap;

    thread_local! {
        static VALUES: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
    }

    pub fn load(key: &str) -> Option<String> {
        VALUES.with_borrow(|values| values.get(key).cloned())
    }

    pub fn save(key: &str, value: &str) -> Result<(), String> {
        VALUES.with_borrow_mut(|values| values.insert(key.to_owned(), value.to_owned()));
        Ok(())
    }
}
