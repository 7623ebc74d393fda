//! Warden engine: loads a checked policy, compiles it into decision tables and answers requests.
