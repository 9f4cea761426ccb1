//! `modem-sim`: not built yet (see the open issues).
