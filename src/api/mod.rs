//! The Levers API as the dialer speaks it: request types, the HTTP client with auth and
//! token refresh, and the classification of every answer into a failure class.

pub mod types;
pub mod outcome;

pub use outcome::Outcome;
pub use types::CallRequest;
