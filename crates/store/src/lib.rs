//! The only crate with SQL: SQLite and PostgreSQL (shell)
