//! Reading and writing the few cookies the product sets.

use axum::http::HeaderMap;

pub const SESSION: &str = "sn_session";
pub const LOGIN_CSRF: &str = "sn_login_csrf";
pub const APPLY_CSRF: &str = "sn_apply_csrf";

pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// An HttpOnly, SameSite=Strict cookie for the whole site; `max_age` 0 removes it.
pub fn set(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}")
}
