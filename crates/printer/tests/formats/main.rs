//! The printer's file formats on small handmade findings: golden files (insta) of every
//! renderer, the SARIF checked against the official schema, the HTML opened in a real
//! browser.

mod browser;
mod fixtures;
mod golden;
mod sarif_schema;
#[path = "../support/sarif_schema.rs"]
mod schema;
