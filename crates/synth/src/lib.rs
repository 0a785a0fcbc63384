//! Deterministic synthetic Tongliang households and places for demos and benchmarks
