//! Multi-turn flows (placeholder).
