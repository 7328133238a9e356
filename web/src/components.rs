//! Components the screens share, each a piece of interface with no screen of its own.

pub mod choice;
