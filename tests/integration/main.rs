//! Integration tests: a real server on an ephemeral port, real clients over
//! real sockets on 127.0.0.1. One test binary (faster to build and link).

mod negotiation;
mod rooms;
