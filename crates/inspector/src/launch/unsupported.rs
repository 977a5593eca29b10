//! Launching elsewhere than Unix: not yet. The guardian needs process groups, signals and a
//! Unix socket; without it a launched service could outlive leakhunt, so nothing is launched
//! and the error says how to attach instead. [`Launched`] keeps its API so callers build
//! everywhere; no value of it can exist here.

use std::convert::Infallible;
use std::process::ExitStatus;
use std::time::Duration;

use super::LaunchOptions;
use crate::attach::Endpoint;
use crate::error::{InspectorError, Result};
use crate::session::Session;

/// A running service leakhunt started (never, on this platform).
pub struct Launched {
    never: Infallible,
}

pub(crate) fn launch(
    command: &[String],
    _env: &[(String, String)],
    _opts: &LaunchOptions,
) -> Result<Launched> {
    if command.is_empty() {
        return Err(InspectorError::EmptyCommand);
    }
    Err(InspectorError::Unsupported {
        what: "launching a service",
    })
}

impl Launched {
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        match self.never {}
    }
    pub fn endpoint(&self) -> &Endpoint {
        match self.never {}
    }
    pub fn ws_url(&self) -> &str {
        match self.never {}
    }
    pub fn pid(&self) -> u32 {
        match self.never {}
    }
    pub fn pgid(&self) -> i32 {
        match self.never {}
    }
    pub fn processes(&self) -> Vec<u32> {
        match self.never {}
    }
    pub fn listening_ports(&self) -> Vec<u16> {
        match self.never {}
    }
    pub fn notice(&self) -> Option<&str> {
        match self.never {}
    }
    pub fn recent_output(&self) -> Vec<String> {
        match self.never {}
    }
    pub fn wait_for_output(
        &self,
        _pred: impl Fn(&str) -> bool,
        _timeout: Duration,
    ) -> Option<String> {
        match self.never {}
    }
    pub fn connect(&self) -> Result<Session> {
        match self.never {}
    }
    pub fn check_running(&mut self) -> Result<()> {
        match self.never {}
    }
    pub fn shutdown(self) -> Result<ExitStatus> {
        match self.never {}
    }
}

impl std::fmt::Debug for Launched {
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.never {}
    }
}
