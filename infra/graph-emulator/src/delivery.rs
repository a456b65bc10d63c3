//! Placeholder until its owner fills it in.

use crate::config::EmulatorConfig;

pub struct Delivery {}

impl Delivery {
    pub fn new(_config: &EmulatorConfig) -> Self {
        Delivery {}
    }
}
