//! Typed Graph resources: what we read and write, with Graph's field names kept at this edge.

pub mod datetime;
pub mod planner;
pub mod subscription;
pub mod todo;
mod windows_zones;

pub use datetime::{CalendarZone, DateTimeTimeZone, resolve_zone, windows_zone_names};
pub use planner::*;
pub use subscription::*;
pub use todo::*;
