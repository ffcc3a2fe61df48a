//! Knowledge-base entries (placeholder).
