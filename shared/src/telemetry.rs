//! Structured logging: JSON without ANSI colours in Lambda, readable text locally.
