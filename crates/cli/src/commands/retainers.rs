//! `leakhunt retainers`: why an object is still alive.

use anyhow::Result;

use crate::cli::RetainersArgs;

pub fn run(_args: &RetainersArgs) -> Result<u8> {
    anyhow::bail!("not yet")
}
