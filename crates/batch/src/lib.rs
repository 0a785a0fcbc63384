//! Streaming batch jobs over JSON Lines files: assess (shell)
