//! axum pages in Simplified Chinese and the JSON API (shell)
