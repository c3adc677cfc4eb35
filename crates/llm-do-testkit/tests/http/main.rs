//! Behaviour tests of the test server, over real HTTP on loopback. Every test is bounded by
//! [`support::within`], so a hang fails instead of stalling.

mod binary;
mod default_behaviour;
mod faults;
mod lifecycle;
mod recording;
mod routes;
mod script;
mod streaming;
mod support;
