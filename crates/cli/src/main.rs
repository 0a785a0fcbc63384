//! `safetynet`: the one binary (CLI verbs and the web server).

fn main() {}
