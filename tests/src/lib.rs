//! Shared helpers of the cross-crate tests in `tests/tests/`.
