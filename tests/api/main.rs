//! API tests: the server on a random port with a fresh SQLite file, played over real HTTP and
//! WebSockets. One test binary (faster to link); one module per feature.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod app;
mod auth;
mod bootstrap;
mod bot;
mod cluster;
mod conformance;
mod conversation;
mod crash;
mod customers;
mod delivery;
mod deploy;
mod helpers;
mod ivr;
mod loadgen;
mod one_id;
mod ops;
mod permissions;
mod restart;
mod routing;
mod routing_ops;
mod routing_rules;
mod sms;
mod sockets;
mod staff;
mod staff_import;
mod supervision;
mod validation;
mod wechat;
mod wechat_messages;
