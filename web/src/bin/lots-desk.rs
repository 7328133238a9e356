//! The desk's app: the phone's screens, the supervisor's desk and the administrator's
//! console, for computers (see `lots_web::screens`). `cargo xtask` builds it beside the
//! phone's app, which Trunk builds (`main.rs`).

fn main() {
    lots_web::start_desk();
}
