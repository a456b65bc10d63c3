//! Parsing of Graph change-notification collections (the webhook's untrusted input).
