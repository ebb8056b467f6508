//! The Levers API as the dialer speaks it: request types, the HTTP client with auth and
//! token refresh, and the classification of every answer into a failure class.

pub mod classify;
pub mod client;
pub mod credentials;
mod direct;
pub mod endpoint;
pub mod error;
pub mod message;
pub mod outcome;
mod token;
mod transport;
pub mod types;

#[cfg(test)]
mod client_tests;

pub use classify::classify_response;
pub use client::{Attempt, LeversClient};
pub use credentials::{Credentials, Secret};
pub use endpoint::validate_api_url;
pub use error::ApiError;
pub use message::error_message;
pub use outcome::Outcome;
pub use types::CallRequest;
