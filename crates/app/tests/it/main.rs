//! The integration suite: one binary; every test runs against embedded SQLite and against PostgreSQL
//! (`SHANZHI_TEST_PG`, default `postgres://postgres@127.0.0.1:5432`, a fresh database per test). If PostgreSQL
//! cannot be reached the PostgreSQL tests fail; they are never skipped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod accounts_picker;
mod activation;
mod audit;
mod cli;
mod http;
mod imports;
mod jobs;
mod login_state;
mod matrix;
mod one_path_admin;
mod one_path_orgs;
mod one_path_pairing;
mod one_path_registration;
mod openapi_snapshot;
mod pairing_web;
mod registration_web;
mod rollups;
mod roster;
mod schemathesis;
mod scope;
mod store_contract;
mod text_input;
mod unregistered;
mod workbench;
