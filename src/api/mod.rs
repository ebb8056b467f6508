//! The Levers API as the dialer speaks it: request types, the HTTP client with auth and
//! token refresh, and the classification of every answer into a failure class.

pub mod outcome;
pub mod types;

pub use outcome::Outcome;
pub use types::CallRequest;
