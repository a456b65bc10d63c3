//! The Microsoft Graph client: the only way the library talks to Graph.

mod error;

pub use error::GraphError;
