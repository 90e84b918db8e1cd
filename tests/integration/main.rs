//! Integration tests: a real server on an ephemeral port, real clients over
//! real sockets on 127.0.0.1. One test binary (faster to build and link).

mod capacity;
mod channels;
mod cli;
mod client_auth;
mod client_reconnect;
mod close_codes;
mod cluster;
mod compression;
mod dashboard;
mod deltas;
mod examples;
mod faults;
mod fragments;
mod game;
mod heartbeat;
mod hostile;
mod logs;
mod monitor;
mod negotiation;
mod ordering;
mod restart;
mod resume;
mod resume_storm;
mod rooms;
mod security;
mod shutdown;
mod slow_reader;
mod tls;
