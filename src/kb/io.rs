//! Knowledge-base import/export (placeholder).
