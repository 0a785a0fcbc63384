//! Use cases: permission check, load, core, store and audit in one transaction (shell)
