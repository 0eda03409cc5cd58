//! A router as every action reaches it.

use radius_dac::DacClient;
use shareguard_scan::NasTarget;

/// A router as actions reach it: the API, and RADIUS when set up.
#[derive(Debug, Clone)]
pub struct Router {
    pub target: NasTarget,
    pub radius: Option<DacClient>,
}
